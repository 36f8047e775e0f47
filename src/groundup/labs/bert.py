"""Lab: pre-train a tiny BERT on the CPU, then see what a real pre-trained encoder gives.

1. A WordPiece vocabulary is trained on the text (the embedded corpus of Python docstrings,
   or a UTF-8 file with --data).
2. The text becomes documents (runs of consecutive paragraphs) of sentences; 10 % of the
   documents are held out. Sentence pairs for next-sentence prediction: half true next
   sentences, half random sentences from another document.
3. A small BERT learns masked language modelling (a fresh 80/10/10 masking of every batch,
   RoBERTa's dynamic masking) and, unless nsp is off, next-sentence prediction. On the
   held-out pairs (masked once, with a fixed generator) it measures the MLM loss and
   accuracy and the NSP accuracy, and compares the MLM loss with the unigram loss: what a
   model that ignores the context entirely would get.
4. Fill in the blank: the trained model's top guesses for [MASK] in a few sentences.
5. The real all-MiniLM-L6-v2 (22M parameters, pre-trained and then trained on sentence
   pairs): the cosine similarity of a handful of sentence embeddings, as a heatmap, and
   each sentence's nearest neighbour. MiniLM keeps no MLM head, so it cannot fill blanks.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from groundup.finetune.schedule import linear_warmup_decay
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.models.bert import BertConfig, SentenceEncoder, default_folder
from groundup.models.bert_pretraining import (
    IGNORE,
    BertForPreTraining,
    SentencePair,
    mask_batch,
    nsp_pairs,
    pair_batch,
)
from groundup.text.wordpiece import MASK, WordPieceTokenizer

LAB = "bert"
BLANKS = (
    "Return a new [MASK] containing the items.",
    "Raise an exception if the file does not [MASK].",
    "The default [MASK] is None.",
    "Return the number of [MASK] in the list.",
    "This function is not thread [MASK].",
)
SENTENCES = (
    "A man is eating food.",
    "Someone is having a meal.",
    "The cat sleeps on the sofa.",
    "A kitten is napping on the couch.",
    "Open the file and read its lines.",
    "Read every line of a text file.",
    "The stock market fell sharply today.",
    "Share prices dropped this afternoon.",
)


@dataclass
class Config(LabConfig):
    max_chars: int = 400_000  # 0: the whole text
    vocab: int = 1000
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 2
    seq_len: int = 64  # [CLS] A [SEP] B [SEP] is cut to this many tokens
    steps: int = 1200
    batch_size: int = 32
    lr: float = 2e-3
    warmup_iters: int = 100
    weight_decay: float = 0.01
    mlm_probability: float = 0.15
    nsp: bool = True
    eval_every: int = 100
    paragraphs_per_document: int = 8
    model: str = ""  # a BERT sentence-transformers folder; "" = the bundled all-MiniLM-L6-v2


PRESETS: dict[str, dict] = {
    "micro": {"max_chars": 120_000, "vocab": 500, "d_model": 64, "n_heads": 2, "seq_len": 40,
              "steps": 300, "batch_size": 16, "lr": 3e-3, "warmup_iters": 30,
              "eval_every": 50},
    "tiny": {},
    "full": {"max_chars": 0, "vocab": 4000, "d_model": 256, "n_layers": 4, "seq_len": 128,
             "steps": 3000, "eval_every": 250, "lr": 5e-4, "warmup_iters": 300},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "mlm_probability": Msg(
        "share of ordinary tokens chosen for prediction (80 % [MASK], 10 % random, 10 % kept)",
        "Anteil der gewöhnlichen Tokens, die vorhergesagt werden (80 % [MASK], 10 % zufällig, "
        "10 % unverändert)",
    ),
    "nsp": Msg(
        "also train next-sentence prediction (off: MLM only, as RoBERTa)",
        "zusätzlich Next-Sentence-Prediction trainieren (aus: nur MLM, wie RoBERTa)",
    ),
    "paragraphs_per_document": Msg(
        "consecutive paragraphs that form one document for sentence pairs",
        "aufeinanderfolgende Absätze, die ein Dokument für Satzpaare bilden",
    ),
    "model": Msg(
        "folder of a pre-trained BERT sentence encoder (empty: the bundled all-MiniLM-L6-v2)",
        "Ordner eines vortrainierten BERT-Satz-Encoders (leer: das mitgelieferte all-MiniLM-L6-v2)",
    ),
}

TRAINING = Msg("Pre-training BERT", "BERT vortrainieren")
ONLY_CPU = Msg(
    "This lab pre-trains on the CPU only; use --device cpu or auto.",
    "Dieses Lab trainiert nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_SMALL = Msg(
    "{source}: {documents} documents with at least two sentences; this lab needs 20.",
    "{source}: {documents} Dokumente mit mindestens zwei Sätzen; dieses Lab braucht 20.",
)
NO_MODEL = Msg(
    "{folder} is not a BERT sentence encoder folder: {detail}",
    "{folder} ist kein Ordner eines BERT-Satz-Encoders: {detail}",
)
BLANKS_TITLE = Msg(
    "Fill in the blank (the tiny BERT's top 5 guesses):",
    "Lückentext (die 5 besten Vorschläge des kleinen BERT):",
)
NEIGHBOURS_TITLE = Msg(
    "Nearest neighbour of each sentence (pre-trained MiniLM, cosine):",
    "Nächster Nachbar jedes Satzes (vortrainiertes MiniLM, Kosinus):",
)

SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if min(cfg.d_model, cfg.n_heads, cfg.n_layers, cfg.steps, cfg.batch_size,
           cfg.eval_every, cfg.paragraphs_per_document) < 1:  # fmt: skip
        problems.append("d_model, n_heads, n_layers, steps, batch_size, eval_every and "
                        "paragraphs_per_document must be >= 1")  # fmt: skip
    if cfg.d_model % cfg.n_heads:
        problems.append("d_model must be divisible by n_heads")
    if cfg.vocab < 100 or cfg.seq_len < 8:
        problems.append("vocab must be >= 100 and seq_len >= 8")
    if not 0 < cfg.mlm_probability < 1 or cfg.lr <= 0 or cfg.max_chars < 0:
        problems.append("mlm_probability must lie in (0, 1), lr > 0, max_chars >= 0")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


def split_documents(text: str, paragraphs_per_document: int) -> list[list[str]]:
    """Runs of consecutive paragraphs, each a list of its sentences (lines count as ends)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    documents = []
    for start in range(0, len(paragraphs), paragraphs_per_document):
        chunk = "\n".join(paragraphs[start : start + paragraphs_per_document])
        sentences = [s.strip() for s in SENTENCE_END.split(chunk) if len(s.strip()) > 1]
        if len(sentences) >= 2:
            documents.append(sentences)
    return documents


def unigram_loss(train_docs: list[list[list[int]]], labels: torch.Tensor, vocab: int) -> float:
    """Cross-entropy of the held-out targets under the training tokens' frequencies (add-one):
    the best a model can do that ignores the context."""
    counts = Counter(t for doc in train_docs for sentence in doc for t in sentence)
    total = sum(counts.values()) + vocab
    targets = labels[labels != IGNORE].tolist()
    return -sum(math.log((counts[t] + 1) / total) for t in targets) / len(targets)


@torch.no_grad()
def evaluate(model: BertForPreTraining, batch: dict[str, torch.Tensor]) -> dict[str, float]:
    model.eval()
    out = model(**batch) if model.nsp else model(**drop_nsp(batch))
    model.train()
    chosen = batch["labels"] != IGNORE
    guesses = out.prediction_logits.argmax(-1)
    metrics = {
        "mlm_loss": out.mlm_loss.item(),
        "mlm_accuracy": (guesses[chosen] == batch["labels"][chosen]).float().mean().item(),
    }
    if out.seq_relationship_logits is not None:
        right = out.seq_relationship_logits.argmax(-1) == batch["next_sentence_label"]
        metrics["nsp_accuracy"] = right.float().mean().item()
    return metrics


def training_loss(
    model: BertForPreTraining, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(MLM loss, total loss), the same numbers as model(**batch), but the vocabulary-sized
    decoder runs only at the ~15 % masked positions: the rest of its logits are ignored
    anyway, and with a small model the decoder is a large share of the work."""
    out = model.bert(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    chosen = batch["labels"] != IGNORE
    logits = model.cls.predictions(out.last_hidden_state[chosen])
    mlm_loss = F.cross_entropy(logits, batch["labels"][chosen])
    if not model.nsp:
        return mlm_loss, mlm_loss
    nsp_logits = model.cls.seq_relationship(out.pooler_output)
    return mlm_loss, mlm_loss + F.cross_entropy(nsp_logits, batch["next_sentence_label"])


def drop_nsp(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in batch.items() if k != "next_sentence_label"}


def masked_pairs(
    pairs: list[SentencePair], tokenizer: WordPieceTokenizer, cfg: Config, g: torch.Generator
) -> dict[str, torch.Tensor]:
    batch = pair_batch(pairs, tokenizer)
    batch["input_ids"], batch["labels"] = mask_batch(
        batch["input_ids"], tokenizer, cfg.mlm_probability, g
    )
    return batch


def fill_blanks(model: BertForPreTraining, tokenizer: WordPieceTokenizer) -> list[str]:
    lines = [BLANKS_TITLE.get()]
    model.eval()
    for sentence in BLANKS:
        encoding = tokenizer.encode(sentence)
        ids = torch.tensor([encoding.input_ids])
        with torch.no_grad():
            logits = model(ids).prediction_logits[0]
        where = encoding.input_ids.index(tokenizer.vocab[MASK])
        top = logits[where].topk(5).indices.tolist()
        lines.append(f"  {sentence}\n    -> {', '.join(tokenizer.id_to_token[i] for i in top)}")
    return lines


def load_encoder(cfg: Config) -> tuple[SentenceEncoder, str]:
    folder = str(default_folder(cfg.model))
    try:
        return SentenceEncoder.from_pretrained(folder, allow_download=False), folder
    except (FileNotFoundError, KeyError, ValueError) as error:
        raise LabError(NO_MODEL.get(folder=folder, detail=error)) from None


def similarity_plot(path: Path, similarity: torch.Tensor) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(8, 6.5), dpi=110)
    image = ax.imshow(similarity.numpy(), cmap="viridis", vmin=-0.1, vmax=1.0)
    labels = [s if len(s) < 34 else s[:32] + "…" for s in SENTENCES]
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            value = similarity[i, j].item()
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if value > 0.6 else "white")  # fmt: skip
    fig.colorbar(image, ax=ax, label="cosine similarity")
    ax.set_title("all-MiniLM-L6-v2: cosine similarity of sentence embeddings")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    text, source = runner.load_text(cfg.data, min_chars=1000, max_chars=cfg.max_chars)
    encoder, folder = load_encoder(cfg)  # a wrong folder fails now, not after training
    documents = split_documents(text, cfg.paragraphs_per_document)
    if len(documents) < 20:
        raise LabError(TOO_SMALL.get(source=source, documents=len(documents)))

    with runner.one_torch_thread():
        cpu_start = time.process_time()
        tokenizer = WordPieceTokenizer.train(["\n".join(s) for s in documents], cfg.vocab)
        ids = [[tokenizer.encode(s, add_special_tokens=False).input_ids for s in doc]
               for doc in documents]  # fmt: skip
        ids = [[s for s in doc if s] for doc in ids]
        ids = [doc for doc in ids if len(doc) >= 2]
        random.Random(cfg.seed).shuffle(ids)
        n_eval = max(2, len(ids) // 10)
        eval_docs, train_docs = ids[:n_eval], ids[n_eval:]
        rng = random.Random(cfg.seed)
        eval_pairs = nsp_pairs(eval_docs, rng, cfg.seq_len)[:512]
        eval_batch = masked_pairs(eval_pairs, tokenizer, cfg, torch.Generator().manual_seed(0))
        baseline = unigram_loss(train_docs, eval_batch["labels"], tokenizer.vocab_size)

        config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=cfg.d_model,
                            num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads,
                            intermediate_size=4 * cfg.d_model,
                            max_position_embeddings=cfg.seq_len, hidden_dropout_prob=0.0,
                            attention_probs_dropout_prob=0.0)  # fmt: skip
        model = BertForPreTraining(config, nsp=cfg.nsp).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr,
                                      weight_decay=cfg.weight_decay)  # fmt: skip
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: linear_warmup_decay(s, cfg.warmup_iters, cfg.steps)
        )
        masking = torch.Generator().manual_seed(cfg.seed)
        log = runner.MetricsLog(out / "metrics.jsonl")
        curve: dict[str, tuple[list[float], list[float]]] = {
            "train mlm_loss": ([], []), "held-out mlm_loss": ([], []),
            "held-out mlm_accuracy": ([], []), "held-out nsp_accuracy": ([], []),
        }  # fmt: skip
        pairs: list[SentencePair] = []
        metrics: dict[str, float] = {}
        with runner.progress(cfg.steps, TRAINING.get(), cfg.quiet) as bar:
            for step in range(1, cfg.steps + 1):
                if len(pairs) < cfg.batch_size:  # a new epoch: new pairs, new random halves
                    pairs = nsp_pairs(train_docs, rng, cfg.seq_len)
                    rng.shuffle(pairs)
                chosen, pairs = pairs[: cfg.batch_size], pairs[cfg.batch_size :]
                batch = masked_pairs(chosen, tokenizer, cfg, masking)
                mlm_loss, loss = training_loss(model, batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                curve["train mlm_loss"][0].append(step)
                curve["train mlm_loss"][1].append(mlm_loss.item())
                if step % cfg.eval_every == 0 or step == cfg.steps:
                    metrics = evaluate(model, eval_batch)
                    log.log(step=step, train_loss=loss.item(), **metrics)
                    for name, value in metrics.items():
                        curve[f"held-out {name}"][0].append(step)
                        curve[f"held-out {name}"][1].append(value)
                    bar.update(info=f"mlm {metrics['mlm_loss']:.2f} "
                                    f"acc {metrics['mlm_accuracy']:.2f}")  # fmt: skip
                else:
                    bar.update()
        log.close()
        cpu_seconds = time.process_time() - cpu_start
        blanks = fill_blanks(model, tokenizer)

    embeddings = encoder.encode(list(SENTENCES))
    similarity = embeddings @ embeddings.T  # unit vectors: the dot product is the cosine
    neighbour_lines = [NEIGHBOURS_TITLE.get()]
    partner_hits = 0
    for i, sentence in enumerate(SENTENCES):
        scores = similarity[i].clone()
        scores[i] = -2.0
        j = int(scores.argmax())
        partner_hits += j == (i ^ 1)  # the sentences come in pairs: 0-1, 2-3, ...
        neighbour_lines.append(f"  {sentence:<38} -> {SENTENCES[j]} ({scores[j]:.2f})")
    paired = similarity[torch.arange(0, 8, 2), torch.arange(1, 8, 2)].mean().item()
    unrelated = similarity[torch.triu(torch.ones(8, 8, dtype=torch.bool), 1)].mean().item()

    artifacts = {
        "metrics": out / "metrics.jsonl",
        "loss_plot": runner.save_line_plot(
            out / "mlm_loss.png",
            {
                "train (batch)": curve["train mlm_loss"],
                "held-out": curve["held-out mlm_loss"],
                "unigram (held-out)": ([1, cfg.steps], [baseline, baseline]),
            },
            "Masked language modelling loss",
            "step",
            "cross-entropy (nats)",
        ),  # fmt: skip
        "accuracy_plot": runner.save_line_plot(
            out / "accuracy.png",
            {
                name.removeprefix("held-out "): curve[name]
                for name in curve
                if "accuracy" in name and curve[name][0]
            },
            "Held-out accuracy",
            "step",
            "accuracy",
        ),  # fmt: skip
        "similarity_plot": similarity_plot(out / "minilm_similarity.png", similarity),
    }
    tokenizer.save_pretrained(out / "tokenizer")
    model.save_pretrained(out / "model")
    artifacts["model"] = out / "model"
    summary: dict[str, float | int | str] = {
        "source": source,
        "documents": len(ids),
        "vocab_size": tokenizer.vocab_size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "unigram_loss": baseline,
        **metrics,
        "minilm_paired_cosine": paired,
        "minilm_mean_cosine": unrelated,
        "minilm_partner_is_nearest": f"{partner_hits}/{len(SENTENCES)}",
        "encoder": "all-MiniLM-L6-v2" if not cfg.model else folder,
        "cpu_seconds": cpu_seconds,
    }
    return LabReport(LAB, out, summary, artifacts, text="\n".join(blanks + neighbour_lines),
                     seconds=timer.seconds)  # fmt: skip
