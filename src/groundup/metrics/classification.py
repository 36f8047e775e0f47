"""Classification metrics in NumPy: counts first, then every score as a ratio of counts.

Everything here agrees with `sklearn.metrics` (tests/metrics/test_classification.py):
a confusion matrix, precision/recall/F1 with their averages and zero-division rule, the
ROC curve with sklearn's tie handling, ROC-AUC (binary and one-vs-rest) and average
precision. Labels may be any sortable values (ints, strings); scores are real numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

AVERAGES = (None, "micro", "macro", "weighted", "binary")


# ---------------------------------------------------------------- counting


def accuracy(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    """Share of predictions equal to the truth."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(
    y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[Any] | None = None
) -> np.ndarray:
    """(C, C) counts: entry [i, j] = examples of true class labels[i] predicted as labels[j].

    labels: the classes and their order; default the sorted union of both inputs, so a
    class that is never predicted still gets its row (and an all-zero column).
    """
    y_true, y_pred = _pair(y_true, y_pred)
    labels = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.asarray(labels)
    is_true = (y_true[None, :] == labels[:, None]).astype(np.int64)  # (C, N) one-hot rows
    is_pred = (y_pred[None, :] == labels[:, None]).astype(np.int64)
    # [i, j] = sum over examples of [true is i] * [predicted is j]; examples whose label is
    # not in `labels` have all-zero columns and are not counted (as sklearn)
    return is_true @ is_pred.T


# ---------------------------------------------------------------- precision, recall, F1


def precision_recall_f1(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    average: str | None = None,
    labels: Sequence[Any] | None = None,
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> tuple[Any, Any, Any, Any]:
    """(precision, recall, f1, support), per class or averaged.

    For each class c: precision = TP / (TP + FP), recall = TP / (TP + FN),
    F1 = 2 TP / (2 TP + FP + FN) (the harmonic mean of the two), support = TP + FN.
    average:
      None        arrays with one entry per label, and the support per label
      "micro"     pool the counts of all labels, then divide once
      "macro"     plain mean of the per-label scores: every class counts the same
      "weighted"  mean weighted by each label's support (how often it is true)
      "binary"    only the scores of `pos_label` (two-class problems)
    A ratio with denominator 0 (a class never predicted has no precision) becomes
    `zero_division` (0.0, 1.0 or nan); nan values are left out of the averages.
    Averages return support None.
    """
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    y_true, y_pred = _pair(y_true, y_pred)
    present = np.unique(np.concatenate([y_true, y_pred]))
    if average == "binary":
        if len(present) > 2:
            raise ValueError(f"average='binary' needs two classes, got {present.tolist()}")
        labels = [pos_label]
    elif labels is None:
        labels = present
    tp, predicted, true = _one_vs_rest_counts(y_true, y_pred, np.asarray(labels))  # each (L,)
    if average == "micro":
        tp, predicted, true = (counts.sum(keepdims=True) for counts in (tp, predicted, true))
    precision = _divide(tp, predicted, zero_division)
    recall = _divide(tp, true, zero_division)
    f1 = _divide(2 * tp, predicted + true, zero_division)  # no 0/0 from precision = recall = 0
    if average is None:
        return precision, recall, f1, true
    weights = true if average == "weighted" else None
    return (
        _nan_average(precision, weights),
        _nan_average(recall, weights),
        _nan_average(f1, weights),
        None,
    )


def precision(y_true: Sequence[Any], y_pred: Sequence[Any], **options: Any) -> Any:
    return precision_recall_f1(y_true, y_pred, **options)[0]


def recall(y_true: Sequence[Any], y_pred: Sequence[Any], **options: Any) -> Any:
    return precision_recall_f1(y_true, y_pred, **options)[1]


def f1(y_true: Sequence[Any], y_pred: Sequence[Any], **options: Any) -> Any:
    return precision_recall_f1(y_true, y_pred, **options)[2]


def _one_vs_rest_counts(
    y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per label: true positives, times predicted, times true (one-vs-rest counts)."""
    hit = y_true[None, :] == labels[:, None]  # (L, N)
    said = y_pred[None, :] == labels[:, None]
    return (hit & said).sum(axis=1), said.sum(axis=1), hit.sum(axis=1)


def _divide(numerator: np.ndarray, denominator: np.ndarray, zero_division: float) -> np.ndarray:
    safe = np.where(denominator == 0, 1, denominator)
    return np.where(denominator == 0, zero_division, numerator / safe).astype(np.float64)


def _nan_average(values: np.ndarray, weights: np.ndarray | None) -> float:
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None or weights[keep].sum() == 0:  # all weights 0: plain mean (as sklearn)
        return float(values[keep].mean())
    return float(np.average(values[keep], weights=weights[keep]))


# ---------------------------------------------------------------- ranking: ROC and PR curves


def binary_counts(
    y_true: Sequence[Any], scores: Sequence[float], pos_label: Any = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positives, true positives, thresholds) for 'predict positive if score >= t'.

    One threshold per distinct score, from the highest down. Tied scores share a threshold,
    so they enter the counts together: the curve moves diagonally through a tie instead of
    counting its positives first (which would flatter the model) or last.
    """
    y_true, scores = _pair(y_true, scores)
    scores = scores.astype(np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite numbers")
    positive = y_true == pos_label
    order = np.argsort(scores, kind="stable")[::-1]  # highest score first
    scores, positive = scores[order], positive[order]
    last_of_each_value = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    true_positives = np.cumsum(positive)[last_of_each_value]
    false_positives = last_of_each_value + 1 - true_positives
    return false_positives, true_positives, scores[last_of_each_value]


def roc_curve(
    y_true: Sequence[Any],
    scores: Sequence[float],
    pos_label: Any = 1,
    drop_intermediate: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate, thresholds), starting at (0, 0) with t = inf.

    drop_intermediate: leave out the points in the middle of a straight segment; they do
    not change the curve or its area.
    """
    fps, tps, thresholds = binary_counts(y_true, scores, pos_label)
    if drop_intermediate and len(fps) > 2:
        corner = np.r_[True, np.diff(fps, 2) != 0, True] | np.r_[True, np.diff(tps, 2) != 0, True]
        fps, tps, thresholds = fps[corner], tps[corner], thresholds[corner]
    fps, tps = np.r_[0, fps].astype(np.float64), np.r_[0, tps].astype(np.float64)
    thresholds = np.r_[np.inf, thresholds]
    if fps[-1] == 0:
        warnings.warn("no negative examples: the false positive rate is undefined", stacklevel=2)
    if tps[-1] == 0:
        warnings.warn("no positive examples: the true positive rate is undefined", stacklevel=2)
    fpr = fps / fps[-1] if fps[-1] > 0 else np.full_like(fps, np.nan)
    tpr = tps / tps[-1] if tps[-1] > 0 else np.full_like(tps, np.nan)
    return fpr, tpr, thresholds


def trapezoid_area(x: np.ndarray, y: np.ndarray) -> float:
    """Area under the piecewise linear curve through the points (x, y), x monotonic."""
    return float(abs(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2)))


def roc_auc(y_true: Sequence[Any], scores: Sequence[float], pos_label: Any = 1) -> float:
    """Area under the ROC curve of a two-class problem.

    Equals the probability that a random positive example scores higher than a random
    negative one, counting a tie as one half.
    Undefined with a single class in y_true: then a warning and nan, as sklearn.
    """
    y_true = np.asarray(y_true)
    present = np.unique(y_true)
    if len(present) > 2:
        raise ValueError(f"roc_auc is for two classes, got {present.tolist()}")
    if len(present) < 2:
        warnings.warn("only one class in y_true: ROC AUC is undefined", stacklevel=2)
        return float("nan")
    fpr, tpr, _ = roc_curve(y_true, scores, pos_label)
    return trapezoid_area(fpr, tpr)


def roc_auc_ovr(
    y_true: Sequence[Any],
    scores: np.ndarray,
    average: str = "macro",
    labels: Sequence[Any] | None = None,
) -> float:
    """One-vs-rest ROC AUC of a multiclass problem; scores (N, C), column c for labels[c].

    Each class against all others is a binary problem; average its AUCs plainly ("macro")
    or weighted by how often each class is true ("weighted").
    """
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    if scores.ndim != 2 or scores.shape != (len(y_true), len(labels)):
        raise ValueError(f"scores must have shape {(len(y_true), len(labels))}, got {scores.shape}")
    aucs = np.array(
        [roc_auc(y_true == label, scores[:, i], True) for i, label in enumerate(labels)]
    )
    if average == "macro":
        return float(aucs.mean())
    if average == "weighted":
        return float(np.average(aucs, weights=[(y_true == label).sum() for label in labels]))
    raise ValueError(f"average must be 'macro' or 'weighted', got {average!r}")


def precision_recall_curve(
    y_true: Sequence[Any], scores: Sequence[float], pos_label: Any = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds) with recall decreasing; ends at (precision 1, recall 0)."""
    fps, tps, thresholds = binary_counts(y_true, scores, pos_label)
    precision = tps / (tps + fps)  # tps + fps >= 1: every threshold predicts something
    if tps[-1] == 0:
        warnings.warn("no positive examples: recall is set to 1", stacklevel=2)
        recall = np.ones(len(tps))
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def average_precision(y_true: Sequence[Any], scores: Sequence[float], pos_label: Any = 1) -> float:
    """Area under the precision-recall step curve: sum over thresholds of dRecall * precision."""
    precision, recall, _ = precision_recall_curve(y_true, scores, pos_label)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


# ---------------------------------------------------------------- input handling


def _pair(a: Sequence[Any], b: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 1 or b.ndim != 1 or len(a) != len(b):
        raise ValueError(f"expected two 1-D arrays of equal length, got {a.shape} and {b.shape}")
    if len(a) == 0:
        raise ValueError("expected at least one example, got empty arrays")
    return a, b
