"""ROUGE (Lin 2004), computed exactly as Google's rouge-score package computes it.

BLEU asks how much of the output is in the reference (precision); ROUGE was made for
summaries and leads with the other direction, how much of the reference the output covers
(recall), reporting precision, recall and their harmonic mean F1:
- ROUGE-N: overlap of n-grams, each counted at most as often as it occurs on both sides;
- ROUGE-L: the longest common subsequence (LCS) of the two token lists, which rewards words
  in the same order without asking them to be adjacent;
- ROUGE-Lsum: the summary-level LCS of the paper's section 3.2, for multi-sentence text with
  one sentence per line: each reference sentence is matched against all output sentences.

Tokens as in rouge-score: lower-case, every run of characters other than a-z and 0-9 becomes
a space, and optionally words longer than three letters are Porter-stemmed (NLTK's default
mode, which `groundup.text.porter` reproduces). The tests compare with RougeScorer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from groundup.text.porter import NLTK_EXTENSIONS, stem

NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Score:
    """Precision, recall and F1 of one ROUGE variant, named as in rouge-score."""

    precision: float
    recall: float
    fmeasure: float


def tokenize(text: str, use_stemmer: bool = False) -> list[str]:
    """rouge-score's tokens: lower-case alphanumeric runs, stemmed if longer than 3 letters."""
    tokens = NON_ALPHANUMERIC.sub(" ", text.lower()).split()
    if use_stemmer:
        # short words are left alone: stemming "was" or "has" would only merge unrelated words
        tokens = [stem(token, NLTK_EXTENSIONS) if len(token) > 3 else token for token in tokens]
    return tokens


def f_measure(precision: float, recall: float) -> float:
    """Harmonic mean, 0 when both are 0."""
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


# ---------------------------------------------------------------- ROUGE-N


def ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    """How often each n-gram occurs."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(target_tokens: list[str], prediction_tokens: list[str], n: int) -> Score:
    """Clipped n-gram overlap; an empty side gives 0, not a division by zero."""
    if n <= 0:
        raise ValueError(f"ROUGE-N needs n >= 1, got {n}")
    target, prediction = ngrams(target_tokens, n), ngrams(prediction_tokens, n)
    overlap = sum((target & prediction).values())  # & keeps the smaller count of each n-gram
    precision = overlap / max(sum(prediction.values()), 1)
    recall = overlap / max(sum(target.values()), 1)
    return Score(precision, recall, f_measure(precision, recall))


# ---------------------------------------------------------------- ROUGE-L


def lcs_table(a: list[str], b: list[str]) -> list[list[int]]:
    """table[i][j] = length of the LCS of a[:i] and b[:j] (dynamic programming, O(len a·len b))."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table


def rouge_l(target_tokens: list[str], prediction_tokens: list[str]) -> Score:
    """LCS length over the prediction length (precision) and over the target length (recall)."""
    if not target_tokens or not prediction_tokens:
        return Score(0.0, 0.0, 0.0)
    lcs_length = lcs_table(target_tokens, prediction_tokens)[-1][-1]
    precision = lcs_length / len(prediction_tokens)
    recall = lcs_length / len(target_tokens)
    return Score(precision, recall, f_measure(precision, recall))


def lcs_positions(reference: list[str], candidate: list[str]) -> list[int]:
    """Positions in reference of one LCS, read back from the table.

    Several LCS may exist; which one is read decides the union in ROUGE-Lsum, so the walk
    follows rouge-score's: on a tie between going left and going up, go up.
    """
    table = lcs_table(reference, candidate)
    i, j = len(reference), len(candidate)
    positions: list[int] = []
    while i > 0 and j > 0:
        if reference[i - 1] == candidate[j - 1]:
            positions.append(i - 1)
            i, j = i - 1, j - 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return positions[::-1]


def rouge_lsum(target_sentences: list[list[str]], prediction_sentences: list[list[str]]) -> Score:
    """Summary-level LCS: per reference sentence, the union of its LCS with every output sentence.

    A word counts as a hit at most as often as it occurs in the whole reference and in the
    whole prediction, so one output word cannot be credited to many reference sentences.
    """
    target_length = sum(map(len, target_sentences))
    prediction_length = sum(map(len, prediction_sentences))
    if not target_length or not prediction_length:
        return Score(0.0, 0.0, 0.0)
    target_left = Counter(token for sentence in target_sentences for token in sentence)
    prediction_left = Counter(token for sentence in prediction_sentences for token in sentence)
    hits = 0
    for reference in target_sentences:
        union = sorted(set().union(*(lcs_positions(reference, c) for c in prediction_sentences)))
        for token in (reference[i] for i in union):
            if target_left[token] > 0 and prediction_left[token] > 0:
                hits += 1
                target_left[token] -= 1
                prediction_left[token] -= 1
    precision, recall = hits / prediction_length, hits / target_length
    return Score(precision, recall, f_measure(precision, recall))


# ---------------------------------------------------------------- the scorer


def rouge(
    target: str,
    prediction: str,
    rouge_types: Sequence[str] = ("rouge1", "rouge2", "rougeL"),
    use_stemmer: bool = False,
) -> dict[str, Score]:
    """Scores named like rouge-score's: "rouge1".."rouge9", "rougeL", "rougeLsum".

    For "rougeLsum" sentences are the non-empty lines of each text.
    """
    target_tokens = tokenize(target, use_stemmer)
    prediction_tokens = tokenize(prediction, use_stemmer)
    scores: dict[str, Score] = {}
    for rouge_type in rouge_types:
        if rouge_type == "rougeL":
            scores[rouge_type] = rouge_l(target_tokens, prediction_tokens)
        elif rouge_type == "rougeLsum":
            target_sentences = [tokenize(line, use_stemmer) for line in target.split("\n") if line]
            prediction_sentences = [
                tokenize(line, use_stemmer) for line in prediction.split("\n") if line
            ]
            scores[rouge_type] = rouge_lsum(target_sentences, prediction_sentences)
        elif re.fullmatch(r"rouge[0-9]", rouge_type):
            scores[rouge_type] = rouge_n(target_tokens, prediction_tokens, int(rouge_type[5:]))
        else:
            raise ValueError(f"unknown ROUGE type {rouge_type!r}")
    return scores


def rouge_multi(
    targets: Sequence[str],
    prediction: str,
    rouge_types: Sequence[str] = ("rouge1", "rouge2", "rougeL"),
    use_stemmer: bool = False,
) -> dict[str, Score]:
    """Against several references: per type, the score of the reference with the best F1."""
    per_target = [rouge(target, prediction, rouge_types, use_stemmer) for target in targets]
    best: dict[str, Score] = {}
    for rouge_type in rouge_types:
        # the first of equally good references wins, as with numpy's argmax
        best_index = max(
            range(len(per_target)), key=lambda i: (per_target[i][rouge_type].fmeasure, -i)
        )
        best[rouge_type] = per_target[best_index][rouge_type]
    return best
