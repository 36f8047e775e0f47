"""Splits, cross-validation and search agree with scikit-learn.

Unshuffled KFold and StratifiedKFold give exactly sklearn's folds; shuffled ones (our own
random numbers) give sklearn's fold sizes and per-class counts. cross_validate and
grid_search with a scikit-learn estimator inside reproduce cross_val_score and
GridSearchCV's mean, std and rank to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.model_selection as skms
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from groundup.metrics import model_selection as ms

SETTINGS = settings(max_examples=40, deadline=None)


def folds(splits) -> list[tuple[list[int], list[int]]]:
    return [(sorted(train.tolist()), sorted(test.tolist())) for train, test in splits]


@SETTINGS
@given(st.integers(2, 60), st.integers(2, 7), st.integers(0, 1000))
def test_matches_sklearn_kfold(n, k, seed) -> None:
    if k > n:
        with pytest.raises(ValueError):
            list(ms.KFold(k).split(n))
        return
    x = np.zeros((n, 1))
    assert folds(ms.KFold(k).split(n)) == folds(skms.KFold(k).split(x))
    ours = folds(ms.KFold(k, shuffle=True, seed=seed).split(n))
    theirs = folds(skms.KFold(k, shuffle=True, random_state=seed).split(x))
    assert [len(test) for _, test in ours] == [len(test) for _, test in theirs]
    assert sorted(i for _, test in ours for i in test) == list(range(n))  # each tested once


@st.composite
def labelled(draw):
    classes = draw(st.integers(2, 4))
    k = draw(st.integers(2, 5))
    counts = draw(st.lists(st.integers(k, 20), min_size=classes, max_size=classes))
    y = np.repeat(np.arange(classes), counts)
    order = draw(st.permutations(list(range(len(y)))))
    return y[np.array(order)], k


@SETTINGS
@given(labelled(), st.integers(0, 1000))
def test_matches_sklearn_stratified_kfold(data, seed) -> None:
    y, k = data
    x = np.zeros((len(y), 1))
    assert folds(ms.StratifiedKFold(k).split(len(y), y)) == folds(
        skms.StratifiedKFold(k).split(x, y)
    )
    ours = ms.StratifiedKFold(k, shuffle=True, seed=seed).split(len(y), y)
    theirs = skms.StratifiedKFold(k, shuffle=True, random_state=seed).split(x, y)
    for (_, a), (_, b) in zip(ours, theirs, strict=True):
        # the same number of examples of every class in each test fold
        assert np.bincount(y[a], minlength=4).tolist() == np.bincount(y[b], minlength=4).tolist()


def test_stratified_folds_keep_class_shares() -> None:
    y = np.r_[np.zeros(90, int), np.ones(10, int)]  # 10 % positives
    for _, test in ms.StratifiedKFold(5, shuffle=True, seed=1).split(100, y):
        assert len(test) == 20 and y[test].sum() == 2
    with pytest.raises(ValueError, match="labels"):
        next(ms.StratifiedKFold(5).split(100))


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["lr", "alpha", "depth", "C"]),
        st.lists(st.integers(0, 9), min_size=1, max_size=3),
        min_size=1,
    )
)
def test_matches_sklearn_parameter_grid(grid) -> None:
    assert ms.parameter_grid(grid) == list(skms.ParameterGrid(grid))
    assert ms.parameter_grid([grid, {"x": [1, 2]}]) == list(
        skms.ParameterGrid([grid, {"x": [1, 2]}])
    )


def test_parameter_samples() -> None:
    space = {"lr": ms.log_uniform(1e-4, 1e-1), "hidden": [16, 32, 64]}
    samples = ms.parameter_samples(space, 200, seed=3)
    assert samples == ms.parameter_samples(space, 200, seed=3)  # reproducible
    lrs = np.array([s["lr"] for s in samples])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1e-1
    assert 0.3 < np.mean(lrs < 1e-2**1.25) < 0.7  # log-uniform: median near 10^-2.5
    assert {s["hidden"] for s in samples} == {16, 32, 64}
    grid_only = ms.parameter_samples({"a": [1, 2, 3], "b": [0, 1]}, 10, seed=0)
    assert len(grid_only) == 6 and len({tuple(s.items()) for s in grid_only}) == 6  # no repeats


def logistic(x_train, y_train, x_test, C=1.0, max_iter=200):
    model = LogisticRegression(C=C, max_iter=max_iter).fit(x_train, y_train)
    return model.predict(x_test)


def small_problem():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(30, int), np.ones(30, int), np.full(30, 2)]
    x = rng.standard_normal((90, 4)) + 0.6 * y[:, None]
    return x, y


def test_matches_sklearn_cross_val_score() -> None:
    x, y = small_problem()
    ours = ms.cross_validate(logistic, x, y, ms.StratifiedKFold(5), accuracy_score)
    theirs = skms.cross_val_score(LogisticRegression(max_iter=200), x, y, cv=5)
    np.testing.assert_allclose(ours.scores, theirs, atol=1e-12)
    assert ours.mean == pytest.approx(theirs.mean()) and ours.std == pytest.approx(theirs.std())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_matches_sklearn_grid_search_cv() -> None:
    x, y = small_problem()
    grid = {"C": [0.001, 0.01, 1.0, 100.0], "max_iter": [5, 200]}
    ours = ms.grid_search(logistic, x, y, grid, ms.KFold(3), accuracy_score)
    theirs = skms.GridSearchCV(LogisticRegression(), grid, cv=skms.KFold(3)).fit(x, y)
    cv = theirs.cv_results_
    assert [{n: r[n] for n in ("C", "max_iter")} for r in ours.rows] == cv["params"]
    np.testing.assert_allclose([r["mean_score"] for r in ours.rows], cv["mean_test_score"])
    np.testing.assert_allclose([r["std_score"] for r in ours.rows], cv["std_test_score"])
    assert [r["rank"] for r in ours.rows] == cv["rank_test_score"].tolist()
    assert ours.best_params == theirs.best_params_
    assert ours.best_score == pytest.approx(theirs.best_score_)


def test_random_search_table_and_csv(tmp_path) -> None:
    x, y = small_problem()
    seen = []
    result = ms.random_search(
        logistic, x, y, {"C": ms.log_uniform(1e-3, 1e2)}, 4, ms.KFold(3), accuracy_score,
        seed=0, on_candidate=seen.append,
    )  # fmt: skip
    assert len(result.rows) == len(seen) == 4
    lines = result.table().splitlines()
    assert lines[0].split()[:2] == ["C", "mean_score"] and len(lines) == 5
    assert float(lines[1].split()[1]) == pytest.approx(result.best_score, abs=1e-4)
    text = result.to_csv(tmp_path / "r.csv").read_text().splitlines()
    assert text[0] == "C,mean_score,std_score,rank,seconds,fold0,fold1,fold2" and len(text) == 5


def test_ties_share_the_best_rank() -> None:
    x, y = small_problem()

    def constant(x_train, y_train, x_test, value=0):
        return np.full(len(x_test), value)

    result = ms.grid_search(constant, x, y, {"value": [0, 1, 2]}, ms.KFold(3), accuracy_score)
    # unshuffled folds of sorted labels: each value is right on exactly one fold
    assert [r["rank"] for r in result.rows] == [1, 1, 1]
