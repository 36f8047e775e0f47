"""BLEU (Papineni et al. 2002), computed exactly as sacrebleu computes it.

BLEU asks how many of the hypothesis' n-grams (n = 1..4) also occur in a reference, with
each n-gram's count clipped to the most times any single reference contains it, so that
"the the the the" earns no more than the reference's "the"s. The four modified precisions
p_n are combined by a geometric mean and multiplied by a brevity penalty
BP = exp(1 - r / c) when the hypothesis length c is below the reference length r (precision
alone would reward saying almost nothing). At corpus level the counts are summed over all
segments first and the precisions taken once; BLEU is not an average of sentence scores.

Everything is defined on tokens, so the tokenizer is part of the metric: sacrebleu's default
`13a` (the mteval-v13a script used by WMT) is reproduced below, and the tests check scores,
precisions, brevity penalty and lengths against sacrebleu.corpus_bleu / sentence_bleu.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

MAX_ORDER = 4
SMOOTH_DEFAULTS: dict[str, float | None] = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}
LOG_ZERO = -9999999999  # sacrebleu's stand-in for log(0): the score becomes exactly 0

# ---------------------------------------------------------------- the 13a tokenizer

# Every ASCII symbol except . , - (and except ' which stays inside "don't") is split off.
# Ranges: { | } ~, [ \ ] ^ _ `, space ! " # $ % &, ( ) * +, : ; < = > ? @, and /.
SYMBOLS = re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])")
PERIOD_COMMA_AFTER_NON_DIGIT = re.compile(r"([^0-9])([\.,])")
PERIOD_COMMA_BEFORE_NON_DIGIT = re.compile(r"([\.,])([^0-9])")
DASH_AFTER_DIGIT = re.compile(r"([0-9])(-)")


def tokenize_13a(line: str) -> str:
    """Tokenize one segment like mteval-v13a; tokens come back joined by single spaces.

    Periods and commas are split off unless they sit between digits ("3.14", "1,000" stay),
    a dash is split off after a digit ("2-3" -> "2 - 3"), and four HTML entities are decoded.
    """
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&")
        line = line.replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} "  # the padding lets the period rules see a non-digit at both ends
    line = SYMBOLS.sub(r" \1 ", line)
    line = PERIOD_COMMA_AFTER_NON_DIGIT.sub(r"\1 \2 ", line)
    line = PERIOD_COMMA_BEFORE_NON_DIGIT.sub(r" \1 \2", line)
    line = DASH_AFTER_DIGIT.sub(r"\1 \2 ", line)
    return " ".join(line.split())


def preprocess(segment: str, lowercase: bool = False) -> list[str]:
    """The tokens BLEU counts: optional lower-casing, trailing whitespace cut, 13a split."""
    if lowercase:
        segment = segment.lower()
    return tokenize_13a(segment.rstrip()).split()


# ---------------------------------------------------------------- statistics of one segment


def ngram_counts(tokens: list[str], max_order: int = MAX_ORDER) -> Counter[tuple[str, ...]]:
    """How often each n-gram of order 1..max_order occurs (all orders in one Counter)."""
    return Counter(
        tuple(tokens[i : i + n])
        for n in range(1, max_order + 1)
        for i in range(len(tokens) - n + 1)
    )


def closest_ref_length(hyp_length: int, ref_lengths: list[int]) -> int:
    """The reference length nearest the hypothesis length; on a tie the shorter one wins."""
    return min(ref_lengths, key=lambda length: (abs(hyp_length - length), length))


@dataclass
class SegmentStats:
    """What BLEU needs from a segment; corpus statistics are their element-wise sum."""

    hyp_length: int
    ref_length: int
    correct: list[int]  # clipped matches per order
    total: list[int]  # hypothesis n-grams per order


def segment_stats(
    hyp_tokens: list[str], refs_tokens: list[list[str]], max_order: int = MAX_ORDER
) -> SegmentStats:
    """Clipped n-gram matches of one hypothesis against all its references."""
    # the clip for an n-gram is the most times any one reference holds it
    max_ref_counts: Counter[tuple[str, ...]] = Counter()
    for ref_tokens in refs_tokens:
        max_ref_counts |= ngram_counts(ref_tokens, max_order)
    correct, total = [0] * max_order, [0] * max_order
    for ngram, count in ngram_counts(hyp_tokens, max_order).items():
        total[len(ngram) - 1] += count
        correct[len(ngram) - 1] += min(count, max_ref_counts[ngram])
    ref_length = closest_ref_length(len(hyp_tokens), [len(ref) for ref in refs_tokens])
    return SegmentStats(len(hyp_tokens), ref_length, correct, total)


# ---------------------------------------------------------------- from statistics to a score


@dataclass
class BleuScore:
    """The score (0..100) with the parts it is made of, named as in sacrebleu."""

    score: float
    precisions: list[float]  # in percent
    bp: float
    sys_len: int
    ref_len: int
    counts: list[float]
    totals: list[float]


def brevity_penalty(sys_len: int, ref_len: int) -> float:
    """exp(1 - r/c) for a hypothesis shorter than the reference, else 1 (0 when c = 0)."""
    if sys_len >= ref_len:
        return 1.0
    return math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0


def bleu_from_stats(
    stats: SegmentStats,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
) -> BleuScore:
    """Precisions, smoothing and the geometric mean, following sacrebleu step by step.

    Smoothing (Chen & Cherry 2014) only matters where an order has no match at all:
    - "none": p_n = 0, so the score is 0;
    - "floor": p_n = value / total_n (value 0.1 by default);
    - "add-k": add k (1 by default) to matches and totals of orders 2 and up;
    - "exp": the k-th order without a match gets p_n = 1 / (2^k total_n) (mteval's rule).
    effective_order averages only over the orders the hypothesis has n-grams of, which keeps
    short sentences from scoring 0 merely for being shorter than four tokens.
    """
    if smooth_method not in SMOOTH_DEFAULTS:
        raise ValueError(f"unknown smooth_method {smooth_method!r}")
    if smooth_value is None:
        smooth_value = SMOOTH_DEFAULTS[smooth_method]
    correct: list[float] = list(stats.correct)
    total: list[float] = list(stats.total)
    max_order = len(correct)
    bp = brevity_penalty(stats.hyp_length, stats.ref_length)
    precisions = [0.0] * max_order
    if not any(correct):  # not a single matching word: 0, whatever the smoothing
        return BleuScore(0.0, precisions, bp, stats.hyp_length, stats.ref_length, correct, total)

    halvings, used_orders = 1.0, max_order
    for n in range(1, max_order + 1):
        if smooth_method == "add-k" and n > 1:
            correct[n - 1] += smooth_value
            total[n - 1] += smooth_value
        if total[n - 1] == 0:
            break  # hypothesis shorter than n: this order and the higher ones stay at 0
        if effective_order:
            used_orders = n
        if correct[n - 1] == 0:
            if smooth_method == "exp":
                halvings *= 2
                precisions[n - 1] = 100.0 / (halvings * total[n - 1])
            elif smooth_method == "floor":
                precisions[n - 1] = 100.0 * smooth_value / total[n - 1]
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]

    log_mean = sum(math.log(p) if p > 0 else LOG_ZERO for p in precisions[:used_orders])
    score = bp * math.exp(log_mean / used_orders)
    return BleuScore(score, precisions, bp, stats.hyp_length, stats.ref_length, correct, total)


# ---------------------------------------------------------------- corpus and sentence BLEU


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]],
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    lowercase: bool = False,
    use_effective_order: bool = False,
    max_order: int = MAX_ORDER,
) -> BleuScore:
    """Corpus BLEU with sacrebleu's calling convention and defaults.

    references is a list of reference *streams*: references[k][i] is the k-th reference of
    segment i (None where segment i has fewer references).
    """
    if any(len(stream) != len(hypotheses) for stream in references):
        raise ValueError("every reference stream must have one entry per hypothesis")
    summed = SegmentStats(0, 0, [0] * max_order, [0] * max_order)
    for i, hypothesis in enumerate(hypotheses):
        refs = [preprocess(stream[i], lowercase) for stream in references if stream[i] is not None]
        stats = segment_stats(preprocess(hypothesis, lowercase), refs, max_order)
        summed.hyp_length += stats.hyp_length
        summed.ref_length += stats.ref_length
        for n in range(max_order):
            summed.correct[n] += stats.correct[n]
            summed.total[n] += stats.total[n]
    return bleu_from_stats(summed, smooth_method, smooth_value, use_effective_order)


def sentence_bleu(
    hypothesis: str,
    references: Sequence[str],
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    lowercase: bool = False,
    use_effective_order: bool = True,
) -> BleuScore:
    """BLEU of one sentence against its references (sacrebleu's defaults: effective order)."""
    return corpus_bleu(
        [hypothesis],
        [[ref] for ref in references],
        smooth_method,
        smooth_value,
        lowercase,
        use_effective_order,
    )
