"""Lab: train byte-level BPE vocabularies and see what they learn and how well they compress.

Data: the embedded corpus (the docstrings of Python's standard library, English, ASCII) or
a UTF-8 text file of your own with --data. The text is cut once, 90 % for training and
10 % for measuring. One tokenizer is trained with the largest vocabulary size; a smaller
vocabulary is the same training stopped earlier, so each size is a prefix of its merges.

For each vocabulary size the lab measures the compression (UTF-8 bytes per token) on the
held-out English text, on a German paragraph and on Python source code, and the tokens per
word (whitespace-separated) of each. It writes a plot of bytes per token against the
vocabulary size, a plot of each merge's pair count against its rank, the first merges,
and how a few words split at each size.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.text.bpe import BPETokenizer, Pair

LAB = "bpe"

# Text the English training data never shows: German prose and Python code.
GERMAN = (
    "Die Straßenbahn hält vor dem Rathaus, und die Fahrgäste steigen aus. Über die Brücke "
    "gehen Kinder zur Schule; ihre Großeltern trinken im Café gegenüber einen Kaffee. "
    "Der Wetterbericht verspricht für morgen Regen, doch heute scheint die Sonne über "
    "den Dächern der Altstadt. Wer früh aufsteht, sieht die Bäckerei öffnen und riecht "
    "frisches Brot. Gemütlichkeit lässt sich schwer übersetzen, aber jeder kennt sie."
)
SAMPLE_WORDS = (" the", " tokenization", " encoding", " Straßenbahnhaltestelle", " __init__")


@dataclass
class Config(LabConfig):
    max_chars: int = 0  # 0: the whole text; otherwise its first max_chars characters
    vocab_sizes: str = "300,500,1000,2000,4000,8000"  # comma-separated, each >= 257
    show_merges: int = 30  # how many of the first merges to list


PRESETS: dict[str, dict] = {
    "micro": {"max_chars": 120_000, "vocab_sizes": "257,300,500,1000", "show_merges": 10},
    "tiny": {},
    "full": {"vocab_sizes": "300,1000,2000,4000,8000,16000,32000"},
}

FIELD_HELP: dict[str, Msg] = {
    "vocab_sizes": Msg(
        "vocabulary sizes to compare, comma-separated (256 bytes + merges + <|endoftext|>)",
        "zu vergleichende Vokabulargrößen, durch Kommas getrennt "
        "(256 Bytes + Merges + <|endoftext|>)",
    ),
    "show_merges": Msg(
        "how many of the first learned merges the summary lists",
        "wie viele der ersten gelernten Merges die Zusammenfassung zeigt",
    ),
}

TRAINING = Msg("Learning merges", "Merges lernen")
ONLY_CPU = Msg(
    "This lab counts in plain Python on the CPU only; use --device cpu or auto.",
    "Dieses Lab zählt in reinem Python nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_SHORT = Msg(
    "{source} has {n} characters; this lab needs at least {need}.",
    "{source} hat {n} Zeichen; dieses Lab braucht mindestens {need}.",
)
MIN_CHARS = 2_000


# ---------------------------------------------------------------- data and settings


def load_text(cfg: Config) -> tuple[str, str]:
    """(text, where it came from)."""
    text, source = runner.load_text(cfg.data, max_chars=cfg.max_chars)
    if len(text) < MIN_CHARS:
        raise LabError(TOO_SHORT.get(source=source, n=len(text), need=MIN_CHARS))
    return text, source


def vocab_sizes(cfg: Config) -> list[int]:
    try:
        sizes = sorted({int(v) for v in cfg.vocab_sizes.split(",") if v.strip()})
    except ValueError:
        raise LabError(
            runner.BAD_SETTING.get(detail="vocab_sizes must be integers like 300,1000")
        ) from None
    if not sizes or sizes[0] < 257:
        raise LabError(
            runner.BAD_SETTING.get(detail="every vocab size must be >= 257 (256 bytes + 1)")
        )
    return sizes


def check_config(cfg: Config) -> list[int]:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    if cfg.max_chars < 0 or cfg.show_merges < 0:
        raise LabError(runner.BAD_SETTING.get(detail="max_chars and show_merges must be >= 0"))
    return vocab_sizes(cfg)


def code_text() -> str:
    """Python source: the standard library's textwrap module, as it stands on disk."""
    return inspect.getsource(textwrap)


def show(token: bytes) -> str:
    """A token as readable text (space as '␣', newline as '↵', broken UTF-8 escaped)."""
    text = token.decode("utf-8", errors="backslashreplace")
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


def truncated(tokenizer: BPETokenizer, vocab_size: int) -> BPETokenizer:
    """The vocabulary of a training stopped at vocab_size: the first merges only."""
    return BPETokenizer(tokenizer.merges[: vocab_size - 257])


# ---------------------------------------------------------------- the run


def run(cfg: Config) -> LabReport:
    sizes = check_config(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    text, source = load_text(cfg)
    cut = int(0.9 * len(text))
    train_text, held_out = text[:cut], text[cut:]

    counts: list[int] = []
    with runner.progress(sizes[-1] - 257, TRAINING.get(), cfg.quiet) as bar:

        def on_merge(rank: int, pair: Pair, count: int) -> None:
            counts.append(count)
            if rank % 50 == 0:
                bar.update(completed=rank + 1, info=f"merge {rank}: count {count}")

        full = BPETokenizer.train(train_text, sizes[-1], on_merge=on_merge)
        bar.update(completed=sizes[-1] - 257)

    texts = {"english": held_out, "german": GERMAN, "code": code_text()}
    log = runner.MetricsLog(out / "metrics.jsonl")
    rows = []
    for size in sizes:
        tokenizer = truncated(full, size)
        row: dict[str, Any] = {"vocab_size": size, "merges": len(tokenizer.merges)}
        for name, sample in texts.items():
            n_tokens = len(tokenizer.encode_ordinary(sample))
            row[f"{name}_bytes_per_token"] = len(sample.encode("utf-8")) / n_tokens
            row[f"{name}_tokens_per_word"] = n_tokens / len(sample.split())
        rows.append(row)
        log.log(**row)
    log.close()

    largest = rows[-1]
    metrics: dict[str, float | int | str] = {
        "train_chars": len(train_text),
        "merges_learned": len(full.merges),
        "bytes_per_token_smallest": rows[0]["english_bytes_per_token"],
        "bytes_per_token_largest": largest["english_bytes_per_token"],
        "german_bytes_per_token_largest": largest["german_bytes_per_token"],
        "code_bytes_per_token_largest": largest["code_bytes_per_token"],
        "english_tokens_per_word": largest["english_tokens_per_word"],
        "german_tokens_per_word": largest["german_tokens_per_word"],
        "code_tokens_per_word": largest["code_tokens_per_word"],
        "seconds": round(timer.seconds, 2),
    }
    artifacts = {
        "compression_plot": plot_compression(out / "compression.png", rows),
        "merge_counts_plot": plot_merge_counts(out / "merge_counts.png", counts),
        "tokenizer": full.save(out),
        "metrics": out / "metrics.jsonl",
        "config": out / "config.json",
    }
    report_text = describe(full, sizes, rows, cfg.show_merges, source)
    (out / "report.txt").write_text(report_text + "\n", encoding="utf-8")
    artifacts["report"] = out / "report.txt"
    return LabReport(LAB, out, metrics, artifacts, text=report_text, seconds=timer.seconds)


def describe(
    full: BPETokenizer, sizes: list[int], rows: list[dict[str, Any]], n_merges: int, source: str
) -> str:
    first = [
        f"{rank:>4}  {show(full.vocab[a])} + {show(full.vocab[b])} -> {show(full.vocab[256 + rank])}"
        for rank, (a, b) in enumerate(full.merges[:n_merges])
    ]
    splits = []
    for word in SAMPLE_WORDS:
        for size in sizes:
            tokenizer = truncated(full, size)
            pieces = [show(tokenizer.vocab[i]) for i in tokenizer.encode_ordinary(word)]
            splits.append(f"{size:>6}  {' | '.join(pieces)}")
        splits.append("")
    table = [
        f"{'vocab':>6} {'english':>8} {'german':>8} {'code':>8}   tokens/word en de code",
        *(
            f"{r['vocab_size']:>6} {r['english_bytes_per_token']:>8.2f} "
            f"{r['german_bytes_per_token']:>8.2f} {r['code_bytes_per_token']:>8.2f}   "
            f"{r['english_tokens_per_word']:.2f} {r['german_tokens_per_word']:.2f} "
            f"{r['code_tokens_per_word']:.2f}"
            for r in rows
        ),
    ]
    return "\n".join(
        [
            f"bytes per token (trained on {source}):",
            *table,
            "",
            "first merges:",
            *first,
            "",
            "how words split:",
            *splits,
        ]
    ).rstrip()


def plot_compression(path: Path, rows: list[dict[str, Any]]) -> Path:
    sizes = [float(r["vocab_size"]) for r in rows]
    series = {
        name: (sizes, [float(r[f"{name}_bytes_per_token"]) for r in rows])
        for name in ("english", "german", "code")
    }
    return runner.save_line_plot(
        path, series, "Compression against vocabulary size", "vocabulary size", "bytes per token"
    )


def plot_merge_counts(path: Path, counts: list[int]) -> Path:
    ranks = [float(r) for r in range(len(counts))]
    return runner.save_line_plot(
        path,
        {"pair count when merged": (ranks, [float(c) for c in counts])},
        "Pair count of each merge, by rank",
        "merge rank",
        "count",
        logy=True,
    )
