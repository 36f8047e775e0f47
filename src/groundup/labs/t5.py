"""Lab: pre-train a tiny T5 by span corruption, then fine-tune it on three tasks that share one
text-to-text format, and compare with the same model fine-tuned from random weights.

1. A WordPiece vocabulary is trained on the text (the embedded corpus of Python docstrings,
   or a UTF-8 file with --data) and on the fine-tuning sources and targets; NUM_SENTINELS
   sentinel ids are added on top of it, as T5 adds <extra_id_0> ... <extra_id_99>.
2. Pre-training: the token stream of the first 90 % of the lines is cut into chunks; every
   batch corrupts them afresh (text/span_corruption.py: 15 % of the tokens in spans of mean
   length 3). The held-out 10 % are corrupted once, with a fixed seed, for a loss curve.
3. Fine-tuning: one format for every task, a prefix that names the task and the answer as
   text:   "fill in the blank: return the _ of items" -> "number"
           "translate English to German: forty-two" -> "zweiundvierzig"
           "next word: return the number of" -> "items"
   The pre-trained model and a copy of its random initialisation are fine-tuned on the same
   batches for the same steps; greedy decoding, exact match per task on held-out examples.
"""

from __future__ import annotations

import copy
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from groundup.data import numbers
from groundup.finetune.schedule import linear_warmup_decay
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.models.t5 import IGNORE_INDEX, T5, T5Config
from groundup.text.span_corruption import compute_input_and_target_lengths, span_corrupt_batch
from groundup.text.wordpiece import PAD, PREFIX, SEP, WordPieceTokenizer

LAB = "t5"
NUM_SENTINELS = 32  # a 64-token chunk has about 3 spans; T5 reserves 100
TASKS = {
    "fill": "fill in the blank: ",
    "translate": "translate English to German: ",
    "next_word": "next word: ",
}
WORD = re.compile(r"[A-Za-z]+")


@dataclass
class Config(LabConfig):
    max_chars: int = 0  # 0: the whole text
    vocab: int = 1000  # WordPiece tokens, without the sentinels
    d_model: int = 96
    n_heads: int = 4
    n_layers: int = 2  # encoder layers, and as many decoder layers
    d_ff: int = 256
    seq_len: int = 48  # encoder input length after corruption
    noise_density: float = 0.15
    mean_span_length: float = 3.0
    steps: int = 1000  # pre-training steps
    finetune_steps: int = 400
    batch_size: int = 32
    lr: float = 2e-3
    finetune_lr: float = 1e-3
    warmup_iters: int = 50
    weight_decay: float = 0.01
    eval_every: int = 100
    examples_per_task: int = 600
    held_out_per_task: int = 100


PRESETS: dict[str, dict] = {
    "micro": {"max_chars": 60_000, "vocab": 500, "d_model": 64, "d_ff": 128, "seq_len": 32,
              "steps": 150, "finetune_steps": 150, "examples_per_task": 300,
              "held_out_per_task": 40, "eval_every": 50, "warmup_iters": 20},
    "tiny": {},
    "full": {"vocab": 4000, "d_model": 256, "d_ff": 1024, "n_layers": 4,
             "seq_len": 128, "steps": 4000, "finetune_steps": 2000, "lr": 1e-3,
             "finetune_lr": 5e-4, "warmup_iters": 200, "eval_every": 250,
             "examples_per_task": 800, "held_out_per_task": 200},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "d_ff": Msg(
        "width of the feed-forward layer inside every block",
        "Breite der Feed-Forward-Schicht in jedem Block",
    ),
    "noise_density": Msg(
        "share of the tokens that span corruption hides (T5: 0.15)",
        "Anteil der Tokens, den Span Corruption verdeckt (T5: 0,15)",
    ),
    "mean_span_length": Msg(
        "mean length of a hidden span in tokens (T5: 3)",
        "mittlere Länge eines verdeckten Abschnitts in Tokens (T5: 3)",
    ),
    "finetune_steps": Msg(
        "fine-tuning steps, the same for the pre-trained and the randomly initialised model",
        "Schritte des Fine-Tunings, gleich viele für das vortrainierte und das zufällig "
        "initialisierte Modell",
    ),
    "finetune_lr": Msg(
        "peak learning rate of fine-tuning (pre-training uses lr)",
        "höchste Lernrate beim Fine-Tuning (das Vortraining nutzt lr)",
    ),
    "examples_per_task": Msg(
        "generated training examples for each fine-tuning task",
        "erzeugte Trainingsbeispiele je Fine-Tuning-Aufgabe",
    ),
    "held_out_per_task": Msg(
        "held-out examples per task that exact match is measured on",
        "zurückgehaltene Beispiele je Aufgabe, auf denen die exakte Übereinstimmung gemessen wird",
    ),
}

PRETRAINING = Msg("Pre-training T5 (span corruption)", "T5 vortrainieren (Span Corruption)")
FINETUNING = Msg("Fine-tuning ({start})", "Fine-Tuning ({start})")
ONLY_CPU = Msg(
    "This lab trains on the CPU only; use --device cpu or auto.",
    "Dieses Lab trainiert nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_SMALL = Msg(
    "{source}: {count} lines with at least five words; this lab needs {least}.",
    "{source}: {count} Zeilen mit mindestens fünf Wörtern; dieses Lab braucht {least}.",
)
TOO_FEW_CHUNKS = Msg(
    "{source}: {chunks} pre-training chunks of {length} tokens; one batch needs {batch}.",
    "{source}: {chunks} Vortrainingsabschnitte zu {length} Tokens; ein Batch braucht {batch}.",
)
EXAMPLE_TITLE = Msg(
    "Span corruption of one pre-training chunk:",
    "Span Corruption eines Abschnitts aus dem Vortraining:",
)
PREDICTIONS_TITLE = Msg(
    "Held-out examples (pre-trained | from scratch):",
    "Zurückgehaltene Beispiele (vortrainiert | ohne Vortraining):",
)


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if min(cfg.d_model, cfg.n_heads, cfg.n_layers, cfg.d_ff, cfg.steps, cfg.finetune_steps,
           cfg.batch_size, cfg.eval_every, cfg.examples_per_task, cfg.held_out_per_task) < 1:  # fmt: skip
        problems.append("sizes, steps, batch_size, eval_every and example counts must be >= 1")
    if cfg.d_model % cfg.n_heads:
        problems.append("d_model must be divisible by n_heads")
    if cfg.vocab < 200 or cfg.seq_len < 8:
        problems.append("vocab must be >= 200 and seq_len >= 8")
    if not 0 < cfg.noise_density < 1 or cfg.mean_span_length < 1:
        problems.append("noise_density must lie in (0, 1) and mean_span_length >= 1")
    if min(cfg.lr, cfg.finetune_lr) <= 0 or cfg.max_chars < 0:
        problems.append("lr and finetune_lr must be > 0, max_chars >= 0")
    if cfg.examples_per_task + cfg.held_out_per_task > 1000:
        problems.append("examples_per_task + held_out_per_task must be <= 1000 (numbers 0..999)")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


# ---------------------------------------------------------------- the text-to-text tasks

Pair = tuple[str, str]  # (source text with its task prefix, target text)


def fill_pairs(lines: list[list[str]], count: int, rng: random.Random) -> list[Pair]:
    """A window of up to 10 words of a line with one word replaced by "_" -> that word."""
    pairs = []
    for _ in range(count):
        words = rng.choice(lines)
        start = rng.randint(0, max(0, len(words) - 10))
        window = words[start : start + 10]
        k = rng.randrange(len(window))
        blanked = [*window[:k], "_", *window[k + 1 :]]
        pairs.append((TASKS["fill"] + " ".join(blanked), window[k]))
    return pairs


def translate_pairs(values: list[int]) -> list[Pair]:
    """English number words -> German ones (data/numbers.py, as in the transformer lab)."""
    return [(TASKS["translate"] + numbers.english(n), numbers.german(n)) for n in values]


def next_word_pairs(lines: list[list[str]], count: int, rng: random.Random) -> list[Pair]:
    pairs = []
    for _ in range(count):
        words = rng.choice(lines)
        cut = rng.randint(2, min(len(words) - 1, 8))
        pairs.append((TASKS["next_word"] + " ".join(words[:cut]), words[cut]))
    return pairs


def make_tasks(
    train_lines: list[list[str]], held_lines: list[list[str]], cfg: Config
) -> tuple[dict[str, list[Pair]], dict[str, list[Pair]]]:
    """(training pairs, held-out pairs) per task. The held-out numbers and lines are seen
    neither in fine-tuning nor (the lines) in pre-training."""
    rng = random.Random(cfg.seed)
    train_numbers, held_numbers = numbers.split_numbers(
        cfg.examples_per_task, cfg.held_out_per_task, 999, cfg.seed
    )
    n, m = cfg.examples_per_task, cfg.held_out_per_task
    train = {
        "fill": fill_pairs(train_lines, n, rng),
        "translate": translate_pairs(train_numbers),
        "next_word": next_word_pairs(train_lines, n, rng),
    }
    held = {
        "fill": fill_pairs(held_lines, m, rng),
        "translate": translate_pairs(held_numbers),
        "next_word": next_word_pairs(held_lines, m, rng),
    }
    return train, held


# ---------------------------------------------------------------- tokens and batches


class Vocabulary:
    """WordPiece ids, then NUM_SENTINELS sentinels at the top: the last id is <extra_id_0>."""

    def __init__(self, tokenizer: WordPieceTokenizer) -> None:
        self.tokenizer = tokenizer
        self.size = tokenizer.vocab_size + NUM_SENTINELS
        self.pad, self.eos = tokenizer.vocab[PAD], tokenizer.vocab[SEP]

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).input_ids

    def pieces(self, ids: list[int]) -> str:
        """Ids as readable pieces, sentinels named as in T5, ## pieces glued on."""
        out = []
        for i in ids:
            if i >= self.tokenizer.vocab_size:
                out.append(f" <extra_id_{self.size - 1 - i}>")
            elif i == self.eos:
                out.append(" </s>")
            else:
                token = self.tokenizer.id_to_token[i]
                out.append(token[len(PREFIX) :] if token.startswith(PREFIX) else " " + token)
        return "".join(out).strip()


def pad(rows: list[list[int]], value: int) -> torch.Tensor:
    out = torch.full((len(rows), max(len(r) for r in rows)), value, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row)
    return out


def text_batch(pairs: list[tuple[list[int], list[int]]], vocab: Vocabulary) -> dict:
    """Padded encoder inputs with their mask, and labels (target + EOS, -100 as padding)."""
    sources = [source for source, _ in pairs]
    return {
        "input_ids": pad(sources, vocab.pad),
        "attention_mask": pad([[1] * len(s) for s in sources], 0),
        "labels": pad([target + [vocab.eos] for _, target in pairs], IGNORE_INDEX),
    }


def corrupted_batch(chunks: np.ndarray, vocab: Vocabulary, cfg: Config,
                    rng: np.random.RandomState) -> dict:  # fmt: skip
    batch = span_corrupt_batch(chunks, vocab.size, vocab.eos, vocab.pad, cfg.noise_density,
                               cfg.mean_span_length, rng)  # fmt: skip
    return {k: torch.from_numpy(v).long() for k, v in batch.items() if k != "decoder_input_ids"}


# ---------------------------------------------------------------- training and scoring


def optimizer_for(model: T5, lr: float, cfg: Config, steps: int) -> tuple:
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: linear_warmup_decay(s, cfg.warmup_iters, steps)
    )
    return optimizer, schedule


def train_step(model: T5, batch: dict, optimizer: torch.optim.Optimizer, schedule) -> float:
    loss = model(**batch).loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    schedule.step()
    return loss.item()


@torch.no_grad()
def held_out_loss(model: T5, batches: list[dict]) -> float:
    model.eval()
    losses = [model(**batch).loss.item() for batch in batches]
    model.train()
    return float(np.mean(losses))


def until_eos(ids: list[int], eos: int) -> list[int]:
    return ids[: ids.index(eos)] if eos in ids else ids


@torch.no_grad()
def exact_match(
    model: T5, held: dict[str, list[tuple[list[int], list[int]]]], vocab: Vocabulary
) -> tuple[dict[str, float], dict[str, list[list[int]]]]:
    """Share of held-out examples per task whose greedy output equals the target, and the
    outputs (without start token and EOS)."""
    model.eval()
    scores, outputs = {}, {}
    for task, pairs in held.items():
        batch = text_batch(pairs, vocab)
        longest = max(len(target) for _, target in pairs)
        generated = model.generate_greedy(
            batch["input_ids"], batch["attention_mask"], max_new_tokens=longest + 2
        )
        outputs[task] = [until_eos(row[1:], vocab.eos) for row in generated.tolist()]
        right = [out == target for out, (_, target) in zip(outputs[task], pairs, strict=True)]
        scores[task] = sum(right) / len(right)
    model.train()
    return scores, outputs


def fine_tune(
    model: T5,
    start: str,
    train: list[tuple[list[int], list[int]]],
    held: dict[str, list[tuple[list[int], list[int]]]],
    vocab: Vocabulary,
    cfg: Config,
    log: runner.MetricsLog,
) -> dict[str, tuple[list[float], list[float]]]:
    """Fine-tune on mixed batches of all tasks; the curves of held-out loss and exact match."""
    optimizer, schedule = optimizer_for(model, cfg.finetune_lr, cfg, cfg.finetune_steps)
    order = random.Random(cfg.seed)  # the same batches for both starting points
    held_batches = [text_batch(pairs, vocab) for pairs in held.values()]
    curves: dict[str, tuple[list[float], list[float]]] = {"loss": ([], []), "exact": ([], [])}
    queue: list[tuple[list[int], list[int]]] = []
    with runner.progress(cfg.finetune_steps, FINETUNING.get(start=start), cfg.quiet) as bar:
        for step in range(1, cfg.finetune_steps + 1):
            if len(queue) < cfg.batch_size:
                queue = order.sample(train, len(train))
            chosen, queue = queue[: cfg.batch_size], queue[cfg.batch_size :]
            loss = train_step(model, text_batch(chosen, vocab), optimizer, schedule)
            if step % cfg.eval_every == 0 or step == cfg.finetune_steps:
                scores, _ = exact_match(model, held, vocab)
                mean = float(np.mean(list(scores.values())))
                loss_held = held_out_loss(model, held_batches)
                for name, value in (("loss", loss_held), ("exact", mean)):
                    curves[name][0].append(step)
                    curves[name][1].append(value)
                log.log(phase=f"finetune_{start}", step=step, train_loss=loss,
                        held_out_loss=loss_held, **{f"exact_{t}": s for t, s in scores.items()})  # fmt: skip
                bar.update(info=f"loss {loss_held:.2f} exact {mean:.2f}")
            else:
                bar.update()
    return curves


def new_model(vocab: Vocabulary, cfg: Config) -> T5:
    torch.manual_seed(cfg.seed)
    config = T5Config(vocab_size=vocab.size, d_model=cfg.d_model, d_kv=cfg.d_model // cfg.n_heads,
                      d_ff=cfg.d_ff, num_layers=cfg.n_layers, num_heads=cfg.n_heads,
                      dropout_rate=0.0, pad_token_id=vocab.pad, eos_token_id=vocab.eos,
                      decoder_start_token_id=vocab.pad)  # fmt: skip
    return T5(config).train()


# ---------------------------------------------------------------- plots


def finetune_plot(path: Path, curves: dict[str, dict]) -> Path:
    plt = runner.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for start, curve in curves.items():
        for ax, name in zip(axes, ("loss", "exact"), strict=True):
            ax.plot(*curve[name], marker="o", markersize=3, label=start)
    axes[0].set(title="Held-out loss", xlabel="fine-tuning step", ylabel="cross-entropy (nats)")
    axes[1].set(title="Held-out exact match (mean of the tasks)", xlabel="fine-tuning step",
                ylabel="exact match", ylim=(0, 1))  # fmt: skip
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def accuracy_plot(path: Path, scores: dict[str, dict[str, float]]) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    x = np.arange(len(TASKS))
    for k, (start, by_task) in enumerate(scores.items()):
        values = [by_task[t] for t in TASKS]
        bars = ax.bar(x + (k - 0.5) * 0.38, values, 0.38, label=start)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(x, list(TASKS))
    ax.set(title="Held-out exact match per task (greedy decoding)", ylabel="exact match",
           ylim=(0, 1.08))  # fmt: skip
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
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
    lines = [words for line in text.splitlines() if len(words := WORD.findall(line)) >= 5]
    if len(lines) < 50:
        raise LabError(TOO_SMALL.get(source=source, count=len(lines), least=50))
    held_lines = lines[5::10]  # every tenth line: the same kind of text, never trained on
    train_lines = [words for i, words in enumerate(lines) if i % 10 != 5]
    train_pairs, held_pairs = make_tasks(train_lines, held_lines, cfg)

    with runner.one_torch_thread():
        cpu_start = time.process_time()
        task_texts = [s + "\n" + t for pairs in train_pairs.values() for s, t in pairs]
        tokenizer = WordPieceTokenizer.train([text, *task_texts], cfg.vocab)
        vocab = Vocabulary(tokenizer)
        tokens_length, _ = compute_input_and_target_lengths(
            cfg.seq_len, cfg.noise_density, cfg.mean_span_length
        )

        def chunks(part: list[list[str]]) -> np.ndarray:
            stream = [i for words in part for i in vocab.encode(" ".join(words))]
            usable = len(stream) // tokens_length * tokens_length
            return np.array(stream[:usable], dtype=np.int64).reshape(-1, tokens_length)

        train_chunks, held_chunks = chunks(train_lines), chunks(held_lines)[:256]
        if len(train_chunks) < cfg.batch_size or len(held_chunks) < 1:
            raise LabError(TOO_FEW_CHUNKS.get(source=source, chunks=len(train_chunks),
                                              length=tokens_length, batch=cfg.batch_size))  # fmt: skip
        fixed = np.random.RandomState(0)
        held_batches = [corrupted_batch(held_chunks[i : i + 64], vocab, cfg, fixed)
                        for i in range(0, len(held_chunks), 64)]  # fmt: skip
        example = corrupted_batch(held_chunks[:1], vocab, cfg, np.random.RandomState(1))

        model = new_model(vocab, cfg)
        scratch_start = copy.deepcopy(model)  # the same random weights, never pre-trained
        optimizer, schedule = optimizer_for(model, cfg.lr, cfg, cfg.steps)
        log = runner.MetricsLog(out / "metrics.jsonl")
        corruption = np.random.RandomState(cfg.seed)
        pretrain: dict[str, tuple[list[float], list[float]]] = {"train": ([], []),
                                                                  "held-out": ([], [])}  # fmt: skip
        first_held = held_out_loss(model, held_batches)
        pretrain["held-out"][0].append(0)
        pretrain["held-out"][1].append(first_held)
        order = np.random.RandomState(cfg.seed + 1)
        queue: list[int] = []
        with runner.progress(cfg.steps, PRETRAINING.get(), cfg.quiet) as bar:
            for step in range(1, cfg.steps + 1):
                if len(queue) < cfg.batch_size:
                    queue = order.permutation(len(train_chunks)).tolist()
                chosen, queue = queue[: cfg.batch_size], queue[cfg.batch_size :]
                batch = corrupted_batch(train_chunks[chosen], vocab, cfg, corruption)
                loss = train_step(model, batch, optimizer, schedule)
                pretrain["train"][0].append(step)
                pretrain["train"][1].append(loss)
                if step % cfg.eval_every == 0 or step == cfg.steps:
                    loss_held = held_out_loss(model, held_batches)
                    pretrain["held-out"][0].append(step)
                    pretrain["held-out"][1].append(loss_held)
                    log.log(phase="pretrain", step=step, train_loss=loss,
                            held_out_loss=loss_held)  # fmt: skip
                    bar.update(info=f"held-out loss {loss_held:.2f}")
                else:
                    bar.update()
        pretrain_seconds = time.process_time() - cpu_start

        def encoded(pairs: list[Pair]) -> list[tuple[list[int], list[int]]]:
            return [(vocab.encode(s), vocab.encode(t)) for s, t in pairs]

        train_ids = [pair for pairs in train_pairs.values() for pair in encoded(pairs)]
        held_ids = {task: encoded(pairs) for task, pairs in held_pairs.items()}
        starts = {"pre-trained": model, "from scratch": scratch_start}
        curves, scores, outputs = {}, {}, {}
        for start, start_model in starts.items():
            curves[start] = fine_tune(start_model, start, train_ids, held_ids, vocab, cfg, log)
            scores[start], outputs[start] = exact_match(start_model, held_ids, vocab)
        log.close()
        cpu_seconds = time.process_time() - cpu_start

    lines_out = [EXAMPLE_TITLE.get()]
    for name in ("input_ids", "labels"):
        lines_out.append(f"  {name:<9} {vocab.pieces(example[name][0].tolist())}")
    lines_out.append(PREDICTIONS_TITLE.get())
    for task, pairs in held_pairs.items():
        for k in range(3):
            got = [vocab.pieces(outputs[start][task][k]) for start in starts]
            lines_out.append(f"  {pairs[k][0]}  ->  {got[0]} | {got[1]}  ({pairs[k][1]})")

    artifacts = {
        "metrics": out / "metrics.jsonl",
        "pretrain_plot": runner.save_line_plot(
            out / "pretrain_loss.png",
            pretrain,
            "Span-corruption loss",
            "step",
            "cross-entropy (nats)",
        ),
        "finetune_plot": finetune_plot(out / "finetune.png", curves),
        "accuracy_plot": accuracy_plot(out / "exact_match.png", scores),
    }
    tokenizer.save_pretrained(out / "tokenizer")
    artifacts["model"] = model.save_pretrained(out / "model")
    summary: dict[str, float | int | str] = {
        "source": source,
        "vocab_size": vocab.size,
        "parameters": model.num_params(),
        "pretrain_chunks": len(train_chunks),
        "pretrain_loss_start": first_held,
        "pretrain_loss": pretrain["held-out"][1][-1],
    }
    for start, key in (("pre-trained", "pretrained"), ("from scratch", "scratch")):
        for task in TASKS:
            summary[f"{task}_{key}"] = scores[start][task]
        summary[f"mean_{key}"] = float(np.mean(list(scores[start].values())))
        summary[f"finetune_loss_{key}"] = curves[start]["loss"][1][-1]
    summary["pretrain_cpu_seconds"] = round(pretrain_seconds, 1)
    summary["cpu_seconds"] = round(cpu_seconds, 1)
    return LabReport(LAB, out, summary, artifacts, "\n".join(lines_out), timer.seconds)
