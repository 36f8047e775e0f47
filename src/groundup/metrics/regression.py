"""Regression metrics in NumPy, equal to `sklearn.metrics` (tests/metrics/test_regression.py).

Targets are (N,) or (N, K) for K outputs. For several outputs `multioutput` chooses between
one score per output ("raw_values") and their plain mean ("uniform_average").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mean_absolute_error(
    y_true: Sequence[float], y_pred: Sequence[float], multioutput: str = "uniform_average"
) -> float | np.ndarray:
    """mean |y - ŷ|: in the target's unit, every error counts in proportion to its size."""
    y_true, y_pred = _targets(y_true, y_pred)
    return _reduce(np.abs(y_true - y_pred).mean(axis=0), multioutput)


def mean_squared_error(
    y_true: Sequence[float], y_pred: Sequence[float], multioutput: str = "uniform_average"
) -> float | np.ndarray:
    """mean (y - ŷ)²: squares make large errors count much more than small ones."""
    y_true, y_pred = _targets(y_true, y_pred)
    return _reduce(((y_true - y_pred) ** 2).mean(axis=0), multioutput)


def root_mean_squared_error(
    y_true: Sequence[float], y_pred: Sequence[float], multioutput: str = "uniform_average"
) -> float | np.ndarray:
    """sqrt(MSE), per output before averaging: back in the target's unit."""
    y_true, y_pred = _targets(y_true, y_pred)
    return _reduce(np.sqrt(((y_true - y_pred) ** 2).mean(axis=0)), multioutput)


def r2_score(
    y_true: Sequence[float], y_pred: Sequence[float], multioutput: str = "uniform_average"
) -> float | np.ndarray:
    """1 - SS_residual / SS_total: the share of the target's variance that the model explains.

    1 is perfect, 0 is as good as always predicting the mean, below 0 is worse than that.
    A constant target has SS_total = 0: the score is then 1 for a perfect prediction and
    0 otherwise (sklearn's choice, which keeps the result finite).
    """
    y_true, y_pred = _targets(y_true, y_pred)
    residual = ((y_true - y_pred) ** 2).sum(axis=0)
    total = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    safe_total = np.where(total == 0, 1.0, total)
    score = np.where(total == 0, np.where(residual == 0, 1.0, 0.0), 1 - residual / safe_total)
    return _reduce(score, multioutput)


def _targets(y_true: Sequence[float], y_pred: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    if y_true.shape != y_pred.shape or y_true.ndim not in (1, 2) or len(y_true) == 0:
        raise ValueError(
            f"expected equal shapes (N,) or (N, K), got {y_true.shape}, {y_pred.shape}"
        )
    return (y_true[:, None], y_pred[:, None]) if y_true.ndim == 1 else (y_true, y_pred)


def _reduce(per_output: np.ndarray, multioutput: str) -> float | np.ndarray:
    if multioutput == "raw_values":
        return per_output
    if multioutput == "uniform_average":
        return float(per_output.mean())
    raise ValueError(f"multioutput must be 'raw_values' or 'uniform_average', got {multioutput!r}")
