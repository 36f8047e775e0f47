"""Planted bugs for the extractive_qa exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """import re
import string
from collections import Counter


def normalize_answer(text):
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\\b(a|an|the)\\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction, truth):
    return float(normalize_answer(prediction) == normalize_answer(truth))


def token_f1(prediction, truth):
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(truth).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision = common / len(predicted)
    recall = common / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_span(start_logits, end_logits, context_mask, max_answer_length):
    best, best_score = (0, 0), None
    for s in range(len(start_logits)):
        for e in range(s, len(end_logits)):
            if not (context_mask[s] and context_mask[e]):
                continue
            if e - s + 1 > max_answer_length:
                continue
            score = start_logits[s] + end_logits[e]
            if best_score is None or score > best_score:
                best, best_score = (s, e), score
    return best
"""


def variant(old: str, new: str) -> str:
    assert old in SOLUTION, old
    return SOLUTION.replace(old, new, 1)


MUTANTS: list[Mutant] = [
    Mutant(
        "no_lower_case",
        "normalize_basic",
        variant("    text = text.lower()\n", ""),
        "compares 'Paris' and 'paris' as different answers",
    ),
    Mutant(
        "split_on_spaces_only",
        "normalize_basic",
        variant(
            'return " ".join(text.split())', 'return " ".join(w for w in text.split(" ") if w)'
        ),
        "a tab stays inside a word",
    ),
    Mutant(
        "punctuation_to_space",
        "normalize_punctuation",
        variant(
            '"".join(ch for ch in text if ch not in set(string.punctuation))',
            '"".join(" " if ch in set(string.punctuation) else ch for ch in text)',
        ),
        "'U.S.' becomes 'u s', two words",
    ),
    Mutant(
        "articles_inside_words",
        "normalize_articles",
        variant('r"\\b(a|an|the)\\b"', 'r"(a|an|the)"'),
        "'theatre' loses its 'the'",
    ),
    Mutant(
        "articles_before_lower_case",
        "normalize_articles",
        variant(
            '    text = text.lower()\n    text = "".join(ch for ch in text if ch not in set(string.punctuation))\n    text = re.sub(r"\\b(a|an|the)\\b", " ", text)\n',
            '    text = re.sub(r"\\b(a|an|the)\\b", " ", text)\n    text = text.lower()\n    text = "".join(ch for ch in text if ch not in set(string.punctuation))\n',
        ),
        "'The' survives: the articles are removed before lower-casing",
    ),
    Mutant(
        "exact_match_raw",
        "exact_match",
        variant(
            "return float(normalize_answer(prediction) == normalize_answer(truth))",
            "return float(prediction.strip() == truth.strip())",
        ),
        "compares the raw strings",
    ),
    Mutant(
        "f1_with_sets",
        "token_f1",
        variant(
            "common = sum((Counter(predicted) & Counter(expected)).values())",
            "common = len(set(predicted) & set(expected))",
        ),
        "a repeated word counts once",
    ),
    Mutant(
        "f1_swapped_recall",
        "token_f1",
        variant("recall = common / len(expected)", "recall = common / len(predicted + expected)"),
        "recall divides by both answers' words",
    ),
    Mutant(
        "f1_divides_by_zero",
        "f1_nothing_shared",
        variant("    if common == 0:\n        return 0.0\n", ""),
        "ZeroDivisionError when nothing is shared",
    ),
    Mutant(
        "span_ignores_context",
        "span_is_valid",
        variant(
            "            if not (context_mask[s] and context_mask[e]):\n                continue\n",
            "",
        ),
        "answers with [CLS] or question tokens",
    ),
    Mutant(
        "span_end_before_start",
        "span_is_valid",
        variant("for e in range(s, len(end_logits)):", "for e in range(len(end_logits)):"),
        "pairs an end before its start",
    ),
    Mutant(
        "span_independent_argmax",
        "span_is_best",
        variant(
            "    best, best_score = (0, 0), None\n",
            "    inside = [i for i, m in enumerate(context_mask) if m]\n"
            "    if inside:\n"
            "        s = max(inside, key=lambda i: start_logits[i])\n"
            "        e = max((i for i in inside if i >= s), key=lambda i: end_logits[i])\n"
            "        return (s, e)\n"
            "    best, best_score = (0, 0), None\n",
        ),
        "the best start first, then the best end after it: not the best pair",
    ),
    Mutant(
        "span_length_off_by_one",
        "span_length_limit",
        variant("if e - s + 1 > max_answer_length:", "if e - s > max_answer_length:"),
        "allows one token more than max_answer_length",
    ),
    Mutant(
        "span_none_valid_returns_last",
        "span_none_valid",
        variant(
            "    best, best_score = (0, 0), None\n",
            "    best, best_score = (len(start_logits) - 1, len(start_logits) - 1), None\n",
        ),
        "returns the last token when no pair is valid",
    ),
]
