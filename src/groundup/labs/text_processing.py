"""Lab: run a whole text through the text-processing pipeline and look at what comes out.

Data: the embedded corpus (the docstrings of Python's standard library, about 1.2 MB of
English), or a UTF-8 text file of your own with --data. The lab
1. splits the text into paragraphs, sentences and word tokens with offsets,
2. counts the vocabulary (distinct words) under stronger and stronger normalisation:
   raw, lower case, NFKC + casefold, lemmatised, stemmed,
3. checks Zipf's law: the r-th most frequent word occurs about C / r^s times, so on a
   log-log plot rank against frequency is a line with slope -s close to -1,
4. times the Porter stemmer against NLTK's (words per second, and whether they agree),
5. lists the most frequent bigrams and trigrams, with and without stop words.
The lemmatiser gets no part-of-speech tagger: words in -ed/-ing are treated as verbs, the
rest as nouns, which is crude, and the summary says so.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.text.lemmatize import lemmatize
from groundup.text.normalize import normalize
from groundup.text.porter import stem
from groundup.text.tokenize import STOP_WORDS_EN, ngrams, split_sentences, word_tokens

LAB = "text_processing"
LEVELS = ("raw", "lower", "nfkc_casefold", "lemmatized", "stemmed")


@dataclass
class Config(LabConfig):
    max_chars: int = 0  # 0: the whole text; otherwise only its first max_chars characters
    zipf_max_rank: int = 1000  # the Zipf line is fitted on ranks 1..zipf_max_rank
    benchmark_words: int = 50_000  # word tokens both stemmers stem for the speed comparison
    top_ngrams: int = 10  # rows of each n-gram table


PRESETS: dict[str, dict] = {
    "micro": {"max_chars": 150_000, "benchmark_words": 5_000, "zipf_max_rank": 300},
    "tiny": {},
    "full": {"benchmark_words": 200_000, "zipf_max_rank": 3000, "top_ngrams": 25},
}

FIELD_HELP: dict[str, Msg] = {
    "zipf_max_rank": Msg(
        "highest rank used to fit the Zipf line",
        "höchster Rang, der in die Anpassung der Zipf-Geraden eingeht",
    ),
    "benchmark_words": Msg(
        "word tokens stemmed by both stemmers to compare their speed",
        "Wort-Tokens, die beide Stemmer für den Geschwindigkeitsvergleich verarbeiten",
    ),
    "top_ngrams": Msg(
        "rows in each table of frequent n-grams",
        "Zeilen in jeder Tabelle der häufigsten N-Gramme",
    ),
}

READING = Msg("Tokenizing paragraphs", "Absätze tokenisieren")
ONLY_CPU = Msg(
    "This lab runs in plain Python on the CPU only; use --device cpu or auto.",
    "Dieses Lab läuft in reinem Python nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_FEW_WORDS = Msg(
    "{source} has {n} distinct words; this lab needs at least {need}.",
    "{source} enthält {n} verschiedene Wörter; dieses Lab braucht mindestens {need}.",
)
MIN_DISTINCT_WORDS = 20
NO_TAGGER = Msg(
    "(lemmas without a part-of-speech tagger: words in -ed/-ing as verbs, the rest as nouns)",
    "(Lemmata ohne Wortart-Tagger: Wörter auf -ed/-ing als Verben, der Rest als Substantive)",
)


# ---------------------------------------------------------------- data


def load_text(cfg: Config) -> tuple[str, str]:
    """(text, where it came from)."""
    return runner.load_text(cfg.data, max_chars=cfg.max_chars)


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if cfg.max_chars < 0:
        problems.append("max_chars must be >= 0")
    if cfg.zipf_max_rank < 10:
        problems.append("zipf_max_rank must be >= 10")
    if cfg.benchmark_words < 1 or cfg.top_ngrams < 1:
        problems.append("benchmark_words and top_ngrams must be >= 1")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


def is_word(token: str) -> bool:
    return any(char.isalnum() for char in token)


def guess_lemma(word: str) -> str:
    return lemmatize(word, "v" if word.endswith(("ed", "ing")) else "n")


# ---------------------------------------------------------------- the run


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.out_dir(cfg, LAB)
    runner.save_config(cfg, out)
    text, source = load_text(cfg)
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    log = runner.MetricsLog(out / "metrics.jsonl")

    # 1. paragraphs -> sentences -> word tokens (punctuation counted, but kept out of words)
    words: list[str] = []
    sentence_words: list[list[str]] = []
    tokens = sentences = shown = 0
    chunk = max(1, len(paragraphs) // 50)
    with runner.progress(len(paragraphs), READING.get(), cfg.quiet) as bar:
        for i, paragraph in enumerate(paragraphs):
            for sentence in split_sentences(paragraph):
                found = [t.text for t in word_tokens(sentence)]
                tokens += len(found)
                sentences += 1
                sentence_words.append([w for w in found if is_word(w)])
                words += sentence_words[-1]
            if (i + 1) % chunk == 0 or i + 1 == len(paragraphs):
                bar.update(advance=i + 1 - shown, info=f"{len(words):,} words")
                shown = i + 1
                log.log(stage="tokenize", paragraphs=i + 1, tokens=tokens, words=len(words))
    distinct_raw = Counter(words)
    if len(distinct_raw) < MIN_DISTINCT_WORDS:
        log.close()
        raise LabError(
            TOO_FEW_WORDS.get(source=source, n=len(distinct_raw), need=MIN_DISTINCT_WORDS)
        )

    # 2. the vocabulary under each normalisation; each level maps the distinct words of the
    # level before, so the work is per type (thousands), not per token (hundreds of thousands)
    lower = {w: w.lower() for w in distinct_raw}
    folded = {w: normalize(w) for w in distinct_raw}
    lemma = {f: guess_lemma(f) for f in set(folded.values())}
    stemmed = {f: stem(f) for f in set(folded.values())}
    vocabulary = {
        "raw": len(distinct_raw),
        "lower": len(set(lower.values())),
        "nfkc_casefold": len(set(folded.values())),
        "lemmatized": len(set(lemma.values())),
        "stemmed": len(set(stemmed.values())),
    }
    log.log(stage="vocabulary", **vocabulary)

    # 3. Zipf: fit log f = log C - s log r on the ranks 1..zipf_max_rank
    counts = np.array(sorted(Counter(folded[w] for w in words).values(), reverse=True), float)
    top = min(cfg.zipf_max_rank, len(counts))
    ranks = np.arange(1, len(counts) + 1, dtype=float)
    slope, intercept = np.polyfit(np.log(ranks[:top]), np.log(counts[:top]), 1)

    # 4. the stemmers' speed on the first benchmark_words word tokens (no cache on either side)
    bench = [folded[w] for w in words[: cfg.benchmark_words]]
    ours, ours_per_s = timed(lambda: [stem(w) for w in bench], len(bench))
    theirs, nltk_per_s = nltk_stemmer_speed(bench)
    agreement = (
        float(np.mean([a == b for a, b in zip(ours, theirs, strict=True)]))
        if theirs
        else float("nan")
    )
    log.log(stage="stemmer", words=len(bench), ours_per_s=ours_per_s, nltk_per_s=nltk_per_s)

    # 5. frequent n-grams of lower-cased words, never across a sentence boundary
    folded_sentences = [[folded[w] for w in sentence] for sentence in sentence_words]
    tables = {
        "bigrams": top_ngrams(folded_sentences, 2, cfg.top_ngrams),
        "trigrams": top_ngrams(folded_sentences, 3, cfg.top_ngrams),
        "bigrams_without_stop_words": top_ngrams(
            [[w for w in s if w not in STOP_WORDS_EN] for s in folded_sentences], 2, cfg.top_ngrams
        ),
    }
    log.close()

    artifacts = {
        "zipf_plot": plot_zipf(out / "zipf.png", ranks, counts, slope, intercept, top),
        "vocabulary_plot": plot_vocabulary(
            out / "vocabulary.png", vocabulary, ours_per_s, nltk_per_s
        ),
        "ngrams_table": write_ngrams(out / "ngrams.csv", tables),
        "metrics": out / "metrics.jsonl",
        "config": out / "config.json",
    }
    metrics: dict[str, float | int | str] = {
        "characters": len(text),
        "paragraphs": len(paragraphs),
        "sentences": sentences,
        "tokens": tokens,
        "word_tokens": len(words),
        **{f"vocabulary_{level}": vocabulary[level] for level in LEVELS},
        "zipf_slope": float(slope),
        "zipf_fit_ranks": top,
        "stemmer_words_per_s": round(ours_per_s),
        "nltk_stemmer_words_per_s": round(nltk_per_s) if theirs else "n/a",
        "stemmer_agreement_with_nltk": agreement,
        "seconds": round(timer.seconds, 2),
    }
    text_out = "\n\n".join(format_table(name, rows) for name, rows in tables.items())
    text_out += "\n\n" + NO_TAGGER.get()
    return LabReport(LAB, out, metrics, artifacts, text=text_out, seconds=timer.seconds)


def timed(work: Any, n: int) -> tuple[Any, float]:
    start = time.perf_counter()
    result = work()
    return result, n / max(time.perf_counter() - start, 1e-9)


def nltk_stemmer_speed(words: list[str]) -> tuple[list[str], float]:
    try:
        from nltk.stem import PorterStemmer
    except ImportError:  # NLTK is an optional reference, not a dependency of the lab
        return [], float("nan")
    reference = PorterStemmer()
    return timed(lambda: [reference.stem(w) for w in words], len(words))


def top_ngrams(sentences: list[list[str]], n: int, k: int) -> list[tuple[str, int]]:
    counts = Counter(gram for sentence in sentences for gram in ngrams(sentence, n))
    return [(" ".join(gram), c) for gram, c in counts.most_common(k)]


def format_table(name: str, rows: list[tuple[str, int]]) -> str:
    width = max((len(gram) for gram, _ in rows), default=10)
    lines = [f"{name}:"] + [f"  {gram:<{width}}  {count:>7,}" for gram, count in rows]
    return "\n".join(lines)


def write_ngrams(path: Path, tables: dict[str, list[tuple[str, int]]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["table", "rank", "ngram", "count"])
        for name, rows in tables.items():
            for rank, (gram, count) in enumerate(rows, start=1):
                writer.writerow([name, rank, gram, count])
    return path


# ---------------------------------------------------------------- plots


def plot_zipf(
    path: Path, ranks: np.ndarray, counts: np.ndarray, slope: float, intercept: float, top: int
) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.6), dpi=110)
    ax.loglog(ranks, counts, ".", markersize=3, label="words (NFKC + casefold)")
    fit = np.exp(intercept) * ranks[:top] ** slope
    ax.loglog(ranks[:top], fit, "r-", label=f"fit on ranks 1..{top}: slope {slope:.2f}")
    ax.loglog(ranks, counts[0] / ranks, "k--", linewidth=0.8, label="Zipf: f(1) / r")
    ax.set_xlabel("rank r")
    ax.set_ylabel("frequency f(r)")
    ax.set_title("Zipf's law: rank against frequency")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_vocabulary(
    path: Path, vocabulary: dict[str, int], ours_per_s: float, nltk_per_s: float
) -> Path:
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110,
                                      gridspec_kw={"width_ratios": [2.2, 1]})  # fmt: skip
    bars = left.bar(list(vocabulary), list(vocabulary.values()), color="tab:blue")
    left.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    left.set_title("Distinct words under each normalisation")
    left.set_ylabel("vocabulary size")
    left.tick_params(axis="x", labelsize=8)
    speeds = {"groundup": ours_per_s, "NLTK": nltk_per_s}
    speeds = {k: v for k, v in speeds.items() if np.isfinite(v)}
    bars = right.bar(
        list(speeds), list(speeds.values()), color=["tab:green", "tab:gray"][: len(speeds)]
    )
    right.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    right.set_title("Porter stemmer speed")
    right.set_ylabel("words per second")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
