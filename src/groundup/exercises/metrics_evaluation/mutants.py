"""Planted bugs for the metrics_evaluation exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import numpy as np


def safe_divide(numerator, denominator):
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), 0.0)


def precision_recall_f1(y_true, y_pred, average="macro"):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = np.union1d(y_true, y_pred)
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in classes])
    predicted = np.array([np.sum(y_pred == c) for c in classes])
    actual = np.array([np.sum(y_true == c) for c in classes])
    if average == "micro":
        tp, predicted, actual = tp.sum(), predicted.sum(), actual.sum()
    precision = safe_divide(tp, predicted)
    recall = safe_divide(tp, actual)
    f1 = safe_divide(2 * tp, predicted + actual)
    return float(np.mean(precision)), float(np.mean(recall)), float(np.mean(f1))


def roc_auc(y_true, scores):
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=float)
    positive, negative = scores[y_true == 1], scores[y_true == 0]
    wins = np.sum(positive[:, None] > negative[None, :])
    ties = np.sum(positive[:, None] == negative[None, :])
    return float((wins + 0.5 * ties) / (len(positive) * len(negative)))
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "precision_recall_swapped",
        catches="precision_and_recall",
        source=_plant(
            "    precision = safe_divide(tp, predicted)\n    recall = safe_divide(tp, actual)\n",
            "    precision = safe_divide(tp, actual)\n    recall = safe_divide(tp, predicted)\n",
        ),
        note="divides precision by the true counts and recall by the predicted counts",
    ),
    Mutant(
        "macro_computed_as_micro",
        catches="macro_average",
        source=_plant('if average == "micro":', 'if average in ("micro", "macro"):'),
        note="pools the counts for macro too: every macro score becomes the accuracy",
    ),
    Mutant(
        "micro_computed_as_macro",
        catches="micro_average",
        source=_plant('if average == "micro":', 'if average == "pooled":'),
        note="never pools: micro returns the per-class mean",
    ),
    Mutant(
        "zero_division_crash",
        catches="zero_division",
        source=_plant(
            "    return np.where(denominator > 0, numerator / np.where(denominator > 0, "
            "denominator, 1), 0.0)\n",
            "    if np.any(denominator == 0):\n"
            "        raise ZeroDivisionError('class without predictions')\n"
            "    return numerator / denominator\n",
        ),
        note="plain division: a class that is never predicted crashes",
    ),
    Mutant(
        "zero_division_nan",
        catches="zero_division",
        source=_plant(
            "    return np.where(denominator > 0, numerator / np.where(denominator > 0, "
            "denominator, 1), 0.0)\n",
            "    with np.errstate(invalid='ignore', divide='ignore'):\n"
            "        return numerator / denominator\n",
        ),
        note="NumPy division: 0/0 becomes nan and poisons the mean",
    ),
    Mutant(
        "classes_from_y_true_only",
        catches="zero_division",
        source=_plant("classes = np.union1d(y_true, y_pred)", "classes = np.unique(y_true)"),
        note="a class that only occurs in the predictions is left out of the macro mean",
    ),
    Mutant(
        "f1_arithmetic_mean",
        catches="f1_per_class",
        source=_plant(
            "f1 = safe_divide(2 * tp, predicted + actual)", "f1 = (precision + recall) / 2"
        ),
        note="averages precision and recall arithmetically instead of harmonically",
    ),
    Mutant(
        "f1_from_macro_precision_and_recall",
        catches="f1_per_class",
        source=_plant(
            "    return float(np.mean(precision)), float(np.mean(recall)), float(np.mean(f1))\n",
            "    p, r = float(np.mean(precision)), float(np.mean(recall))\n"
            "    return p, r, float(safe_divide(2 * p * r, p + r))\n",
        ),
        note="macro F1 as the harmonic mean of macro precision and recall",
    ),
    Mutant(
        "auc_inverted_scores",
        catches="auc_matches_sklearn",
        source=_plant(
            "wins = np.sum(positive[:, None] > negative[None, :])",
            "wins = np.sum(positive[:, None] < negative[None, :])",
        ),
        note="counts the pairs the model gets wrong: 1 - AUC",
    ),
    Mutant(
        "auc_ignores_ties",
        catches="auc_ties",
        source=_plant("(wins + 0.5 * ties)", "(wins + 0.0 * ties)"),
        note="a tied pair counts as a mistake",
    ),
    Mutant(
        "auc_ties_count_full",
        catches="auc_ties",
        source=_plant("(wins + 0.5 * ties)", "(wins + ties)"),
        note="a tied pair counts as correctly ordered (uses >=)",
    ),
    Mutant(
        "auc_sorted_without_tie_groups",
        catches="auc_ties",
        source=_plant(
            "    positive, negative = scores[y_true == 1], scores[y_true == 0]\n",
            "    order = np.argsort(-scores, kind='stable')\n"
            "    hits = y_true[order] == 1\n"
            "    tpr = np.r_[0, np.cumsum(hits)] / hits.sum()\n"
            "    fpr = np.r_[0, np.cumsum(~hits)] / (~hits).sum()\n"
            "    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))\n",
        ),
        note="a ROC curve through every example, with tied examples taken in data order",
    ),
]
