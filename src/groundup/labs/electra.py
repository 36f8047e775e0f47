"""Lab: ELECTRA against masked language modelling at the same compute, and ALBERT's savings.

1. A WordPiece vocabulary is trained on the text (the embedded corpus of Python docstrings,
   or a UTF-8 file with --data), as in the bert lab. Documents (runs of paragraphs) are cut
   into windows [CLS] ... [SEP] of seq_len tokens; 15 % of the documents are held out.
2. Three encoders of the same width and depth are pre-trained with the same budget of
   training FLOPs, counted from the matrix multiplications that run (forward + backward =
   3 x forward; the generator's share included for ELECTRA):
     (a) BERT: masked language modelling (80/10/10 masking, MLM only);
     (b) ELECTRA: a generator a quarter as wide fills the masked positions by sampling, and
         the discriminator (the BERT-sized encoder we keep) labels every token replaced or
         original; loss = MLM + 50 * BCE, shared embeddings;
     (c) ALBERT-style MLM: factorised embeddings (vocab x E, then E -> hidden) and one set of
         layer weights used for every layer: fewer parameters, nearly the same compute.
   A model that costs more per step gets fewer steps. On held-out windows: the MLM loss of
   (a), (c) and ELECTRA's generator against the unigram loss, and the discriminator's
   accuracy, BCE and ROC AUC against the constant guess "nothing replaced".
3. Downstream: two tasks built from the text, on sentences of at least five words, half of
   them changed: (i) two neighbouring words swapped, (ii) one word replaced by a random
   word of the corpus. Each frozen encoder, and a randomly initialised one as the floor,
   gets a linear probe (logistic regression on the mean of its token vectors), trained on
   sentences of the training documents and tested on the held-out ones.
"""

from __future__ import annotations

import math
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.finetune.schedule import linear_warmup_decay
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.bert import split_documents, unigram_loss
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.metrics.classification import roc_auc
from groundup.models.bert import Bert, BertConfig
from groundup.models.bert_pretraining import IGNORE, BertForPreTraining, mask_batch
from groundup.models.electra import Electra
from groundup.text.wordpiece import WordPieceTokenizer

LAB = "electra"
MODELS = ("bert", "electra", "albert")


@dataclass
class Config(LabConfig):
    max_chars: int = 400_000  # 0: the whole text
    vocab: int = 1000
    d_model: int = 32
    n_heads: int = 2
    n_layers: int = 2
    seq_len: int = 32
    steps: int = 2000  # BERT's steps; they set the FLOP budget every model gets
    batch_size: int = 32
    lr: float = 3e-3
    warmup_iters: int = 100
    weight_decay: float = 0.01
    mlm_probability: float = 0.15
    generator_fraction: float = 0.25  # generator width / discriminator width
    discriminator_weight: float = 50.0
    albert_embedding: int = 8  # ALBERT's E (< d_model)
    eval_every: int = 250
    paragraphs_per_document: int = 8


PRESETS: dict[str, dict] = {
    "micro": {"max_chars": 100_000, "vocab": 500, "steps": 250, "batch_size": 16,
              "warmup_iters": 20, "eval_every": 50},
    "tiny": {},
    "full": {"max_chars": 0, "vocab": 4000, "d_model": 256, "n_heads": 4, "n_layers": 4,
             "seq_len": 128, "steps": 5000, "lr": 5e-4, "warmup_iters": 500,
             "albert_embedding": 64},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "mlm_probability": Msg(
        "share of ordinary tokens masked for the MLM of BERT, ALBERT and ELECTRA's generator",
        "Anteil der gewöhnlichen Tokens, die für das MLM von BERT, ALBERT und dem Generator "
        "von ELECTRA maskiert werden",
    ),
    "generator_fraction": Msg(
        "width of ELECTRA's generator as a share of the discriminator's (the paper: 1/4 to 1/2)",
        "Breite des ELECTRA-Generators als Anteil der Diskriminator-Breite (im Paper 1/4 bis 1/2)",
    ),
    "discriminator_weight": Msg(
        "lambda in MLM + lambda * BCE: how much the replaced-token loss counts",
        "lambda in MLM + lambda * BCE: wie stark der Verlust der Ersetzungserkennung zählt",
    ),
    "albert_embedding": Msg(
        "embedding width E of the ALBERT-style model (vocab x E, then E -> d_model)",
        "Embedding-Breite E des ALBERT-artigen Modells (Vokabular x E, dann E -> d_model)",
    ),
    "paragraphs_per_document": Msg(
        "consecutive paragraphs that form one document (held out as a whole)",
        "aufeinanderfolgende Absätze, die ein Dokument bilden (als Ganzes zurückgehalten)",
    ),
}

PRETRAINING = Msg("Pre-training {model}", "{model} vortrainieren")
PROBING = Msg("Linear probes on two sentence tasks", "Lineare Sonden auf zwei Satzaufgaben")
ONLY_CPU = Msg(
    "This lab trains on the CPU only; use --device cpu or auto.",
    "Dieses Lab trainiert nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_SMALL = Msg(
    "{source}: {count} {what}; this lab needs at least {needed}.",
    "{source}: {count} {what}; dieses Lab braucht mindestens {needed}.",
)

WORD = re.compile(r"[A-Za-z]+")
TASK_TITLES = {"swapped_words": "two neighbouring words swapped?",
               "replaced_word": "one word replaced by a random word?"}  # fmt: skip


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if min(cfg.d_model, cfg.n_heads, cfg.n_layers, cfg.steps, cfg.batch_size, cfg.eval_every,
           cfg.paragraphs_per_document) < 1:  # fmt: skip
        problems.append("d_model, n_heads, n_layers, steps, batch_size, eval_every, "
                        "and paragraphs_per_document must be >= 1")  # fmt: skip
    if cfg.d_model % cfg.n_heads:
        problems.append("d_model must be divisible by n_heads")
    if not 0 < cfg.generator_fraction <= 1 or cfg.d_model * cfg.generator_fraction < 4:
        problems.append("generator_fraction must lie in (0, 1], with d_model * it >= 4")
    if not 0 < cfg.albert_embedding < cfg.d_model:
        problems.append("albert_embedding must lie between 1 and d_model - 1")
    if cfg.vocab < 100 or cfg.seq_len < 8:
        problems.append("vocab must be >= 100 and seq_len >= 8")
    if not 0 < cfg.mlm_probability < 1 or cfg.lr <= 0 or cfg.max_chars < 0:
        problems.append("mlm_probability must lie in (0, 1), lr > 0, "
                        "max_chars >= 0")  # fmt: skip
    if cfg.discriminator_weight < 0:
        problems.append("discriminator_weight must be >= 0")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


# ---------------------------------------------------------------- the three models


def configs(cfg: Config, vocab_size: int) -> dict[str, BertConfig]:
    """BERT, ALBERT and ELECTRA's discriminator share width and depth; the generator is
    generator_fraction as wide and reads the discriminator's embeddings (width d_model)."""
    common = dict(vocab_size=vocab_size, num_hidden_layers=cfg.n_layers,
                  max_position_embeddings=cfg.seq_len, hidden_dropout_prob=0.0,
                  attention_probs_dropout_prob=0.0)  # fmt: skip
    full = BertConfig(hidden_size=cfg.d_model, num_attention_heads=cfg.n_heads,
                      intermediate_size=4 * cfg.d_model, **common)  # fmt: skip
    width = max(4, round(cfg.d_model * cfg.generator_fraction))
    heads = max(1, round(cfg.n_heads * cfg.generator_fraction))
    while width % heads:
        heads -= 1
    generator = BertConfig(hidden_size=width, num_attention_heads=heads,
                           intermediate_size=4 * width, embedding_size=cfg.d_model, **common)  # fmt: skip
    albert = BertConfig(hidden_size=cfg.d_model, num_attention_heads=cfg.n_heads,
                        intermediate_size=4 * cfg.d_model, embedding_size=cfg.albert_embedding,
                        share_layers=True, **common)  # fmt: skip
    return {"bert": full, "discriminator": full, "generator": generator, "albert": albert}


def encoder_flops(config: BertConfig, tokens: int, T: int) -> float:
    """Forward FLOPs (2 per multiply-add) of the encoder over `tokens` tokens in rows of T:
    per layer the four H x H projections, the feed-forward pair and attention's two T x H
    products (scores and weighted sum); plus the E -> H projection if embeddings are
    factorised. Sharing layers saves parameters, not FLOPs: each layer still runs."""
    H, E = config.hidden_size, config.embedding_size or config.hidden_size
    per_layer = 4 * H * H + 2 * H * config.intermediate_size + 2 * T * H
    return 2.0 * tokens * (config.num_hidden_layers * per_layer + (E * H if E != H else 0))


def mlm_head_flops(config: BertConfig, rows: int) -> float:
    """The MLM head at the `rows` masked positions: dense H -> E, then the E x vocab decoder."""
    E = config.embedding_size or config.hidden_size
    return 2.0 * rows * (config.hidden_size * E + E * config.vocab_size)


def step_flops(model: str, shapes: dict[str, BertConfig], cfg: Config) -> float:
    """Training FLOPs of one step at full windows: 3 x forward (the backward pass costs about
    twice the forward). Only the masked positions run the vocabulary-sized decoder."""
    B, T = cfg.batch_size, cfg.seq_len
    rows = B * (T - 2) * cfg.mlm_probability
    if model == "electra":
        generator, discriminator = shapes["generator"], shapes["discriminator"]
        H = discriminator.hidden_size
        forward = (encoder_flops(generator, B * T, T) + mlm_head_flops(generator, rows)
                   + encoder_flops(discriminator, B * T, T) + 2.0 * B * T * (H * H + H))  # fmt: skip
    else:
        forward = encoder_flops(shapes[model], B * T, T) + mlm_head_flops(shapes[model], rows)
    return 3.0 * forward


def parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())  # a tied matrix counts once


# ---------------------------------------------------------------- data


def windows(documents: list[list[list[int]]], length: int) -> list[list[int]]:
    """Each document's tokens in one stream, cut into pieces of `length` (the last, shorter
    piece of a document kept if it has at least 8 tokens)."""
    pieces = []
    for document in documents:
        stream = [t for sentence in document for t in sentence]
        for start in range(0, len(stream), length):
            if len(stream[start : start + length]) >= 8:
                pieces.append(stream[start : start + length])
    return pieces


def encode_rows(rows: list[list[int]], tokenizer: WordPieceTokenizer) -> dict[str, Tensor]:
    """[CLS] row [SEP], padded on the right: input_ids, attention_mask, token_type_ids."""
    T = max(len(r) for r in rows) + 2
    input_ids = torch.full((len(rows), T), tokenizer.pad_id, dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, : len(row) + 2] = torch.tensor([tokenizer.cls_id, *row, tokenizer.sep_id])
    attention_mask = (input_ids != tokenizer.pad_id).long()
    return {"input_ids": input_ids, "attention_mask": attention_mask,
            "token_type_ids": torch.zeros_like(input_ids)}  # fmt: skip


def masked(batch: dict[str, Tensor], tokenizer: WordPieceTokenizer, cfg: Config,
           g: torch.Generator) -> dict[str, Tensor]:  # fmt: skip
    ids, labels = mask_batch(batch["input_ids"], tokenizer, cfg.mlm_probability, g)
    return batch | {"input_ids": ids, "labels": labels}


def swap_two_words(sentence: str, rng: random.Random) -> str | None:
    """The sentence with two neighbouring, different, purely alphabetic words swapped (never
    the first word, whose capital letter would give the swap away); None if there are none."""
    words = sentence.split(" ")
    places = [i for i in range(1, len(words) - 1)
              if WORD.fullmatch(words[i]) and WORD.fullmatch(words[i + 1])
              and words[i].lower() != words[i + 1].lower()]  # fmt: skip
    if not places:
        return None
    i = rng.choice(places)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def word_order_task(documents: list[list[str]], tokenizer: WordPieceTokenizer, length: int,
                    rng: random.Random) -> tuple[list[list[int]], list[int]]:  # fmt: skip
    """Sentences of at least five words; each becomes one example, kept (0) or swapped (1)
    with probability 1/2, never both, so no pair of twins crosses the split."""
    rows, labels = [], []
    for document in documents:
        for sentence in document:
            if len(sentence.split(" ")) < 5:
                continue
            swapped = swap_two_words(sentence, rng)
            if swapped is None:
                continue
            label = int(rng.random() < 0.5)
            ids = tokenizer.encode(swapped if label else sentence, add_special_tokens=False)
            rows.append(ids.input_ids[:length])
            labels.append(label)
    return rows, labels


def replaced_word_task(documents: list[list[str]], words: list[str],
                       tokenizer: WordPieceTokenizer, length: int, rng: random.Random
                       ) -> tuple[list[list[int]], list[int]]:  # fmt: skip
    """Sentences of at least five words; half of them (label 1) get one word, never the
    first, replaced by a word drawn from `words`. Each sentence is one example, either kept
    or changed, so no pair of twins crosses the train/test split."""
    rows, labels = [], []
    for document in documents:
        for sentence in document:
            sentence_words = sentence.split(" ")
            if len(sentence_words) < 5:
                continue
            label = int(rng.random() < 0.5)
            if label:
                sentence_words[rng.randrange(1, len(sentence_words))] = rng.choice(words)
            ids = tokenizer.encode(" ".join(sentence_words), add_special_tokens=False)
            rows.append(ids.input_ids[:length])
            labels.append(label)
    return rows, labels


# ---------------------------------------------------------------- pre-training


def mlm_loss(model: BertForPreTraining, batch: dict[str, Tensor]) -> Tensor:
    """The MLM loss with the decoder run only at the masked positions (as the FLOPs count)."""
    hidden = model.bert(batch["input_ids"], batch["attention_mask"]).last_hidden_state
    chosen = batch["labels"] != IGNORE
    return F.cross_entropy(model.cls.predictions(hidden[chosen]), batch["labels"][chosen])


def binary_entropy(p: float) -> float:
    return 0.0 if p in (0.0, 1.0) else -(p * math.log(p) + (1 - p) * math.log(1 - p))


@torch.no_grad()
def evaluate(model: nn.Module, batch: dict[str, Tensor]) -> dict[str, float]:
    model.eval()
    if isinstance(model, Electra):
        # a fixed seed: every evaluation corrupts the held-out text with the same draws
        out = model.masked_forward(batch["input_ids"], batch["labels"], batch["attention_mask"],
                                   generator=torch.Generator().manual_seed(0))  # fmt: skip
        real = batch["attention_mask"].bool()
        said_replaced = (out.discriminator_logits[real] > 0).float()
        metrics = {
            "mlm_loss": out.mlm_loss.item(),
            "bce": out.discriminator_loss.item(),
            "accuracy": (said_replaced == out.is_replaced[real]).float().mean().item(),
            # a constant "original" is right wherever the generator's draw left the text as is
            "all_original_accuracy": 1.0 - out.is_replaced[real].mean().item(),
            # the best constant guess, the share of replaced tokens, scores their entropy
            "all_original_bce": binary_entropy(out.is_replaced[real].mean().item()),
            # 0.5: no better than chance at ranking replaced tokens above original ones
            "auc": roc_auc(out.is_replaced[real].tolist(), out.discriminator_logits[real].tolist()),
        }
    else:
        assert isinstance(model, BertForPreTraining)
        metrics = {"mlm_loss": mlm_loss(model, batch).item()}
    model.train()
    return metrics


def pretrain(name: str, model: nn.Module, steps: int, flops_per_step: float,
             train_rows: list[list[int]], eval_batch: dict[str, Tensor],
             tokenizer: WordPieceTokenizer, cfg: Config, log: runner.MetricsLog
             ) -> tuple[dict[str, tuple[list[float], list[float]]], float]:  # fmt: skip
    """Train one model for `steps` steps; (held-out curves against FLOPs, CPU seconds)."""
    cpu_start = time.process_time()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: linear_warmup_decay(s, cfg.warmup_iters, steps)
    )
    rng = random.Random(cfg.seed)  # every model sees the same windows in the same order
    masking = torch.Generator().manual_seed(cfg.seed)
    sampling = torch.Generator().manual_seed(cfg.seed + 1)
    curves: dict[str, tuple[list[float], list[float]]] = {}
    order: list[list[int]] = []
    every = max(1, round(cfg.eval_every * cfg.steps / max(steps, 1)))  # same FLOPs apart
    with runner.progress(steps, PRETRAINING.get(model=name), cfg.quiet) as bar:
        for step in range(1, steps + 1):
            if len(order) < cfg.batch_size:
                order = train_rows[:]
                rng.shuffle(order)
            rows, order = order[: cfg.batch_size], order[cfg.batch_size :]
            batch = masked(encode_rows(rows, tokenizer), tokenizer, cfg, masking)
            if isinstance(model, Electra):
                loss = model.masked_forward(batch["input_ids"], batch["labels"],
                                            batch["attention_mask"], generator=sampling).loss  # fmt: skip
            else:
                assert isinstance(model, BertForPreTraining)
                loss = mlm_loss(model, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            if step % every == 0 or step == steps:
                metrics = evaluate(model, eval_batch)
                flops = step * flops_per_step
                log.log(model=name, step=step, flops=flops, train_loss=loss.item(), **metrics)
                for key, value in metrics.items():
                    xs, ys = curves.setdefault(key, ([], []))
                    xs.append(flops)
                    ys.append(value)
                bar.update(info=f"mlm {metrics['mlm_loss']:.2f}")
            else:
                bar.update()
    return curves, time.process_time() - cpu_start


# ---------------------------------------------------------------- downstream


@torch.no_grad()
def sentence_features(encoder: Bert, rows: list[list[int]], tokenizer: WordPieceTokenizer
                      ) -> np.ndarray:  # fmt: skip
    """(N, hidden): the mean of the encoder's last-layer vectors over each sentence's real
    tokens ([CLS] and [SEP] included), computed once; the encoder stays frozen."""
    encoder.eval()
    out = []
    for start in range(0, len(rows), 256):
        batch = encode_rows(rows[start : start + 256], tokenizer)
        hidden = encoder(batch["input_ids"], batch["attention_mask"]).last_hidden_state
        weights = batch["attention_mask"].unsqueeze(-1).float()
        out.append(((hidden * weights).sum(1) / weights.sum(1)).numpy())
    encoder.train()
    return np.concatenate(out)


def probe(encoder: Bert, train: tuple[list[list[int]], list[int]],
          test: tuple[list[list[int]], list[int]], tokenizer: WordPieceTokenizer) -> float:  # fmt: skip
    """Test accuracy of a logistic regression on the frozen sentence features: how much of
    what the task needs the pre-training has put where a linear layer can read it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    classifier.fit(sentence_features(encoder, train[0], tokenizer), train[1])
    return float(classifier.score(sentence_features(encoder, test[0], tokenizer), test[1]))


# ---------------------------------------------------------------- plots


def pretraining_plot(path: Path, curves: dict[str, dict[str, tuple[list[float], list[float]]]],
                     unigram: float) -> Path:  # fmt: skip
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    labels = {"bert": "BERT (MLM)", "albert": "ALBERT-style (MLM)",
              "electra": "ELECTRA's generator (MLM)"}  # fmt: skip
    for name in ("bert", "albert", "electra"):
        xs, ys = curves[name]["mlm_loss"]
        left.plot([x / 1e12 for x in xs], ys, marker="o", markersize=3, label=labels[name])
    xs, _ = curves["bert"]["mlm_loss"]
    left.plot([0, xs[-1] / 1e12], [unigram, unigram], "k--", label="unigram (no context)")
    left.set_title("Held-out masked-token loss")
    left.set_ylabel("cross-entropy (nats)")
    left.legend(loc="lower left")
    xs, ys = curves["electra"]["auc"]
    right.plot([x / 1e12 for x in xs], ys, marker="o", markersize=3, label="discriminator")
    right.plot([0, xs[-1] / 1e12], [0.5, 0.5], "k--", label="chance")
    right.set_title("ELECTRA: held-out replaced-token detection")
    right.set_ylabel("ROC AUC (replaced above original)")
    for ax in (left, right):
        ax.set_xlabel("training compute (TFLOPs, generator included)")
        ax.grid(alpha=0.3)
    right.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def downstream_plot(path: Path, accuracies: dict[str, dict[str, float]],
                    test_sizes: dict[str, int]) -> Path:  # fmt: skip
    """Grouped bars: one group per task, one bar per encoder, with one binomial standard
    error (how large a gap the test-set size can resolve) and the chance line."""
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.4), dpi=110)
    tasks = list(accuracies)
    encoders = list(accuracies[tasks[0]])
    width = 0.8 / len(encoders)
    colours = ["#999999", "#4c72b0", "#dd8452", "#55a868"]
    for e, encoder in enumerate(encoders):
        xs = [t + (e - (len(encoders) - 1) / 2) * width for t in range(len(tasks))]
        values = [accuracies[task][encoder] for task in tasks]
        errors = [
            math.sqrt(v * (1 - v) / test_sizes[task]) for v, task in zip(values, tasks, strict=True)
        ]
        ax.bar(xs, values, width, yerr=errors, capsize=3, label=encoder,
               color=colours[e % len(colours)])  # fmt: skip
        for x, value in zip(xs, values, strict=True):
            ax.text(x, value + 0.02, f"{value:.2f}", ha="center", fontsize=8)
    ax.axhline(0.5, color="black", linestyle="--", linewidth=1)
    names = [f"{TASK_TITLES[task]}\n({test_sizes[task]} test sentences)" for task in tasks]
    ax.set_xticks(range(len(tasks)), names)
    ax.set_ylim(0.3, 1.0)
    ax.set_ylabel("test accuracy (linear probe, frozen encoder)")
    ax.set_title("Downstream: is the sentence intact? (dashed: chance)")
    ax.legend(ncol=len(encoders), fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- the lab


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    text, source = runner.load_text(cfg.data, min_chars=1000, max_chars=cfg.max_chars)
    documents = split_documents(text, cfg.paragraphs_per_document)
    if len(documents) < 20:
        raise LabError(TOO_SMALL.get(source=source, count=len(documents), needed=20,
                                     what="documents with at least two sentences"))  # fmt: skip

    with runner.one_torch_thread():
        cpu_start = time.process_time()
        tokenizer = WordPieceTokenizer.train(["\n".join(s) for s in documents], cfg.vocab)
        random.Random(cfg.seed).shuffle(documents)
        n_eval = max(2, round(len(documents) * 0.15))
        eval_docs, train_docs = documents[:n_eval], documents[n_eval:]
        ids = [[tokenizer.encode(s, add_special_tokens=False).input_ids for s in doc]
               for doc in train_docs]  # fmt: skip
        eval_ids = [[tokenizer.encode(s, add_special_tokens=False).input_ids for s in doc]
                    for doc in eval_docs]  # fmt: skip
        train_rows = windows(ids, cfg.seq_len - 2)
        eval_rows = windows(eval_ids, cfg.seq_len - 2)[:256]
        if len(train_rows) < cfg.batch_size or len(eval_rows) < 8:
            raise LabError(TOO_SMALL.get(source=source, count=len(train_rows), needed=cfg.batch_size,
                                         what="training windows"))  # fmt: skip
        eval_batch = masked(encode_rows(eval_rows, tokenizer), tokenizer, cfg,
                            torch.Generator().manual_seed(0))  # fmt: skip
        unigram = unigram_loss(ids, eval_batch["labels"], tokenizer.vocab_size)

        shapes = configs(cfg, tokenizer.vocab_size)
        per_step = {name: step_flops(name, shapes, cfg) for name in MODELS}
        budget = cfg.steps * per_step["bert"]
        log = runner.MetricsLog(out / "metrics.jsonl")
        curves, cpu, steps, models = {}, {}, {}, {}
        for name in MODELS:
            torch.manual_seed(cfg.seed)
            if name == "electra":
                model: nn.Module = Electra(shapes["generator"], shapes["discriminator"],
                                           discriminator_weight=cfg.discriminator_weight)  # fmt: skip
            else:
                model = BertForPreTraining(shapes[name], nsp=False)
            steps[name] = max(1, round(budget / per_step[name]))
            curves[name], cpu[name] = pretrain(name, model.train(), steps[name], per_step[name],
                                               train_rows, eval_batch, tokenizer, cfg, log)  # fmt: skip
            models[name] = model

        rng = random.Random(cfg.seed)
        words = sorted({w.lower() for doc in train_docs for sentence in doc
                        for w in sentence.split(" ") if WORD.fullmatch(w)})  # fmt: skip
        length = cfg.seq_len - 2
        tasks = {
            "swapped_words": (word_order_task(train_docs, tokenizer, length, rng),
                              word_order_task(eval_docs, tokenizer, length, rng)),
            "replaced_word": (replaced_word_task(train_docs, words, tokenizer, length, rng),
                              replaced_word_task(eval_docs, words, tokenizer, length, rng)),
        }  # fmt: skip
        test_sizes = {task: len(test[0]) for task, (_, test) in tasks.items()}
        if min(test_sizes.values()) < 50:
            raise LabError(TOO_SMALL.get(source=source, count=min(test_sizes.values()),
                                         needed=50, what="held-out sentences of five words"))  # fmt: skip
        torch.manual_seed(cfg.seed)
        encoders = {
            "random": Bert(shapes["bert"], add_pooling_layer=False),
            "BERT": models["bert"].bert,
            "ALBERT": models["albert"].bert,
            "ELECTRA": models["electra"].discriminator.electra,
        }
        accuracies: dict[str, dict[str, float]] = {task: {} for task in tasks}
        with runner.progress(len(encoders) * len(tasks), PROBING.get(), cfg.quiet) as bar:
            for name, encoder in encoders.items():
                for task, (train, test) in tasks.items():
                    accuracies[task][name] = probe(encoder, train, test, tokenizer)
                    log.log(model=name, task=task, probe_accuracy=accuracies[task][name])
                    bar.update(info=f"{name} {task} {accuracies[task][name]:.3f}")
        log.close()
        cpu_seconds = time.process_time() - cpu_start

    final = {name: {key: ys[-1] for key, (_, ys) in curves[name].items()} for name in MODELS}
    electra: Electra = models["electra"]  # type: ignore[assignment]
    artifacts = {
        "metrics": out / "metrics.jsonl",
        "pretraining_plot": pretraining_plot(out / "pretraining.png", curves, unigram),
        "downstream_plot": downstream_plot(out / "downstream.png", accuracies, test_sizes),
    }
    tokenizer.save_pretrained(out / "tokenizer")
    summary: dict[str, float | int | str] = {
        "source": source,
        "vocab_size": tokenizer.vocab_size,
        "budget_tflops": budget / 1e12,
        "bert_steps": steps["bert"],
        "electra_steps": steps["electra"],
        "albert_steps": steps["albert"],
        "bert_parameters": parameters(models["bert"]),
        "albert_parameters": parameters(models["albert"]),
        "electra_discriminator_parameters": parameters(electra.discriminator),
        "electra_generator_only_parameters": parameters(electra)
        - parameters(electra.discriminator),
        "unigram_loss": unigram,
        "bert_mlm_loss": final["bert"]["mlm_loss"],
        "albert_mlm_loss": final["albert"]["mlm_loss"],
        "generator_mlm_loss": final["electra"]["mlm_loss"],
        "discriminator_accuracy": final["electra"]["accuracy"],
        "all_original_accuracy": final["electra"]["all_original_accuracy"],
        "discriminator_auc": final["electra"]["auc"],
        "discriminator_bce": final["electra"]["bce"],
        "all_original_bce": final["electra"]["all_original_bce"],
        **{
            f"{task}_{name.lower()}": value
            for task, row in accuracies.items()
            for name, value in row.items()
        },  # fmt: skip
        **{f"{task}_test_size": size for task, size in test_sizes.items()},
        **{f"{name}_cpu_seconds": cpu[name] for name in MODELS},
        "cpu_seconds": cpu_seconds,
    }
    return LabReport(LAB, out, summary, artifacts, seconds=timer.seconds)
