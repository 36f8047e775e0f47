"""Model selection: k-fold splits, cross-validation, grid search and random search.

A model is any function `fit_predict(x_train, y_train, x_test, **params) -> predictions`;
a metric is any function `metric(y_true, predictions) -> float` where higher is better.
That is all cross-validation needs, so it works for NumPy code, torch models and
scikit-learn estimators alike. Splits, candidate order and ranks follow scikit-learn's
KFold, StratifiedKFold, ParameterGrid and GridSearchCV (tests/metrics/test_model_selection.py).
"""

from __future__ import annotations

import csv
import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FitPredict = Callable[..., Any]
Metric = Callable[[np.ndarray, Any], float]
Split = tuple[np.ndarray, np.ndarray]  # (train indices, test indices)


# ---------------------------------------------------------------- splitting


@dataclass
class KFold:
    """k folds of (almost) equal size; each example is tested exactly once.

    The first n % k folds get one example more. Without shuffling, fold i is the i-th
    contiguous block of the data, as in sklearn.
    """

    n_splits: int = 5
    shuffle: bool = False
    seed: int | None = None

    def split(self, n: int, y: Sequence[Any] | None = None) -> Iterator[Split]:
        _check_folds(self.n_splits, n)
        order = np.arange(n)
        if self.shuffle:
            np.random.default_rng(self.seed).shuffle(order)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            test = order[start : start + size]
            yield _complement(test, n), np.sort(test) if self.shuffle else test
            start += size


@dataclass
class StratifiedKFold:
    """k folds in which every class keeps (almost exactly) its share of the data.

    Sort the labels and deal them out to the folds like cards, round robin: that fixes
    how many examples of each class each fold gets, differing by at most one between
    folds. Within a class, the examples in data order (shuffled, if asked) fill fold 0
    first, then fold 1, and so on. Without shuffling the folds equal sklearn's.
    """

    n_splits: int = 5
    shuffle: bool = False
    seed: int | None = None

    def split(self, n: int, y: Sequence[Any] | None = None) -> Iterator[Split]:
        if y is None or len(y) != n:
            raise ValueError("StratifiedKFold needs the labels y, one per example")
        _check_folds(self.n_splits, n)
        # classes numbered in order of first appearance, as sklearn does
        _, first_seen, inverse = np.unique(np.asarray(y), return_index=True, return_inverse=True)
        codes = np.argsort(np.argsort(first_seen))[inverse]
        counts = np.bincount(codes)
        if np.all(counts < self.n_splits):
            raise ValueError(f"n_splits={self.n_splits} exceeds the size of every class")
        dealt = np.sort(codes)
        per_fold = np.array(
            [
                np.bincount(dealt[i :: self.n_splits], minlength=len(counts))
                for i in range(self.n_splits)
            ]
        )  # (folds, classes)
        rng = np.random.default_rng(self.seed)
        fold_of = np.empty(n, dtype=np.int64)
        for c in range(len(counts)):
            folds = np.repeat(np.arange(self.n_splits), per_fold[:, c])
            if self.shuffle:
                rng.shuffle(folds)
            fold_of[codes == c] = folds
        for fold in range(self.n_splits):
            test = np.flatnonzero(fold_of == fold)
            yield np.flatnonzero(fold_of != fold), test


def _check_folds(n_splits: int, n: int) -> None:
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    if n_splits > n:
        raise ValueError(f"n_splits={n_splits} is more than the {n} examples")


def _complement(indices: np.ndarray, n: int) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    keep[indices] = False
    return np.flatnonzero(keep)


# ---------------------------------------------------------------- cross-validation


@dataclass
class CVResult:
    scores: list[float]  # one per fold
    seconds: float

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:  # population std over folds, as sklearn's std_test_score
        return float(np.std(self.scores))


def cross_validate(
    fit_predict: FitPredict,
    x: np.ndarray,
    y: np.ndarray,
    splitter: KFold | StratifiedKFold,
    metric: Metric,
    params: Mapping[str, Any] | None = None,
) -> CVResult:
    """Train on k-1 folds, score on the held-out one, k times.

    Anything learned from data (scaling statistics, a vocabulary, feature selection) must
    happen inside `fit_predict` on x_train only; doing it on all of x first leaks the test
    fold into training and makes the score too optimistic.
    """
    start = time.perf_counter()
    scores = []
    for train, test in splitter.split(len(x), y):
        predictions = fit_predict(x[train], y[train], x[test], **(params or {}))
        scores.append(float(metric(y[test], predictions)))
    return CVResult(scores, time.perf_counter() - start)


# ---------------------------------------------------------------- candidates


def parameter_grid(grid: Mapping[str, Sequence[Any]] | Sequence[Mapping]) -> list[dict]:
    """Every combination of the listed values, in sklearn's ParameterGrid order.

    Names are sorted and the last name varies fastest. A list of grids is the
    concatenation of their combinations.
    """
    grids = [grid] if isinstance(grid, Mapping) else list(grid)
    combos = []
    for one in grids:
        names = sorted(one)
        for values in itertools.product(*(one[name] for name in names)):
            combos.append(dict(zip(names, values, strict=True)))
    return combos


def log_uniform(low: float, high: float) -> Callable[[np.random.Generator], float]:
    """A distribution for random search: equally likely in every decade between low and high."""
    if not 0 < low < high:
        raise ValueError(f"log_uniform needs 0 < low < high, got {low}, {high}")
    return lambda rng: float(math.exp(rng.uniform(math.log(low), math.log(high))))


def parameter_samples(
    space: Mapping[str, Sequence[Any] | Callable[[np.random.Generator], Any]],
    n_iter: int,
    seed: int | None = None,
) -> list[dict]:
    """n_iter random candidates; a value is a list (pick one) or a function of a Generator.

    If every value is a list, candidates are drawn from the grid without repeats (at most
    the grid's size), as sklearn's ParameterSampler does.
    """
    rng = np.random.default_rng(seed)
    names = sorted(space)
    if all(not callable(space[name]) for name in names):
        grid = parameter_grid(space)
        chosen = rng.choice(len(grid), size=min(n_iter, len(grid)), replace=False)
        return [grid[i] for i in chosen]
    samples = []
    for _ in range(n_iter):
        sample = {}
        for name in names:
            values = space[name]
            sample[name] = values(rng) if callable(values) else values[rng.integers(len(values))]
        samples.append(sample)
    return samples


# ---------------------------------------------------------------- search


@dataclass
class SearchResult:
    rows: list[dict[str, Any]]  # one per candidate: params, mean, std, rank, fold scores
    param_names: list[str] = field(default_factory=list)

    @property
    def best(self) -> dict[str, Any]:
        return min(self.rows, key=lambda row: (row["rank"], self.rows.index(row)))

    @property
    def best_params(self) -> dict[str, Any]:
        return {name: self.best[name] for name in self.param_names}

    @property
    def best_score(self) -> float:
        return self.best["mean_score"]

    def table(self, digits: int = 4) -> str:
        """The results as aligned text, best candidate first."""
        columns = [*self.param_names, "mean_score", "std_score", "rank", "seconds"]
        rows = sorted(self.rows, key=lambda row: row["rank"])
        cells = [[_cell(c, row[c], digits) for c in columns] for row in rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
        return "\n".join(lines)

    def to_csv(self, path: Path) -> Path:
        folds = len(self.rows[0]["fold_scores"]) if self.rows else 0
        columns = [*self.param_names, "mean_score", "std_score", "rank", "seconds"]
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(columns + [f"fold{i}" for i in range(folds)])
            for row in self.rows:
                writer.writerow([row[c] for c in columns] + row["fold_scores"])
        return path


def search(
    fit_predict: FitPredict,
    x: np.ndarray,
    y: np.ndarray,
    candidates: Sequence[Mapping[str, Any]],
    splitter: KFold | StratifiedKFold,
    metric: Metric,
    on_candidate: Callable[[dict[str, Any]], None] | None = None,
) -> SearchResult:
    """Cross-validate every candidate on the same folds and rank them by mean score.

    Rank 1 is best; equal means share the best rank among them (sklearn's rank_test_score).
    `on_candidate(row)` is called after each candidate (progress bars).
    """
    rows = []
    for params in candidates:
        result = cross_validate(fit_predict, x, y, splitter, metric, params)
        row = {
            **params,
            "mean_score": result.mean,
            "std_score": result.std,
            "fold_scores": result.scores,
            "seconds": result.seconds,
        }
        rows.append(row)
        if on_candidate is not None:
            on_candidate(row)
    means = np.array([row["mean_score"] for row in rows])
    for row in rows:  # 1 + number of candidates strictly better: ties share the rank
        row["rank"] = int(1 + np.sum(means > row["mean_score"]))
    names = sorted({name for params in candidates for name in params})
    return SearchResult(rows, names)


def grid_search(
    fit_predict: FitPredict,
    x: np.ndarray,
    y: np.ndarray,
    grid: Mapping[str, Sequence[Any]],
    splitter: KFold | StratifiedKFold,
    metric: Metric,
    on_candidate: Callable[[dict[str, Any]], None] | None = None,
) -> SearchResult:
    return search(fit_predict, x, y, parameter_grid(grid), splitter, metric, on_candidate)


def random_search(
    fit_predict: FitPredict,
    x: np.ndarray,
    y: np.ndarray,
    space: Mapping[str, Any],
    n_iter: int,
    splitter: KFold | StratifiedKFold,
    metric: Metric,
    seed: int | None = None,
    on_candidate: Callable[[dict[str, Any]], None] | None = None,
) -> SearchResult:
    candidates = parameter_samples(space, n_iter, seed)
    return search(fit_predict, x, y, candidates, splitter, metric, on_candidate)


def _cell(column: str, value: Any, digits: int) -> str:
    if column in ("mean_score", "std_score"):
        return f"{value:.{digits}f}"
    if column == "seconds":
        return f"{value:.2f}"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)
