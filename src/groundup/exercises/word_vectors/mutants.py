"""Planted bugs for the `word_vectors` exercise, each a full learner file that one check
must catch. They start from SOLUTION, a correct answer, and change one thing each."""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import numpy as np


def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def sgns_loss_and_grads(center, context, negatives):
    pos = np.sum(center * context, axis=1)
    neg = np.einsum("bkd,bd->bk", negatives, center)
    loss = np.logaddexp(0, -pos).sum() + np.logaddexp(0, neg).sum()
    g_pos = sigmoid(pos) - 1
    g_neg = sigmoid(neg)
    d_center = g_pos[:, None] * context + np.einsum("bk,bkd->bd", g_neg, negatives)
    d_context = g_pos[:, None] * center
    d_negatives = g_neg[:, :, None] * center[:, None, :]
    return float(loss), d_center, d_context, d_negatives


def keep_probabilities(counts, sample):
    counts = np.asarray(counts, dtype=float)
    if sample <= 0:
        return np.ones_like(counts)
    t = sample * counts.sum()
    return np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)


def negative_distribution(counts, power=0.75):
    weights = np.asarray(counts, dtype=float) ** power
    return weights / weights.sum()
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant("negatives_summed_over_wrong_axis", catches="sgns_shapes",
           source=_plant('g_neg[:, :, None] * center[:, None, :]',
                         '(g_neg[:, :, None] * center[:, None, :]).sum(axis=1)'),
           note="d_negatives summed over the noise words: (B, D) instead of (B, K, D)"),
    Mutant("mean_instead_of_sum", catches="sgns_loss",
           source=_plant("np.logaddexp(0, -pos).sum() + np.logaddexp(0, neg).sum()",
                         "np.logaddexp(0, -pos).mean() + np.logaddexp(0, neg).mean()")),
    Mutant("noise_sign_flipped", catches="sgns_loss",
           source=_plant("np.logaddexp(0, neg).sum()", "np.logaddexp(0, -neg).sum()"),
           note="noise words scored like true words"),
    Mutant("center_misses_noise_term", catches="sgns_gradients",
           source=_plant(' + np.einsum("bk,bkd->bd", g_neg, negatives)', ""),
           note="v only hears from the true context word"),
    Mutant("positive_gradient_without_minus_one", catches="sgns_gradients",
           source=_plant("g_pos = sigmoid(pos) - 1", "g_pos = sigmoid(pos)")),
    Mutant("noise_gradient_of_wrong_sign", catches="sgns_gradients",
           source=_plant("g_neg = sigmoid(neg)", "g_neg = sigmoid(neg) - 1")),
    Mutant("naive_log_sigmoid", catches="sgns_large_scores",
           source=_plant("np.logaddexp(0, -pos).sum() + np.logaddexp(0, neg).sum()",
                         "-np.log(sigmoid(pos)).sum() - np.log(1 - sigmoid(neg)).sum()"),
           note="log(0) = -inf once sigma rounds to 0 or 1"),
    Mutant("keep_without_plus_one", catches="keep_probabilities",
           source=_plant("(np.sqrt(counts / t) + 1) * t / counts", "np.sqrt(t / counts)"),
           note="the paper's 1 - sqrt(t/f) turned around, not the C code's formula"),
    Mutant("keep_not_capped", catches="keep_probabilities",
           source=_plant("np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)",
                         "(np.sqrt(counts / t) + 1) * t / counts"),
           note="rare words get 'probabilities' above 1"),
    Mutant("threshold_not_scaled_by_total", catches="keep_probabilities",
           source=_plant("t = sample * counts.sum()", "t = sample")),
    Mutant("sample_zero_not_handled", catches="keep_probabilities_off",
           source=_plant("    if sample <= 0:\n        return np.ones_like(counts)\n", ""),
           note="t = 0: 0/0 gives nan"),
    Mutant("power_ignored", catches="negative_distribution",
           source=_plant("** power", "** 0.75"), note="always 0.75, whatever power says"),
    Mutant("not_normalised", catches="negative_distribution",
           source=_plant("return weights / weights.sum()", "return weights")),
    Mutant("plain_unigram_default", catches="negative_distribution",
           source=_plant("power=0.75", "power=1.0")),
]  # fmt: skip
