"""Regression metrics equal sklearn.metrics on random targets (tolerance 1e-10 relative)."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.metrics import regression as rm

PAIRS = [
    (rm.mean_absolute_error, skm.mean_absolute_error),
    (rm.mean_squared_error, skm.mean_squared_error),
    (rm.root_mean_squared_error, skm.root_mean_squared_error),
    (rm.r2_score, skm.r2_score),
]


@settings(max_examples=50, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(2, 30),
    st.sampled_from([None, 1, 3]),
    st.sampled_from(["raw_values", "uniform_average"]),
    st.booleans(),
)
def test_matches_sklearn_regression_metrics(seed, n, outputs, multioutput, constant) -> None:
    rng = np.random.default_rng(seed)
    shape = (n,) if outputs is None else (n, outputs)
    y_true = rng.standard_normal(shape) * 3
    if constant:  # a constant target: R² has SS_total = 0
        y_true = np.full(shape, 1.5)
    y_pred = y_true + rng.standard_normal(shape) if seed % 3 else y_true.copy()
    for ours, theirs in PAIRS:
        got = ours(y_true, y_pred, multioutput=multioutput)
        np.testing.assert_allclose(
            got, theirs(y_true, y_pred, multioutput=multioutput), rtol=1e-10, atol=1e-12
        )


def test_r2_baselines() -> None:
    y = np.array([1.0, 2.0, 4.0, 7.0])
    assert rm.r2_score(y, y) == 1.0
    assert rm.r2_score(y, np.full(4, y.mean())) == pytest.approx(0.0)
    assert rm.r2_score(y, -y) < 0


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shapes"):
        rm.mean_absolute_error([1.0, 2.0], [1.0])
