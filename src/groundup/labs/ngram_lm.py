"""Lab: n-gram language models on characters and on words, add-k against Kneser-Ney.

Data: the embedded corpus (the docstrings of Python's standard library), or a UTF-8 text
file of your own with --data. The text is cut once, 90 % for training and 10 % for
validation (the same cut as groundup.data.text.train_val_split), and read two ways:
- characters: the training text is one long stream of characters;
- words: paragraphs -> sentences -> normalised words, each sentence padded with <s> and </s>;
  words seen fewer than word_min_count times become <unk>.
For orders 1 .. max_order the lab fits add-k models (each k in `ks`) and interpolated
Kneser-Ney, and measures the validation cross-entropy (nats per token) and perplexity.
It writes a table (perplexity.csv), a plot of perplexity against order per smoothing, and
samples from the best Kneser-Ney model at a few temperatures.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.text.ngram_lm import AddK, KneserNey, NgramModel, char_split
from groundup.text.normalize import normalize
from groundup.text.tokenize import split_sentences, words

LAB = "ngram_lm"
LEVELS = ("char", "word")


@dataclass
class Config(LabConfig):
    max_chars: int = 600_000  # 0: the whole text; otherwise its first max_chars characters
    max_order: int = 5  # models of order 1 .. max_order
    ks: str = "0.01,0.1,1"  # add-k pseudo-counts, comma-separated; 1 is Laplace
    word_min_count: int = 2  # rarer training words become <unk>
    sample_chars: int = 240  # length of each character sample
    sample_words: int = 40  # length of each word sample (it may stop earlier at </s>)
    temperatures: str = "0.5,1,1.5"  # sampling temperatures, comma-separated


PRESETS: dict[str, dict] = {
    "micro": {"max_chars": 80_000, "max_order": 4, "ks": "0.1,1", "sample_chars": 80},
    "tiny": {},
    "full": {"max_chars": 0, "max_order": 6, "ks": "0.001,0.01,0.1,1"},
}

FIELD_HELP: dict[str, Msg] = {
    "max_order": Msg(
        "highest n-gram order fitted (orders 1 up to this one)",
        "höchste N-Gramm-Ordnung (es werden die Ordnungen 1 bis zu dieser angepasst)",
    ),
    "ks": Msg(
        "pseudo-counts k of add-k smoothing, comma-separated (1 is Laplace)",
        "Pseudo-Zählwerte k der Add-k-Glättung, durch Kommas getrennt (1 ist Laplace)",
    ),
    "word_min_count": Msg(
        "training words seen fewer times than this are replaced by <unk>",
        "Trainingswörter, die seltener vorkommen, werden durch <unk> ersetzt",
    ),
    "sample_chars": Msg(
        "characters per generated character sample",
        "Zeichen pro erzeugter Zeichen-Stichprobe",
    ),
    "sample_words": Msg(
        "most words per generated word sample",
        "höchstens so viele Wörter pro erzeugter Wort-Stichprobe",
    ),
    "temperatures": Msg(
        "sampling temperatures, comma-separated",
        "Sampling-Temperaturen, durch Kommas getrennt",
    ),
}

FITTING = Msg("Fitting n-gram models", "N-Gramm-Modelle anpassen")
ONLY_CPU = Msg(
    "This lab counts in plain Python on the CPU only; use --device cpu or auto.",
    "Dieses Lab zählt in reinem Python nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_SHORT = Msg(
    "{source} gives {n} validation words; this lab needs at least {need}.",
    "{source} ergibt {n} Validierungswörter; dieses Lab braucht mindestens {need}.",
)
MIN_VAL_WORDS = 50


# ---------------------------------------------------------------- data and settings


def load_text(cfg: Config) -> tuple[str, str]:
    """(text, where it came from)."""
    return runner.load_text(cfg.data, max_chars=cfg.max_chars)


def numbers(value: str, name: str) -> list[float]:
    try:
        found = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise LabError(
            runner.BAD_SETTING.get(detail=f"{name} must be numbers like 0.1,1")
        ) from None
    if not found or min(found) <= 0:
        raise LabError(
            runner.BAD_SETTING.get(detail=f"{name} must be positive numbers, got {value!r}")
        )
    return found


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if cfg.max_chars < 0:
        problems.append("max_chars must be >= 0")
    if not 1 <= cfg.max_order <= 10:
        problems.append("max_order must be between 1 and 10")
    if cfg.word_min_count < 1:
        problems.append("word_min_count must be >= 1")
    if cfg.sample_chars < 1 or cfg.sample_words < 1:
        problems.append("sample_chars and sample_words must be >= 1")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))
    numbers(cfg.ks, "ks")
    numbers(cfg.temperatures, "temperatures")


def word_sentences(text: str) -> list[list[str]]:
    """Paragraphs -> sentences -> NFKC + casefolded words."""
    return [
        words(normalize(sentence))
        for paragraph in text.split("\n\n")
        for sentence in split_sentences(paragraph)
        if sentence.strip()
    ]


# ---------------------------------------------------------------- the run


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    text, source = load_text(cfg)
    train_text, val_text = char_split(text)
    data: dict[str, tuple[list[Any], list[Any], dict[str, Any]]] = {
        "char": ([train_text], [val_text], {"boundaries": False}),
        "word": (
            word_sentences(train_text),
            word_sentences(val_text),
            {"min_count": cfg.word_min_count},
        ),
    }
    n_val_words = sum(len(s) for s in data["word"][1])
    if n_val_words < MIN_VAL_WORDS:
        raise LabError(TOO_SHORT.get(source=source, n=n_val_words, need=MIN_VAL_WORDS))

    ks = numbers(cfg.ks, "ks")
    smoothings = [f"add-{k:g}" for k in ks] + ["kneser-ney"]
    orders = list(range(1, cfg.max_order + 1))
    log = runner.MetricsLog(out / "metrics.jsonl")
    rows: list[dict[str, Any]] = []
    best: dict[str, KneserNey] = {}  # per level, the Kneser-Ney model with the lowest loss
    lowest: dict[str, float] = {}
    total = len(LEVELS) * len(orders) * len(smoothings)
    with runner.progress(total, FITTING.get(), cfg.quiet) as bar:
        for level in LEVELS:
            train, val, options = data[level]
            for order in orders:
                for smoothing, k in zip(smoothings, [*ks, None], strict=True):
                    model: NgramModel = (
                        AddK(order, k=k, **options)
                        if k is not None
                        else KneserNey(order, **options)
                    ).fit(train)
                    ce = model.cross_entropy(val)
                    row = {"level": level, "smoothing": smoothing, "order": order,
                           "cross_entropy": ce, "perplexity": math.exp(ce),
                           "vocab_size": model.vocab_size}  # fmt: skip
                    rows.append(row)
                    log.log(**row)
                    if k is None and ce < lowest.get(level, float("inf")):
                        best[level], lowest[level] = model, ce  # type: ignore[assignment]
                    bar.update(info=f"{level} {smoothing} n={order}: ppl {row['perplexity']:.1f}")
    log.close()

    samples = write_samples(out / "samples.txt", best, cfg)
    metrics: dict[str, float | int | str] = {
        "train_chars": len(train_text),
        "val_chars": len(val_text),
        "val_words": n_val_words,
    }
    for level in LEVELS:
        level_rows = [r for r in rows if r["level"] == level]
        kn = min((r for r in level_rows if r["smoothing"] == "kneser-ney"),
                 key=lambda r: r["perplexity"])  # fmt: skip
        metrics[f"{level}_kn_best_order"] = kn["order"]
        metrics[f"{level}_kn_best_perplexity"] = kn["perplexity"]
        metrics[f"{level}_kn_best_cross_entropy"] = kn["cross_entropy"]
        for smoothing in smoothings[:-1]:
            add = min((r for r in level_rows if r["smoothing"] == smoothing),
                      key=lambda r: r["perplexity"])  # fmt: skip
            metrics[f"{level}_{smoothing}_best_perplexity"] = add["perplexity"]
            metrics[f"{level}_{smoothing}_best_order"] = add["order"]
    metrics["seconds"] = round(timer.seconds, 2)

    artifacts = {
        "perplexity_plot": plot_perplexity(out / "perplexity.png", rows, smoothings),
        "perplexity_table": write_table(out / "perplexity.csv", rows),
        "samples": out / "samples.txt",
        "metrics": out / "metrics.jsonl",
        "config": out / "config.json",
    }
    text_out = format_table(rows, smoothings, orders) + "\n\n" + samples
    return LabReport(LAB, out, metrics, artifacts, text=text_out, seconds=timer.seconds)


def write_samples(path: Path, best: dict[str, KneserNey], cfg: Config) -> str:
    parts = []
    for level, model in best.items():
        for temperature in numbers(cfg.temperatures, "temperatures"):
            rng = random.Random(cfg.seed)
            if level == "char":
                sample = "".join(model.sample(cfg.sample_chars, temperature=temperature, rng=rng))
            else:
                sample = " ".join(model.sample(cfg.sample_words, temperature=temperature, rng=rng))
            title = f"--- {level}, Kneser-Ney order {model.order}, temperature {temperature:g} ---"
            parts.append(f"{title}\n{sample}")
    text = "\n\n".join(parts)
    path.write_text(text + "\n", encoding="utf-8")
    return text


def write_table(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def format_table(rows: list[dict[str, Any]], smoothings: list[str], orders: list[int]) -> str:
    lines = []
    for level in LEVELS:
        lines.append(f"validation perplexity, {level} level")
        lines.append(f"  {'order':>5}" + "".join(f"{s:>12}" for s in smoothings))
        for order in orders:
            values = {r["smoothing"]: r["perplexity"] for r in rows
                      if r["level"] == level and r["order"] == order}  # fmt: skip
            lines.append(f"  {order:>5}" + "".join(f"{values[s]:>12.2f}" for s in smoothings))
    return "\n".join(lines)


def plot_perplexity(path: Path, rows: list[dict[str, Any]], smoothings: list[str]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for ax, level in zip(axes, LEVELS, strict=True):
        for smoothing in smoothings:
            points = [(r["order"], r["perplexity"]) for r in rows
                      if r["level"] == level and r["smoothing"] == smoothing]  # fmt: skip
            style = "-" if smoothing == "kneser-ney" else "--"
            ax.plot(*zip(*points, strict=True), style, marker="o", markersize=4, label=smoothing)
        ax.set_yscale("log")
        ax.set_title(f"{level} level: validation perplexity")
        ax.set_xlabel("order n")
        ax.set_ylabel("perplexity (log scale)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
