"""Checks for the extractive_qa exercise, against groundup.finetune.qa (normalize_answer,
exact_match and token_f1 follow the official SQuAD v1.1 evaluation script; best_spans is
the library's n-best decoder, here searching every pair of one window).

Answers are drawn from a seeded generator over pieces that exercise each rule: articles as
whole words and inside words ("theatre"), punctuation inside words ("U.S."), repeated words,
tabs and double spaces. Span logits are random floats, so the best pair is unique.
"""

from __future__ import annotations

import random
from types import ModuleType

from groundup.exercises.checking import Check, Mismatch, call, check, excerpt, require
from groundup.finetune.qa import Feature, best_spans, exact_match, normalize_answer, token_f1
from groundup.i18n import Msg

FUNCTIONS = ["normalize_answer", "exact_match", "token_f1", "best_span"]

REFERENCE = """from groundup.finetune.qa import Feature, best_spans, exact_match, normalize_answer, token_f1


def best_span(start_logits, end_logits, context_mask, max_answer_length):
    n = len(start_logits)
    window = Feature(0, [0] * n, [0] * n, [1] * n, [(i, i + 1) for i in range(n)], list(context_mask))
    spans = best_spans([0], [window], [start_logits], [end_logits], "x" * n, n, max_answer_length)
    return (spans[0].start_token, spans[0].end_token) if spans else (0, 0)
"""

PIECES = ["The", "the", "a", "An", "an", "theatre", "Anna", "Paris", "Denver", "Broncos",
          "1,815", "U.S.", "Café", "-", "(", ")", "!", "'s", "and"]  # fmt: skip


def random_answer(rng: random.Random) -> str:
    words = [rng.choice(PIECES) for _ in range(rng.randint(0, 6))]
    return "".join(w + rng.choice((" ", " ", "  ", "\t", "")) for w in words)


def library_best_span(
    start: list[float], end: list[float], mask: list[bool], max_answer_length: int
) -> tuple[int, int]:
    n = len(start)
    window = Feature(0, [0] * n, [0] * n, [1] * n, [(i, i + 1) for i in range(n)], list(mask))
    spans = best_spans([0], [window], [start], [end], "x" * n, n, max_answer_length)
    return (spans[0].start_token, spans[0].end_token) if spans else (0, 0)


def random_window(seed: int) -> tuple[list[float], list[float], list[bool]]:
    """[CLS] question [SEP] context [SEP] with random logits, highest often off the context."""
    rng = random.Random(seed)
    question, context = rng.randint(2, 6), rng.randint(3, 25)
    mask = [False] * (question + 2) + [True] * context + [False]
    start = [rng.gauss(0, 2) for _ in mask]
    end = [rng.gauss(0, 2) for _ in mask]
    start[0], end[0] = 9.0, 9.0  # [CLS] is the strongest, and never a valid answer here
    return start, end, mask


def same(compared: Msg, got: object, expected: object) -> None:
    if got != expected:
        raise Mismatch(compared, expected=excerpt(expected), got=excerpt(got))


def close(compared: Msg, got: object, expected: float) -> None:
    if not isinstance(got, (int, float)) or abs(float(got) - expected) > 1e-9:
        raise Mismatch(compared, expected=f"{expected:.6g}", got=excerpt(got))


def msg(text: str) -> Msg:
    return Msg(text, text)


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def normalize_cases(module: ModuleType, cases: list[str]) -> None:
    fn = require(module, "normalize_answer")
    for text in cases:
        compared = msg(f"normalize_answer({text!r})")
        same(compared, call(compared, fn, text), normalize_answer(text))


def normalize_basic(module: ModuleType) -> None:
    normalize_cases(module, ["Paris", "  Denver   Broncos ", "NEW\tYork\n", "", "Café Müller"])


def normalize_punctuation(module: ModuleType) -> None:
    normalize_cases(module, ["Broncos!", "U.S.-based", "1,815", "(Paris)", "rock 'n' roll"])


def normalize_articles(module: ModuleType) -> None:
    cases = ["The Broncos", "a cat and an apple", "theatre Anna", "the", "THE AN A end",
             "Anna the 2nd", "the.end"]  # fmt: skip
    rng = random.Random(0)
    normalize_cases(module, cases + [random_answer(rng) for _ in range(40)])


def exact_match_cases(module: ModuleType) -> None:
    fn = require(module, "exact_match")
    cases = [("the Broncos", "Broncos."), ("Denver", "Denver Broncos"), ("", "a"),
             ("Paris", "paris!"), ("U.S.", "US"), ("U.S.", "U S")]  # fmt: skip
    rng = random.Random(1)
    cases += [(random_answer(rng), random_answer(rng)) for _ in range(30)]
    for prediction, truth in cases:
        compared = msg(f"exact_match({prediction!r}, {truth!r})")
        close(compared, call(compared, fn, prediction, truth), exact_match(prediction, truth))


def f1_cases(module: ModuleType) -> None:
    fn = require(module, "token_f1")
    cases = [("Denver", "Denver Broncos"), ("the Denver Broncos", "Broncos, Denver"),
             ("Denver Broncos Denver", "Denver Broncos"), ("Paris Paris", "Paris Paris Lyon"),
             ("in 1815 Paris", "Paris")]  # fmt: skip
    rng = random.Random(2)
    cases += [(random_answer(rng), random_answer(rng)) for _ in range(60)]
    for prediction, truth in cases:
        compared = msg(f"token_f1({prediction!r}, {truth!r})")
        close(compared, call(compared, fn, prediction, truth), token_f1(prediction, truth))


def f1_nothing_shared(module: ModuleType) -> None:
    fn = require(module, "token_f1")
    for prediction, truth in (("Paris", "Lyon"), ("", "Paris"), ("the", "a"), ("!", "Paris")):
        compared = msg(f"token_f1({prediction!r}, {truth!r})")
        close(compared, call(compared, fn, prediction, truth), 0.0)


def span_of(module: ModuleType, start: list[float], end: list[float], mask: list[bool],
            longest: int, compared: Msg) -> tuple[int, int]:  # fmt: skip
    got = call(compared, require(module, "best_span"), list(start), list(end), list(mask), longest)
    try:
        return int(got[0]), int(got[1])
    except (TypeError, ValueError, IndexError):
        raise Mismatch(compared, expected="a pair (start, end)", got=excerpt(got)) from None


def span_is_valid(module: ModuleType) -> None:
    for seed in range(20):
        start, end, mask = random_window(seed)
        compared = msg(f"best_span(random window {seed}, max_answer_length=30)")
        s, e = span_of(module, start, end, mask, 30, compared)
        where = f"start {s}, end {e}"
        if not (0 <= s < len(mask) and 0 <= e < len(mask) and mask[s] and mask[e]):
            raise Mismatch(compared, "start and end on context tokens", where)
        if e < s:
            raise Mismatch(compared, "start <= end", where)


def span_is_best(module: ModuleType) -> None:
    for seed in range(20, 60):
        start, end, mask = random_window(seed)
        compared = msg(f"best_span(random window {seed}, max_answer_length=30)")
        got = span_of(module, start, end, mask, 30, compared)
        same(compared, got, library_best_span(start, end, mask, 30))


def span_length_limit(module: ModuleType) -> None:
    # a long span scores best, so only the limit stops it
    start, end, mask = [0.0] * 12, [0.0] * 12, [False] * 2 + [True] * 9 + [False]
    start[2], end[10] = 5.0, 5.0
    start[4], end[6] = 2.0, 2.0
    for longest in (9, 8, 3, 2, 1):
        compared = msg(
            f"best_span(start 5 at token 2, end 5 at token 10, max_answer_length={longest})"
        )
        got = span_of(module, start, end, mask, longest, compared)
        same(compared, got, library_best_span(start, end, mask, longest))
    for seed in range(60, 80):
        start, end, mask = random_window(seed)
        longest = 1 + seed % 4
        compared = msg(f"best_span(random window {seed}, max_answer_length={longest})")
        got = span_of(module, start, end, mask, longest, compared)
        same(compared, got, library_best_span(start, end, mask, longest))


def span_none_valid(module: ModuleType) -> None:
    start, end, mask = [3.0, 1.0, 2.0], [1.0, 2.0, 3.0], [False, False, False]
    compared = msg("best_span([3, 1, 2], [1, 2, 3], no context token, 30)")
    same(compared, span_of(module, start, end, mask, 30, compared), (0, 0))


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions normalize_answer, exact_match, token_f1 and best_span",
            "Funktionen normalize_answer, exact_match, token_f1 und best_span",
        ),
        (
            "Define all four functions at the top level of your file, with these names.",
            "Definieren Sie alle vier Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        defines_functions,
    ),
    check(
        "normalize_basic",
        (
            "normalize_answer lower-cases and collapses whitespace",
            "normalize_answer schreibt klein und fasst Leerraum zusammen",
        ),
        (
            "text.lower(), and at the end ' '.join(text.split()) (tabs and newlines count).",
            "text.lower() und am Ende ' '.join(text.split()) (Tabs und Zeilenumbrüche zählen mit).",
        ),
        normalize_basic,
    ),
    check(
        "normalize_punctuation",
        (
            "normalize_answer removes punctuation without leaving spaces",
            "normalize_answer entfernt Satzzeichen, ohne Leerzeichen zu hinterlassen",
        ),
        (
            "Keep only the characters not in string.punctuation: 'U.S.-based' -> 'usbased'.",
            "Behalten Sie nur Zeichen, die nicht in string.punctuation stehen: "
            "'U.S.-based' -> 'usbased'.",
        ),
        normalize_punctuation,
    ),
    check(
        "normalize_articles",
        (
            "normalize_answer drops a, an, the as whole words only",
            "normalize_answer entfernt a, an, the nur als ganze Wörter",
        ),
        (
            r"Use re.sub(r'\b(a|an|the)\b', ' ', text) after lower-casing and removing "
            "punctuation: 'theatre' and 'anna' keep their letters.",
            r"Verwenden Sie re.sub(r'\b(a|an|the)\b', ' ', text) nach dem Kleinschreiben und "
            "dem Entfernen der Satzzeichen: 'theatre' und 'anna' behalten ihre Buchstaben.",
        ),
        normalize_articles,
    ),
    check(
        "exact_match",
        (
            "exact_match compares the normalized answers",
            "exact_match vergleicht die normalisierten Antworten",
        ),
        (
            "Return float(normalize_answer(prediction) == normalize_answer(truth)).",
            "Geben Sie float(normalize_answer(prediction) == normalize_answer(truth)) zurück.",
        ),
        exact_match_cases,
    ),
    check(
        "token_f1",
        (
            "token_f1 equals the official word-overlap F1",
            "token_f1 entspricht dem offiziellen Wortüberlappungs-F1",
        ),
        (
            "Split the normalized answers into words; common = sum((Counter(p) & Counter(t))"
            ".values()) counts repeated words as often as both have them.",
            "Zerlegen Sie die normalisierten Antworten in Wörter; common = "
            "sum((Counter(p) & Counter(t)).values()) zählt wiederholte Wörter so oft, wie beide "
            "sie enthalten.",
        ),
        f1_cases,
    ),
    check(
        "f1_nothing_shared",
        (
            "token_f1 is 0 without common words, also for empty answers",
            "token_f1 ist 0 ohne gemeinsame Wörter, auch bei leeren Antworten",
        ),
        (
            "Return 0.0 before dividing when no word is shared: 'the' normalizes to ''.",
            "Geben Sie 0.0 zurück, bevor Sie teilen, wenn kein Wort gemeinsam ist: 'the' wird "
            "zu ''.",
        ),
        f1_nothing_shared,
    ),
    check(
        "span_is_valid",
        (
            "best_span returns context tokens with start <= end",
            "best_span liefert Kontext-Tokens mit start <= end",
        ),
        (
            "Skip pairs whose start or end has context_mask False ([CLS], question, [SEP]) "
            "and pairs with end < start.",
            "Überspringen Sie Paare, deren Start oder Ende context_mask False hat ([CLS], Frage, "
            "[SEP]), und Paare mit end < start.",
        ),
        span_is_valid,
    ),
    check(
        "span_is_best",
        (
            "best_span finds the valid pair with the highest start + end logit",
            "best_span findet das gültige Paar mit der größten Summe aus Start- und End-Logit",
        ),
        (
            "The best start alone and the best end alone need not form the best valid pair: "
            "score every valid (start, end) and keep the highest sum.",
            "Der beste Start allein und das beste Ende allein bilden nicht unbedingt das beste "
            "gültige Paar: Bewerten Sie jedes gültige (start, end) und behalten Sie die größte "
            "Summe.",
        ),
        span_is_best,
    ),
    check(
        "span_length_limit",
        (
            "best_span keeps spans within max_answer_length tokens",
            "best_span hält Spannen innerhalb von max_answer_length Tokens",
        ),
        (
            "A span from start to end has end - start + 1 tokens; it may have exactly "
            "max_answer_length of them.",
            "Eine Spanne von start bis end hat end - start + 1 Tokens; genau max_answer_length "
            "sind erlaubt.",
        ),
        span_length_limit,
    ),
    check(
        "span_none_valid",
        (
            "best_span returns (0, 0) when no pair is valid",
            "best_span liefert (0, 0), wenn kein Paar gültig ist",
        ),
        (
            "Start from best = (0, 0) and no score, and only replace it by valid pairs.",
            "Beginnen Sie mit best = (0, 0) ohne Bewertung und ersetzen Sie es nur durch "
            "gültige Paare.",
        ),
        span_none_valid,
    ),
]
