"""How sure is a score? A bootstrap confidence interval for any metric of a test set.

The test set is one sample of the data the model will meet. Drawing N examples from it with
replacement, many times, and recomputing the metric on each draw shows how much the score
would move with a different sample of the same size. The middle 95 % of those scores is the
percentile bootstrap interval (Efron). With the same random generator the draws and the
interval equal scipy.stats.bootstrap(..., paired=True, method="percentile")
(tests/metrics/test_bootstrap.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Interval:
    estimate: float  # the metric on the whole test set
    low: float
    high: float
    standard_error: float  # standard deviation of the resampled scores
    confidence: float

    def __str__(self) -> str:
        percent = round(100 * self.confidence)
        return f"{self.estimate:.4f} ({percent} % CI {self.low:.4f} to {self.high:.4f})"


def bootstrap_interval(
    y_true: Any,
    y_pred: Any,
    metric: Callable[[np.ndarray, np.ndarray], float],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = None,
) -> Interval:
    """Percentile bootstrap interval of metric(y_true, y_pred); pairs are resampled together.

    y_pred may be labels (N,) or scores (N, ...): the same rows are drawn from both.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred) or len(y_true) == 0:
        raise ValueError(f"expected equal, non-zero lengths, got {len(y_true)} and {len(y_pred)}")
    if not 0 < confidence < 1 or n_resamples < 2:
        raise ValueError("need 0 < confidence < 1 and n_resamples >= 2")
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(y_true), size=(n_resamples, len(y_true)))  # one draw per row
    scores = np.array([metric(y_true[draw], y_pred[draw]) for draw in rows], dtype=np.float64)
    tail = (1 - confidence) / 2
    low, high = np.quantile(scores, [tail, 1 - tail])
    return Interval(
        estimate=float(metric(y_true, y_pred)),
        low=float(low),
        high=float(high),
        standard_error=float(scores.std(ddof=1)),
        confidence=confidence,
    )
