"""Checks for the ngram_lm exercise, against groundup.text.ngram_lm (AddK and KneserNey of
order 2, which agree with NLTK's Lidstone and, up to the unigram level, KneserNeyInterpolated).

Each check builds random corpora from a seeded generator, counts their padded bigrams, and
compares the learner's probability with the library's for every previous token (seen,
"<s>", "</s>" and one never seen) and every word of the vocabulary.
"""

from __future__ import annotations

import random
from types import ModuleType

from groundup.exercises.checking import Check, Mismatch, assert_close, call, check, require
from groundup.i18n import Msg
from groundup.text.ngram_lm import AddK, KneserNey, NgramModel

FUNCTIONS = ["add_k_prob", "continuation_prob", "kneser_ney_prob"]

REFERENCE = """from collections import Counter

from groundup.text.ngram_lm import AddK, KneserNey


def add_k_prob(counts, vocab, previous, word, k):
    return AddK(2, k=k).fit_counts(counts, vocab).prob([previous], word)


def continuation_prob(counts, vocab, word, discount):
    # the unigram level is a unigram Kneser-Ney model of the continuation counts N(. w)
    types = Counter(w for (_, w) in counts)
    unigrams = {(w,): n for w, n in types.items()}
    return KneserNey(1, discount=discount).fit_counts(unigrams, vocab).prob([], word)


def kneser_ney_prob(counts, vocab, previous, word, discount):
    return KneserNey(2, discount=discount).fit_counts(counts, vocab).prob([previous], word)
"""

TOLERANCE = {"atol": 1e-12, "rtol": 1e-9}


def corpus(seed: int, sentences: int = 25, alphabet: str = "abcdefg") -> list[list[str]]:
    rng = random.Random(seed)
    words = [c * rng.randint(1, 2) for c in alphabet]  # "a", "bb", ...: any strings will do
    weights = [1 / (i + 1) for i in range(len(words))]  # Zipf-like: some frequent, some rare
    return [rng.choices(words, weights, k=rng.randint(1, 8)) for _ in range(sentences)]


def bigrams(model: NgramModel) -> dict[tuple[str, str], int]:
    return {(h[0], w): c for h, nexts in model.counts[-1].items() for w, c in nexts.items()}


def previous_tokens(model: NgramModel) -> list[str]:
    return ["<s>", *(w for w in model.vocab if w != "<unk>"), "never-seen"]


def compare(module: ModuleType, name: str, model: NgramModel, parameter: float) -> None:
    fn = require(module, name)
    counts, vocab = bigrams(model), list(model.vocab)
    for previous in previous_tokens(model):
        got, expected = [], []
        for word in vocab:
            compared = Msg(f"{name}(counts, vocab, {previous!r}, {word!r}, {parameter})",
                           f"{name}(counts, vocab, {previous!r}, {word!r}, {parameter})")  # fmt: skip
            got.append(call(compared, fn, dict(counts), list(vocab), previous, word, parameter))
            expected.append(model.prob([previous], word))
        compared = Msg(f"{name}(counts, vocab, {previous!r}, w, {parameter}) for every w in vocab",
                       f"{name}(counts, vocab, {previous!r}, w, {parameter}) für jedes w in vocab")  # fmt: skip
        assert_close(compared, got, expected, **TOLERANCE)


def unigram_level(module: ModuleType, seed: int, discount: float) -> None:
    fn = require(module, "continuation_prob")
    model = KneserNey(2, discount=discount).fit(corpus(seed))
    counts, vocab = bigrams(model), list(model.vocab)
    got, expected = [], []
    for word in vocab:
        compared = Msg(f"continuation_prob(counts, vocab, {word!r}, {discount})",
                       f"continuation_prob(counts, vocab, {word!r}, {discount})")  # fmt: skip
        got.append(call(compared, fn, dict(counts), list(vocab), word, discount))
        expected.append(model.prob(["never-seen"], word))  # an unseen context: the unigram level
    compared = Msg(f"continuation_prob for every word, D = {discount}",
                   f"continuation_prob für jedes Wort, D = {discount}")  # fmt: skip
    assert_close(compared, got, expected, **TOLERANCE)


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def add_k_laplace(module: ModuleType) -> None:
    for seed in (0, 1):
        compare(module, "add_k_prob", AddK(2, k=1).fit(corpus(seed)), 1)


def add_k_any_k(module: ModuleType) -> None:
    for seed, k in ((2, 0.01), (3, 0.5), (4, 3.0)):
        compare(module, "add_k_prob", AddK(2, k=k).fit(corpus(seed)), k)


def continuation(module: ModuleType) -> None:
    for seed, discount in ((5, 0.75), (6, 0.3), (7, 1.0)):
        unigram_level(module, seed, discount)


def continuation_counts_types(module: ModuleType) -> None:
    """San Francisco: "francisco" is frequent but only ever follows "san"."""
    fn = require(module, "continuation_prob")
    sentences = [["san", "francisco"]] * 8 + [[w, "glasses"] for w in ("my", "his", "new", "old")]
    model = KneserNey(2, discount=0.5).fit(sentences)
    counts, vocab = bigrams(model), list(model.vocab)
    for word in ("francisco", "glasses", "san"):
        compared = Msg(f"continuation_prob(counts, vocab, {word!r}, 0.5) on the San Francisco text",
                       f"continuation_prob(counts, vocab, {word!r}, 0.5) am San-Francisco-Text")  # fmt: skip
        got = call(compared, fn, dict(counts), list(vocab), word, 0.5)
        assert_close(compared, got, model.prob(["never-seen"], word), **TOLERANCE)


def kneser_ney(module: ModuleType) -> None:
    for seed, discount in ((8, 0.75), (9, 0.1)):
        compare(module, "kneser_ney_prob", KneserNey(2, discount=discount).fit(corpus(seed)),
                discount)  # fmt: skip


def sums_to_one(module: ModuleType) -> None:
    for seed, discount in ((10, 0.9), (11, 0.4)):
        model = KneserNey(2, discount=discount).fit(corpus(seed, sentences=12, alphabet="abcd"))
        counts, vocab = bigrams(model), list(model.vocab)
        for name, parameter in (("add_k_prob", 0.2), ("kneser_ney_prob", discount)):
            fn = require(module, name)
            for previous in previous_tokens(model):
                compared = Msg(f"sum of {name}(counts, vocab, {previous!r}, w, {parameter}) over w",
                               f"Summe von {name}(counts, vocab, {previous!r}, w, {parameter}) über w")  # fmt: skip
                total = sum(call(compared, fn, dict(counts), list(vocab), previous, w, parameter)
                            for w in vocab)  # fmt: skip
                if abs(total - 1) > 1e-9:
                    raise Mismatch(compared, expected="1 (tolerance 1e-9)", got=f"{total:.12g}")


CHECKS: list[Check] = [
    check(
        "exists",
        ("functions add_k_prob, continuation_prob and kneser_ney_prob",
         "Funktionen add_k_prob, continuation_prob und kneser_ney_prob"),
        ("Define all three functions at the top level of your file, with these names.",
         "Definieren Sie alle drei Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei."),
        defines_functions,
    ),
    check(
        "add_k_laplace",
        ("add_k_prob with k = 1 (Laplace) equals the library",
         "add_k_prob mit k = 1 (Laplace) stimmt mit der Bibliothek überein"),
        ("c(previous) is the sum of the counts of all bigrams that start with previous; the "
         "denominator adds k once per vocabulary entry: c(previous) + k * len(vocab). A "
         "previous token never seen has c(previous) = 0 and gives 1 / V.",
         "c(vorheriges) ist die Summe der Zählungen aller Bigramme, die mit vorheriges "
         "beginnen; der Nenner addiert k einmal pro Vokabulareintrag: c(vorheriges) + "
         "k * len(vocab). Ein nie gesehenes vorheriges Token hat c = 0 und ergibt 1 / V."),
        add_k_laplace,
    ),
    check(
        "add_k_any_k",
        ("add_k_prob with k = 0.01, 0.5 and 3", "add_k_prob mit k = 0.01, 0.5 und 3"),
        ("Use k in the numerator and k * V in the denominator; with k = 1 a slip such as "
         "adding 1 instead of k does not show.",
         "Verwenden Sie k im Zähler und k * V im Nenner; bei k = 1 fällt ein Fehler wie "
         "1 statt k nicht auf."),
        add_k_any_k,
    ),
    check(
        "continuation",
        ("continuation_prob equals Kneser-Ney's unigram level",
         "continuation_prob stimmt mit der Unigramm-Stufe von Kneser-Ney überein"),
        ("N(. w) counts distinct previous tokens, not occurrences: each bigram type adds 1. "
         "T is the number of distinct bigrams, U the number of words with N(. w) > 0. Do not "
         "forget the uniform term (D * U / T) / V, which gives '<unk>' its share.",
         "N(. w) zählt verschiedene vorherige Tokens, nicht Vorkommen: Jeder Bigramm-Typ zählt "
         "1. T ist die Anzahl verschiedener Bigramme, U die Anzahl der Wörter mit N(. w) > 0. "
         "Vergessen Sie nicht den gleichverteilten Anteil (D * U / T) / V, der '<unk>' etwas "
         "Masse gibt."),
        continuation,
    ),
    check(
        "san_francisco",
        ("continuation_prob: 'francisco' (frequent, one predecessor) below 'glasses'",
         "continuation_prob: 'francisco' (häufig, ein Vorgänger) unter 'glasses'"),
        ("'francisco' occurs 8 times but always after 'san', so N(. francisco) = 1; 'glasses' "
         "follows 4 different words, N(. glasses) = 4. Count types, not tokens.",
         "'francisco' kommt 8-mal vor, aber immer nach 'san', also N(. francisco) = 1; "
         "'glasses' folgt 4 verschiedenen Wörtern, N(. glasses) = 4. Zählen Sie Typen, nicht "
         "Vorkommen."),
        continuation_counts_types,
    ),
    check(
        "kneser_ney",
        ("kneser_ney_prob equals the library for every context and word",
         "kneser_ney_prob stimmt für jeden Kontext und jedes Wort mit der Bibliothek überein"),
        ("Discount the raw bigram count, max(c - D, 0) / c(prev); gamma(prev) = D times the "
         "number of distinct words after prev, divided by c(prev); the lower level is "
         "continuation_prob with the same D. If c(prev) = 0, return continuation_prob.",
         "Ziehen Sie den Discount von der rohen Bigramm-Zählung ab, max(c - D, 0) / c(prev); "
         "gamma(prev) = D mal die Anzahl verschiedener Wörter nach prev, geteilt durch "
         "c(prev); die untere Stufe ist continuation_prob mit demselben D. Ist c(prev) = 0, "
         "geben Sie continuation_prob zurück."),
        kneser_ney,
    ),
    check(
        "sums_to_one",
        ("for every previous token, the probabilities over the vocabulary sum to 1",
         "für jedes vorherige Token summieren sich die Wahrscheinlichkeiten über das Vokabular zu 1"),
        ("gamma(prev) must be exactly the mass the discounts removed, and the lower level must "
         "itself sum to 1 over the vocabulary, '<unk>' and '</s>' included.",
         "gamma(prev) muss genau die Masse sein, die die Discounts entfernt haben, und die "
         "untere Stufe muss sich selbst über das Vokabular zu 1 summieren, '<unk>' und '</s>' "
         "eingeschlossen."),
        sums_to_one,
    ),
]  # fmt: skip
