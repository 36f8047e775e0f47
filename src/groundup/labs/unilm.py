"""Lab: one small Transformer, three language models, switched by the attention mask.

1. A WordPiece vocabulary is trained on the text (the embedded corpus of Python docstrings,
   or a UTF-8 file with --data); 10 % of the documents are held out.
2. Two kinds of packed rows [SOS] S1 [EOS] S2 [EOS]: natural pairs (a sentence and the one
   after it) for the cloze and the left-to-right objective, and a sequence-to-sequence
   task whose S2 is a deterministic function of S1 that cannot be guessed without reading
   it: S1 is a span of 3 to max_span tokens of a sentence, S2 the same tokens in reverse.
3. UniLM: every training step takes batch_size rows for each of the three objectives
   (bidirectional cloze, left-to-right next token, seq2seq next token of S2) and sums their
   losses; one set of weights, one optimizer step. Three more models of the same size and
   initialisation each train on one objective only, on the very same rows, for the same
   number of steps.
4. Held out, every model is measured under every mask: cloze accuracy (bidirectional),
   next-token loss (left-to-right), the teacher-forced seq2seq loss and, at the end, the
   greedy reversal under the seq2seq mask (exact match, token accuracy).

With objective_segments, each objective also gets its own pair of segment embeddings, as
in the paper; by default only the mask tells the objectives apart.

Plots: the three masks of one packed row, the held-out loss of each objective for all four
models, and the training loss of each objective, UniLM against its single-objective twin.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from groundup.finetune.schedule import linear_warmup_decay
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.bert import split_documents
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.models.bert import BertConfig
from groundup.models.bert_pretraining import (
    IGNORE,
    BertForPreTraining,
    cut_pair,
    special_tokens_mask,
)
from groundup.models.unilm import (
    MODES,
    attention_masks,
    generate,
    labelled_logits,
    objective_batch,
    segment_layout,
    unilm_loss,
)
from groundup.text.wordpiece import MASK, WordPieceTokenizer

LAB = "unilm"
MODELS = ("unilm", "bidirectional only", "left-to-right only", "seq2seq only")
ROWS = {"bidirectional": "natural", "left-to-right": "natural", "seq2seq": "reversal"}
METRIC = {"bidirectional": "cloze", "left-to-right": "next_token", "seq2seq": "seq2seq"}
Pair = tuple[list[int], list[int]]  # S1 and S2 token ids, no special tokens


@dataclass
class Config(LabConfig):
    max_chars: int = 400_000  # 0: the whole text
    vocab: int = 800
    d_model: int = 96
    n_heads: int = 4
    n_layers: int = 2
    seq_len: int = 48  # a natural pair [SOS] S1 [EOS] S2 [EOS] is cut to this many tokens
    max_span: int = 6  # the reversal task reverses spans of 3..max_span tokens
    steps: int = 700
    batch_size: int = 16  # rows per objective and step
    lr: float = 3e-3
    warmup_iters: int = 50
    weight_decay: float = 0.01
    mlm_probability: float = 0.15
    eval_every: int = 50
    eval_rows: int = 128  # held-out rows per objective
    single_objective: bool = True  # also train the three single-objective models
    objective_segments: bool = False  # a pair of segment embeddings per objective (paper)


PRESETS: dict[str, dict] = {
    "micro": {"max_chars": 80_000, "vocab": 400, "d_model": 64, "seq_len": 32, "max_span": 4,
              "steps": 200, "batch_size": 12, "lr": 4e-3, "warmup_iters": 20,
              "eval_every": 50, "eval_rows": 64, "single_objective": False},
    "tiny": {},
    "full": {"max_chars": 0, "vocab": 2000, "d_model": 192, "n_layers": 4, "seq_len": 64,
             "max_span": 10, "steps": 3000, "batch_size": 32, "lr": 1e-3,
             "warmup_iters": 200, "eval_every": 200, "eval_rows": 512},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "max_span": Msg(
        "longest span (in tokens) the seq2seq task reverses; spans have 3..max_span tokens",
        "längster Abschnitt (in Tokens), den die Seq2seq-Aufgabe umkehrt; 3 bis max_span Tokens",
    ),
    "mlm_probability": Msg(
        "share of tokens chosen for the cloze task (80 % [MASK], 10 % random, 10 % kept)",
        "Anteil der Tokens für den Lückentext (80 % [MASK], 10 % zufällig, 10 % unverändert)",
    ),
    "eval_rows": Msg(
        "held-out rows per objective for the evaluation",
        "zurückgehaltene Zeilen pro Trainingsziel für die Auswertung",
    ),
    "objective_segments": Msg(
        "give each objective its own pair of segment embeddings, as the paper does",
        "jedem Trainingsziel ein eigenes Paar Segment-Embeddings geben, wie im Paper",
    ),
    "single_objective": Msg(
        "also train one model per objective on the same rows, for comparison",
        "zum Vergleich zusätzlich je ein Modell pro Trainingsziel auf denselben Zeilen trainieren",
    ),
}

TRAINING = Msg("Training UniLM and its single-objective twins", "UniLM und Einzelziel-Modelle")
ONLY_CPU = Msg(
    "This lab trains on the CPU only; use --device cpu or auto.",
    "Dieses Lab trainiert nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_SMALL = Msg(
    "{source}: {pairs} sentence pairs; this lab needs at least 200.",
    "{source}: {pairs} Satzpaare; dieses Lab braucht mindestens 200.",
)
TABLE_TITLE = Msg(
    "Held-out, every model under every mask:",
    "Zurückgehaltene Daten, jedes Modell unter jeder Maske:",
)
SAMPLES_TITLE = Msg(
    "Greedy reversal by UniLM under the seq2seq mask (S1 -> generated | expected):",
    "Gierige Umkehrung durch UniLM unter der Seq2seq-Maske (S1 -> erzeugt | erwartet):",
)


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if min(cfg.d_model, cfg.n_heads, cfg.n_layers, cfg.steps, cfg.batch_size,
           cfg.eval_every, cfg.eval_rows) < 1:  # fmt: skip
        problems.append("d_model, n_heads, n_layers, steps, batch_size, eval_every and "
                        "eval_rows must be >= 1")  # fmt: skip
    if cfg.d_model % cfg.n_heads:
        problems.append("d_model must be divisible by n_heads")
    if cfg.vocab < 100 or cfg.seq_len < 12:
        problems.append("vocab must be >= 100 and seq_len >= 12")
    if not 3 <= cfg.max_span <= cfg.seq_len - 3:
        problems.append("max_span must lie in [3, seq_len - 3]")
    if not 0 < cfg.mlm_probability < 1 or cfg.lr <= 0 or cfg.max_chars < 0:
        problems.append("mlm_probability must lie in (0, 1), lr > 0, max_chars >= 0")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


# ---------------------------------------------------------------- data


def natural_pairs(documents: list[list[list[int]]], seq_len: int) -> list[Pair]:
    """(sentence, next sentence) within each document, cut to seq_len with the specials."""
    return [
        cut_pair(list(document[i]), list(document[i + 1]), seq_len - 3)
        for document in documents
        for i in range(len(document) - 1)
    ]


def reversal_pairs(
    documents: list[list[list[int]]], max_span: int, rng: random.Random
) -> list[Pair]:
    """(span, span reversed): one span of 3..max_span tokens from every long enough sentence."""
    pairs = []
    for document in documents:
        for sentence in document:
            if len(sentence) < 3:
                continue
            length = rng.randint(3, min(max_span, len(sentence)))
            start = rng.randint(0, len(sentence) - length)
            span = sentence[start : start + length]
            pairs.append((span, span[::-1]))
    return pairs


def pack(pairs: list[Pair], tokenizer: WordPieceTokenizer, padding: int = 0) -> dict[str, Tensor]:
    """[SOS] S1 [EOS] S2 [EOS] rows ([CLS] and [SEP] play [SOS] and [EOS]), padded right to
    the longest row (plus `padding` more positions)."""
    first, second = [len(a) for a, _ in pairs], [len(b) for _, b in pairs]
    T = max(a + b + 3 for a, b in zip(first, second, strict=True)) + padding
    token_type_ids, attention_mask = segment_layout(first, second, T)
    input_ids = torch.full((len(pairs), T), tokenizer.pad_id, dtype=torch.long)
    for row, (a, b) in enumerate(pairs):
        ids = [tokenizer.cls_id, *a, tokenizer.sep_id, *b, tokenizer.sep_id]
        input_ids[row, : len(ids)] = torch.tensor(ids)
    return {"input_ids": input_ids, "token_type_ids": token_type_ids,
            "attention_mask": attention_mask}  # fmt: skip


def with_objective(
    rows: dict[str, Tensor], mode: str, tokenizer: WordPieceTokenizer, cfg: Config,
    g: torch.Generator,
) -> dict[str, Tensor]:  # fmt: skip
    """The packed rows plus inputs and labels for one objective (a fresh cloze masking)."""
    specials = special_tokens_mask(rows["input_ids"], tokenizer)
    inputs, labels = objective_batch(
        rows["input_ids"], rows["token_type_ids"], rows["attention_mask"], mode, specials,
        tokenizer.vocab[MASK], tokenizer.vocab_size, cfg.mlm_probability, g,
    )  # fmt: skip
    return {**rows, "inputs": inputs, "labels": labels}


def loss_of(model: BertForPreTraining, batch: dict[str, Tensor], mode: str) -> Tensor:
    return unilm_loss(model, batch["inputs"], batch["token_type_ids"],
                      batch["attention_mask"], batch["labels"], mode)  # fmt: skip


# ---------------------------------------------------------------- evaluation


def unigram_baseline(train_labels: Tensor, held_labels: Tensor, vocab_size: int) -> float:
    """Cross-entropy of the held-out targets under the training targets' frequencies
    (add-one): the best any model does that ignores the context."""
    counts = torch.bincount(train_labels[train_labels != IGNORE], minlength=vocab_size) + 1.0
    log_p = (counts / counts.sum()).log()
    return -log_p[held_labels[held_labels != IGNORE]].mean().item()


@torch.no_grad()
def evaluate(model: BertForPreTraining, held: dict[str, dict[str, Tensor]]) -> dict[str, float]:
    """cloze loss and accuracy, next-token loss, seq2seq loss: each under its own mask."""
    model.eval()
    metrics = {}
    for mode, name in zip(MODES, ("cloze", "next_token", "seq2seq"), strict=True):
        batch = held[mode]
        logits, targets = labelled_logits(
            model, batch["inputs"], batch["token_type_ids"], batch["attention_mask"],
            batch["labels"], mode,
        )  # fmt: skip
        metrics[f"{name}_loss"] = torch.nn.functional.cross_entropy(logits, targets).item()
        if mode == "bidirectional":
            metrics["cloze_accuracy"] = (logits.argmax(-1) == targets).float().mean().item()
    model.train()
    return metrics


def reversal_scores(
    model: BertForPreTraining, pairs: list[Pair], tokenizer: WordPieceTokenizer, max_span: int
) -> tuple[float, float, list[list[int]]]:
    """Greedy S2 for each S1 under the seq2seq mask: exact match, token accuracy, outputs."""
    sources = [a for a, _ in pairs]
    outputs = generate(model, sources, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id,
                       max_new_tokens=max_span + 2)  # fmt: skip
    exact = sum(out == b for out, (_, b) in zip(outputs, pairs, strict=True)) / len(pairs)
    right = sum(
        sum(x == y for x, y in zip(out, b, strict=False))
        for out, (_, b) in zip(outputs, pairs, strict=True)
    )  # fmt: skip
    return exact, right / sum(len(b) for _, b in pairs), outputs


# ---------------------------------------------------------------- plots


def masks_plot(path: Path, row: dict[str, Tensor], tokenizer: WordPieceTokenizer) -> Path:
    """The three (T, T) masks of one packed row, query down, key across."""
    plt = runner.pyplot()
    ids = row["input_ids"][0].tolist()
    labels = [tokenizer.id_to_token[i] for i in ids]
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.8), dpi=100)
    for ax, mode in zip(axes, MODES, strict=True):
        mask = attention_masks(row["token_type_ids"], row["attention_mask"], mode)[0]
        ax.imshow(mask.numpy(), cmap="Blues", vmin=0, vmax=1.25)
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_title(f"{mode} (dark: may attend)")
        ax.set_xlabel("key")
        first_end = int((row["token_type_ids"][0] == 1).nonzero().min()) - 0.5
        ax.axvline(first_end, color="tab:red", lw=0.8)
        ax.axhline(first_end, color="tab:red", lw=0.8)
    axes[0].set_ylabel("query")
    fig.suptitle("One packed row [SOS] S1 [EOS] S2 [EOS] [PAD]: the same tokens, three masks")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def panels_plot(
    path: Path, panels: dict[str, dict[str, tuple[list[float], list[float]]]], title: str
) -> Path:
    plt = runner.pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.2), dpi=100)
    for ax, (name, series) in zip(axes, panels.items(), strict=True):
        for label, (xs, ys) in series.items():
            ax.plot(xs, ys, label=label, marker="o" if len(xs) < 30 else None, markersize=3)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("cross-entropy (nats)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def smooth(values: list[float], width: int = 10) -> list[float]:
    return [sum(values[max(0, i - width + 1) : i + 1]) / min(i + 1, width)
            for i in range(len(values))]  # fmt: skip


# ---------------------------------------------------------------- the run


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    text, source = runner.load_text(cfg.data, min_chars=1000, max_chars=cfg.max_chars)
    documents = split_documents(text, 3)

    with runner.one_torch_thread():
        cpu_start = time.process_time()
        tokenizer = WordPieceTokenizer.train(["\n".join(s) for s in documents], cfg.vocab)
        ids = [[tokenizer.encode(s, add_special_tokens=False).input_ids for s in doc]
               for doc in documents]  # fmt: skip
        ids = [[s for s in doc if s] for doc in ids]
        ids = [doc for doc in ids if len(doc) >= 2]
        rng = random.Random(cfg.seed)
        rng.shuffle(ids)
        n_eval = max(2, len(ids) // 10)
        eval_docs, train_docs = ids[:n_eval], ids[n_eval:]
        train = {"natural": natural_pairs(train_docs, cfg.seq_len),
                 "reversal": reversal_pairs(train_docs, cfg.max_span, rng)}  # fmt: skip
        if min(len(p) for p in train.values()) < 200:
            raise LabError(TOO_SMALL.get(source=source, pairs=len(train["natural"])))
        held_rows = {
            "natural": natural_pairs(eval_docs, cfg.seq_len)[: cfg.eval_rows],
            "reversal": reversal_pairs(eval_docs, cfg.max_span, rng)[: cfg.eval_rows],
        }
        fixed = torch.Generator().manual_seed(0)
        held = {
            mode: with_objective(pack(held_rows[ROWS[mode]], tokenizer), mode, tokenizer, cfg,
                                 fixed)
            for mode in MODES
        }  # fmt: skip
        baselines = {}  # per objective: the loss of the training targets' frequencies
        for mode in MODES:
            sample = pack(train[ROWS[mode]][:2000], tokenizer)
            labels = with_objective(sample, mode, tokenizer, cfg, fixed)["labels"]
            baselines[METRIC[mode]] = unigram_baseline(labels, held[mode]["labels"],
                                                       tokenizer.vocab_size)  # fmt: skip

        config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=cfg.d_model,
                            num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads,
                            intermediate_size=4 * cfg.d_model,
                            max_position_embeddings=cfg.seq_len, hidden_dropout_prob=0.0,
                            type_vocab_size=2 * len(MODES) if cfg.objective_segments else 2,
                            attention_probs_dropout_prob=0.0)  # fmt: skip
        names = MODELS if cfg.single_objective else MODELS[:1]
        models, optimizers, schedules = {}, {}, {}
        for name in names:
            torch.manual_seed(cfg.seed)  # the same initial weights for all four
            models[name] = BertForPreTraining(config, nsp=False).train()
            optimizers[name] = torch.optim.AdamW(models[name].parameters(), lr=cfg.lr,
                                                 weight_decay=cfg.weight_decay)  # fmt: skip
            schedules[name] = torch.optim.lr_scheduler.LambdaLR(
                optimizers[name], lambda s: linear_warmup_decay(s, cfg.warmup_iters, cfg.steps)
            )
        only = dict(zip(MODES, MODELS[1:], strict=True))  # objective -> its single model

        masking = torch.Generator().manual_seed(cfg.seed)
        log = runner.MetricsLog(out / "metrics.jsonl")
        train_curves: dict[str, dict[str, list[float]]] = {n: {m: [] for m in MODES} for n in names}
        held_curves: dict[str, dict[str, tuple[list[float], list[float]]]] = {
            f"{k}_loss": {n: ([], []) for n in names} for k in ("cloze", "next_token", "seq2seq")
        }
        queues: dict[str, list[Pair]] = {"natural": [], "reversal": []}

        def take(kind: str, count: int) -> list[Pair]:
            if len(queues[kind]) < count:  # a new epoch over this kind of rows
                queues[kind] = list(train[kind])
                rng.shuffle(queues[kind])
            chosen, queues[kind] = queues[kind][:count], queues[kind][count:]
            return chosen

        final: dict[str, dict[str, float]] = {}
        with runner.progress(cfg.steps, TRAINING.get(), cfg.quiet) as bar:
            for step in range(1, cfg.steps + 1):
                batches = {  # every step: batch_size rows for each objective
                    mode: with_objective(pack(take(ROWS[mode], cfg.batch_size), tokenizer),
                                         mode, tokenizer, cfg, masking)
                    for mode in MODES
                }  # fmt: skip
                for name in names:
                    modes = MODES if name == "unilm" else [m for m in MODES if only[m] == name]
                    losses = {mode: loss_of(models[name], batches[mode], mode) for mode in modes}
                    optimizers[name].zero_grad(set_to_none=True)
                    sum(losses.values()).backward()
                    torch.nn.utils.clip_grad_norm_(models[name].parameters(), 1.0)
                    optimizers[name].step()
                    schedules[name].step()
                    for mode, loss in losses.items():
                        train_curves[name][mode].append(loss.item())
                if step % cfg.eval_every == 0 or step == cfg.steps:
                    for name in names:
                        final[name] = evaluate(models[name], held)
                        log.log(step=step, model=name, **final[name])
                        for key, series in held_curves.items():
                            series[name][0].append(step)
                            series[name][1].append(final[name][key])
                    u = final["unilm"]
                    bar.update(info=f"cloze acc {u['cloze_accuracy']:.2f} "
                                    f"next {u['next_token_loss']:.2f} "
                                    f"s2s {u['seq2seq_loss']:.2f}")  # fmt: skip
                else:
                    bar.update()
        log.close()
        reversal = {
            name: reversal_scores(models[name], held_rows["reversal"], tokenizer, cfg.max_span)
            for name in names
        }
        cpu_seconds = time.process_time() - cpu_start

    table = [TABLE_TITLE.get(),
             f"  {'model':<20} {'cloze acc':>9} {'next-token':>10} {'seq2seq':>8} "
             f"{'rev. exact':>10} {'rev. tokens':>11}"]  # fmt: skip
    for name in names:
        m, (exact, tokens, _) = final[name], reversal[name]
        table.append(f"  {name:<20} {m['cloze_accuracy']:>9.3f} {m['next_token_loss']:>10.3f} "
                     f"{m['seq2seq_loss']:>8.3f} {exact:>10.3f} {tokens:>11.3f}")  # fmt: skip
    table.append(f"  {'unigram (no context)':<20} {'':>9} {baselines['next_token']:>10.3f} "
                 f"{baselines['seq2seq']:>8.3f}")  # fmt: skip
    samples = [SAMPLES_TITLE.get()]
    outputs = zip(held_rows["reversal"], reversal["unilm"][2], strict=True)
    for (a, b), generated in list(outputs)[:5]:
        shown = [" ".join(tokenizer.id_to_token[i] for i in x) for x in (a, generated, b)]
        samples.append(f"  {shown[0]}  ->  {shown[1]}  |  {shown[2]}")

    train_panels = {
        f"{mode} (train)": {
            label: (list(range(1, len(values) + 1)), smooth(values))
            for label, values in (
                ("unilm", train_curves["unilm"][mode]),
                (only[mode], train_curves.get(only[mode], {}).get(mode, [])),
            )
            if values
        }  # fmt: skip
        for mode in MODES
    }
    held_panels = {
        "cloze loss (bidirectional mask)": held_curves["cloze_loss"],
        "next-token loss (left-to-right mask)": held_curves["next_token_loss"],
        "S2 loss (seq2seq mask)": held_curves["seq2seq_loss"],
    }
    for panel, key in zip(held_panels, baselines, strict=True):
        held_panels[panel]["unigram"] = ([1, cfg.steps], [baselines[key]] * 2)
    # the mask picture: a natural pair of about 11 tokens, with 3 padding positions
    example = min(held_rows["natural"], key=lambda pair: abs(len(pair[0]) + len(pair[1]) - 11))
    example_row = pack([example], tokenizer, padding=3)
    artifacts = {
        "metrics": out / "metrics.jsonl",
        "masks_plot": masks_plot(out / "masks.png", example_row, tokenizer),
        "heldout_plot": panels_plot(out / "heldout_losses.png", held_panels,
                                    "Held-out loss: every model under every mask"),
        "train_plot": panels_plot(out / "train_losses.png", train_panels,
                                  "Training loss per objective (moving average of 10 steps)"),
    }  # fmt: skip
    tokenizer.save_pretrained(out / "tokenizer")
    models["unilm"].save_pretrained(out / "model")
    artifacts["model"] = out / "model"

    u = final["unilm"]
    summary: dict[str, float | int | str] = {
        "source": source,
        "vocab_size": tokenizer.vocab_size,
        "parameters": sum(p.numel() for p in models["unilm"].parameters()),
        "cloze_accuracy": u["cloze_accuracy"],
        "cloze_loss": u["cloze_loss"],
        "cloze_unigram_loss": baselines["cloze"],
        "next_token_loss": u["next_token_loss"],
        "next_token_unigram_loss": baselines["next_token"],
        "seq2seq_loss": u["seq2seq_loss"],
        "seq2seq_unigram_loss": baselines["seq2seq"],
        "reversal_exact": reversal["unilm"][0],
        "reversal_token_accuracy": reversal["unilm"][1],
    }
    if cfg.single_objective:
        summary |= {
            "bidirectional_only_cloze_accuracy": final[MODELS[1]]["cloze_accuracy"],
            "left_to_right_only_next_token_loss": final[MODELS[2]]["next_token_loss"],
            "seq2seq_only_reversal_exact": reversal[MODELS[3]][0],
            "bidirectional_only_next_token_loss": final[MODELS[1]]["next_token_loss"],
        }
    summary["cpu_seconds"] = cpu_seconds
    return LabReport(LAB, out, summary, artifacts, text="\n".join(table + samples),
                     seconds=timer.seconds)  # fmt: skip
