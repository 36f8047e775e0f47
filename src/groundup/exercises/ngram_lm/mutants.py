"""Planted bugs for the ngram_lm exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
def add_k_prob(counts, vocab, previous, word, k):
    total = sum(c for (v, _), c in counts.items() if v == previous)
    return (counts.get((previous, word), 0) + k) / (total + k * len(vocab))


def continuation_prob(counts, vocab, word, discount):
    before = {}
    for v, w in counts:
        before[w] = before.get(w, 0) + 1
    types = sum(before.values())
    seen = len(before)
    discounted = max(before.get(word, 0) - discount, 0) / types
    return discounted + discount * seen / types / len(vocab)


def kneser_ney_prob(counts, vocab, previous, word, discount):
    after = {w: c for (v, w), c in counts.items() if v == previous}
    total = sum(after.values())
    lower = continuation_prob(counts, vocab, word, discount)
    if total == 0:
        return lower
    gamma = discount * len(after) / total
    return max(after.get(word, 0) - discount, 0) / total + gamma * lower
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "add_k_without_vocabulary_in_denominator",
        catches="add_k_laplace",
        source=_plant("(total + k * len(vocab))", "(total + k)"),
        note="the denominator adds k once instead of once per vocabulary entry",
    ),
    Mutant(
        "add_k_adds_one",
        catches="add_k_any_k",
        source=_plant(
            "counts.get((previous, word), 0) + k)", "counts.get((previous, word), 0) + 1)"
        ),
        note="Laplace's 1 in the numerator whatever k is",
    ),
    Mutant(
        "add_k_vocabulary_without_unk",
        catches="add_k_laplace",
        source=_plant("(total + k * len(vocab))", "(total + k * (len(vocab) - 1))"),
        note="V counted without <unk>: the distribution sums to more than 1",
    ),
    Mutant(
        "continuation_counts_tokens",
        catches="continuation",
        source=_plant(
            "    for v, w in counts:\n        before[w] = before.get(w, 0) + 1",
            "    for (v, w), c in counts.items():\n        before[w] = before.get(w, 0) + c",
        ),
        note="raw counts instead of the number of distinct predecessors",
    ),
    Mutant(
        "continuation_without_uniform",
        catches="continuation",
        source=_plant(
            "    return discounted + discount * seen / types / len(vocab)",
            "    return before.get(word, 0) / types",
        ),
        note="NLTK's unigram level: undiscounted, nothing for <unk>",
    ),
    Mutant(
        "continuation_counts_followers",
        catches="san_francisco",
        source=_plant(
            "    for v, w in counts:\n        before[w] = before.get(w, 0) + 1",
            "    for v, w in counts:\n        before[v] = before.get(v, 0) + 1",
        ),
        note="counts the distinct words after w, N(w .), instead of those before it",
    ),
    Mutant(
        "gamma_from_tokens",
        catches="kneser_ney",
        source=_plant("gamma = discount * len(after) / total", "gamma = discount * total / total"),
        note="gamma counts tokens after prev instead of distinct word types",
    ),
    Mutant(
        "no_discount_at_top",
        catches="kneser_ney",
        source=_plant(
            "return max(after.get(word, 0) - discount, 0) / total + gamma * lower",
            "return after.get(word, 0) / total + gamma * lower",
        ),
        note="the bigram count is not discounted, so the mass is counted twice",
    ),
    Mutant(
        "unseen_context_zero",
        catches="kneser_ney",
        source=_plant(
            "    if total == 0:\n        return lower", "    if total == 0:\n        return 0.0"
        ),
        note="a context never seen gives 0 instead of backing off",
    ),
    Mutant(
        "lower_level_is_unigram_frequency",
        catches="kneser_ney",
        source=_plant(
            "    lower = continuation_prob(counts, vocab, word, discount)",
            "    lower = (sum(c for (v, w), c in counts.items() if w == word) + 1) / (\n"
            "        sum(counts.values()) + len(vocab)\n    )",
        ),
        note="the lower level is a (smoothed) unigram frequency, not the continuation probability",
    ),
    Mutant(
        "discount_without_floor",
        catches="sums_to_one",
        source=_plant(
            "return max(after.get(word, 0) - discount, 0) / total + gamma * lower",
            "return (after.get(word, 0) - discount) / total + gamma * lower",
        ),
        note="without max(., 0) unseen words get negative mass",
    ),
]
