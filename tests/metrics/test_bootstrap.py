"""The bootstrap interval equals scipy.stats.bootstrap (percentile method, paired samples)
when both use the same random generator: same draws, same quantiles (tolerance 1e-12)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from groundup.metrics.bootstrap import bootstrap_interval
from groundup.metrics.classification import accuracy
from groundup.metrics.regression import mean_absolute_error


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 60), st.sampled_from([0.8, 0.9, 0.95]))
def test_matches_scipy_bootstrap_percentile(seed, n, confidence) -> None:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, 3, n))
    ours = bootstrap_interval(y_true, y_pred, accuracy, 200, confidence, seed=seed)
    theirs = stats.bootstrap(
        (y_true, y_pred), lambda t, p: accuracy(t, p), paired=True, vectorized=False,
        n_resamples=200, confidence_level=confidence, method="percentile",
        rng=np.random.default_rng(seed),
    )  # fmt: skip
    assert ours.low == pytest.approx(theirs.confidence_interval.low, abs=1e-12)
    assert ours.high == pytest.approx(theirs.confidence_interval.high, abs=1e-12)
    assert ours.standard_error == pytest.approx(theirs.standard_error, abs=1e-12)
    assert ours.estimate == accuracy(y_true, y_pred)


def test_interval_narrows_with_more_data_and_covers_the_estimate() -> None:
    rng = np.random.default_rng(0)
    widths = []
    for n in (50, 800):
        target = rng.standard_normal(n)
        guess = target + rng.standard_normal(n)
        result = bootstrap_interval(target, guess, mean_absolute_error, 300, seed=1)
        assert result.low <= result.estimate <= result.high
        widths.append(result.high - result.low)
    assert widths[1] < widths[0] / 2  # width shrinks like 1/sqrt(n): 4x less here
    assert "95 % CI" in str(result)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="lengths"):
        bootstrap_interval([0, 1], [0], accuracy)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_interval([0, 1], [0, 1], accuracy, confidence=1.5)
