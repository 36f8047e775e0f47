"""Planted bugs for the tfidf_lsa exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import numpy as np


def idf(df, n_documents):
    return np.log((1 + n_documents) / (1 + np.asarray(df, dtype=float))) + 1


def tfidf(counts):
    counts = np.asarray(counts, dtype=float)
    df = (counts > 0).sum(axis=0)
    weights = counts * idf(df, counts.shape[0])
    lengths = np.sqrt((weights**2).sum(axis=1, keepdims=True))
    return weights / np.where(lengths == 0, 1.0, lengths)


def unit_rows(m):
    m = np.asarray(m, dtype=float)
    lengths = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(lengths == 0, 1.0, lengths)


def cosine_similarity(a, b):
    return unit_rows(a) @ unit_rows(b).T


def logistic_gradient(w, b, x, y, c):
    n = x.shape[0]
    p = 1 / (1 + np.exp(-(x @ w + b)))
    grad_w = x.T @ (p - y) / n + w / (c * n)
    grad_b = float(np.sum(p - y) / n)
    return grad_w, grad_b
"""


def mutant(name: str, catches: str, old: str, new: str, note: str) -> Mutant:
    assert SOLUTION.count(old) == 1, old
    return Mutant(name, catches, SOLUTION.replace(old, new), note)


MUTANTS = [
    mutant("idf_without_plus_one", "idf_values",
           "/ (1 + np.asarray(df, dtype=float))) + 1", "/ (1 + np.asarray(df, dtype=float)))",
           "forgets the + 1: a term in every document gets weight 0"),
    mutant("idf_without_smoothing", "idf_values",
           "np.log((1 + n_documents) / (1 + np.asarray(df, dtype=float)))",
           "np.log(n_documents / np.asarray(df, dtype=float))",
           "the unsmoothed idf, scikit-learn's smooth_idf=False"),
    mutant("idf_log10", "idf_values", "return np.log(", "return np.log10(",
           "base-10 logarithm instead of the natural one"),
    mutant("tfidf_l1_rows", "tfidf_shape_and_unit_rows",
           "np.sqrt((weights**2).sum(axis=1, keepdims=True))",
           "np.abs(weights).sum(axis=1, keepdims=True)",
           "l1 instead of l2 normalisation"),
    mutant("tfidf_normalises_columns", "tfidf_shape_and_unit_rows",
           "np.sqrt((weights**2).sum(axis=1, keepdims=True))",
           "np.sqrt((weights**2).sum(axis=0, keepdims=True))",
           "columns (terms) normalised instead of rows (documents)"),
    mutant("tfidf_nan_for_empty_documents", "tfidf_shape_and_unit_rows",
           "return weights / np.where(lengths == 0, 1.0, lengths)", "return weights / lengths",
           "divides an empty document by 0 (NaN)"),
    mutant("tfidf_df_counts_occurrences", "tfidf_matches_sklearn",
           "df = (counts > 0).sum(axis=0)", "df = counts.sum(axis=0)",
           "document frequency counts every occurrence, not documents"),
    mutant("tfidf_idf_after_normalising", "tfidf_matches_sklearn",
           "    weights = counts * idf(df, counts.shape[0])\n"
           "    lengths = np.sqrt((weights**2).sum(axis=1, keepdims=True))\n"
           "    return weights / np.where(lengths == 0, 1.0, lengths)",
           "    lengths = np.sqrt((counts**2).sum(axis=1, keepdims=True))\n"
           "    return counts / np.where(lengths == 0, 1.0, lengths) * idf(df, counts.shape[0])",
           "rows normalised before the idf weighting: they end up not unit length"),
    mutant("cosine_b_not_normalised", "cosine_matches",
           "return unit_rows(a) @ unit_rows(b).T", "return unit_rows(a) @ np.asarray(b).T",
           "only a's rows are divided by their lengths"),
    mutant("cosine_nan_for_zero_rows", "cosine_matches",
           "return m / np.where(lengths == 0, 1.0, lengths)", "return m / lengths",
           "a zero row gives NaN instead of 0"),
    mutant("gradient_wrong_sign", "gradient_matches",
           "x.T @ (p - y) / n", "x.T @ (y - p) / n",
           "target minus prediction: the ascent direction"),
    mutant("gradient_sum_not_mean", "gradient_matches",
           "x.T @ (p - y) / n + w", "x.T @ (p - y) + w",
           "the data part summed, not averaged"),
    mutant("gradient_penalises_bias", "bias_is_not_penalised",
           "grad_b = float(np.sum(p - y) / n)", "grad_b = float(np.sum(p - y) / n + b / (c * n))",
           "the bias gets the L2 penalty too"),
    mutant("penalty_without_n", "penalty_scales_with_c_and_n",
           "+ w / (c * n)", "+ w / c", "the penalty's gradient not divided by n"),
    mutant("penalty_times_c", "penalty_scales_with_c_and_n",
           "+ w / (c * n)", "+ c * w / n", "C read as the penalty strength, not its inverse"),
]  # fmt: skip
