"""Lab: choose a digit classifier's hyperparameters honestly, then measure it from every side.

Data: scikit-learn's bundled digits (1797 images of 8x8 pixels, ten classes). A stratified
20 % test set is put aside before anything else and touched once, at the very end.
Model: softmax regression in NumPy, trained by full-batch gradient descent with an L2
penalty. Its two hyperparameters, learning rate and L2 strength, are chosen by 5-fold
stratified cross-validation on the training part, once by grid search and once by random
search with the same budget. The winner is retrained on the whole training part and
evaluated on the test set: accuracy with a bootstrap confidence interval, macro F1, a
confusion matrix and one-vs-rest ROC curves. Everything is computed with `groundup.metrics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.metrics import classification as cm
from groundup.metrics.bootstrap import bootstrap_interval
from groundup.metrics.model_selection import (
    SearchResult,
    StratifiedKFold,
    grid_search,
    log_uniform,
    parameter_grid,
    random_search,
)

LAB = "metrics_evaluation"


@dataclass
class Config(LabConfig):
    folds: int = 5  # cross-validation folds on the training part
    steps: int = 100  # full-batch gradient-descent steps per fit
    grid_size: int = 5  # values per hyperparameter in the grid: grid_size**2 candidates
    random_trials: int = 25  # random-search candidates (same budget as the grid by default)
    lr_min: float = 0.01
    lr_max: float = 30.0
    l2_min: float = 1e-5
    l2_max: float = 0.1
    test_fraction: float = 0.2


PRESETS: dict[str, dict] = {
    "micro": {"folds": 3, "steps": 40, "grid_size": 2, "random_trials": 4},
    "tiny": {},
    "full": {"folds": 10, "steps": 300, "grid_size": 8, "random_trials": 64},
}

FIELD_HELP: dict[str, Msg] = {
    "folds": Msg(
        "cross-validation folds on the training part",
        "Anzahl der Teilmengen (Folds) der Kreuzvalidierung auf dem Trainingsteil",
    ),
    "grid_size": Msg(
        "values per hyperparameter in the grid search (grid_size² candidates)",
        "Werte pro Hyperparameter in der Rastersuche (grid_size² Kandidaten)",
    ),
    "random_trials": Msg(
        "candidates tried by the random search",
        "Anzahl der Kandidaten, die die Zufallssuche ausprobiert",
    ),
    "lr_min": Msg("smallest learning rate searched", "kleinste durchsuchte Lernrate"),
    "lr_max": Msg("largest learning rate searched", "größte durchsuchte Lernrate"),
    "l2_min": Msg(
        "smallest L2 penalty searched", "kleinste durchsuchte L2-Strafe (Gewichtsabnahme)"
    ),
    "l2_max": Msg("largest L2 penalty searched", "größte durchsuchte L2-Strafe (Gewichtsabnahme)"),
}

SEARCHING = Msg("Cross-validating candidates", "Kandidaten kreuzvalidieren")
ONLY_CPU = Msg(
    "This lab runs in NumPy on the CPU only; use --device cpu or auto.",
    "Dieses Lab läuft mit NumPy nur auf der CPU; nehmen Sie --device cpu oder auto.",
)


# ---------------------------------------------------------------- data


def load_data(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Features scaled by a fixed constant (no statistics of the data, so nothing leaks)."""
    if cfg.data is None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        return digits.data / 16.0, digits.target.astype(np.int64)  # pixel values are 0..16
    x, y = runner.load_labelled_arrays(cfg.data)
    return x / (np.abs(x).max() or 1.0), y


def holdout(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices; the test set is one fold of a shuffled stratified k-fold split."""
    k = max(2, round(1 / test_fraction))
    try:
        train, test = next(StratifiedKFold(k, shuffle=True, seed=seed).split(len(y), y))
    except ValueError as error:
        raise LabError(runner.BAD_SETTING.get(detail=str(error))) from None
    return train, test


# ---------------------------------------------------------------- the model


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def fit_softmax_regression(
    x: np.ndarray, y: np.ndarray, classes: int, lr: float, l2: float, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (D, C) and bias (C,) minimising mean cross-entropy + l2/2 * |W|² by gradient descent."""
    weights, bias = np.zeros((x.shape[1], classes)), np.zeros(classes)
    one_hot = np.eye(classes)[y]
    for _ in range(steps):
        grad_logits = (softmax(x @ weights + bias) - one_hot) / len(x)
        weights -= lr * (x.T @ grad_logits + l2 * weights)
        bias -= lr * grad_logits.sum(axis=0)
    return weights, bias


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if cfg.folds < 2:
        problems.append("folds must be >= 2")
    if cfg.steps < 1 or cfg.grid_size < 1 or cfg.random_trials < 1:
        problems.append("steps, grid_size and random_trials must be >= 1")
    if not (0 < cfg.lr_min <= cfg.lr_max and 0 < cfg.l2_min <= cfg.l2_max):
        problems.append("need 0 < lr_min <= lr_max and 0 < l2_min <= l2_max")
    if not 0.0 < cfg.test_fraction < 0.5:
        problems.append("test_fraction must lie strictly between 0 and 0.5")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


# ---------------------------------------------------------------- the run


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.out_dir(cfg, LAB)
    runner.save_config(cfg, out)

    x, y = load_data(cfg)
    classes = int(y.max()) + 1
    train, test = holdout(y, cfg.test_fraction, cfg.seed)
    x_train, y_train, x_test, y_test = x[train], y[train], x[test], y[test]
    if np.bincount(y_train, minlength=classes).min() < cfg.folds:
        raise LabError(
            runner.BAD_SETTING.get(detail=f"a class has fewer than folds={cfg.folds} examples")
        )
    splitter = StratifiedKFold(cfg.folds, shuffle=True, seed=cfg.seed)

    grid = {
        "lr": _geomspace(cfg.lr_min, cfg.lr_max, cfg.grid_size),
        "l2": _geomspace(cfg.l2_min, cfg.l2_max, cfg.grid_size),
    }
    space = {"lr": _draw(cfg.lr_min, cfg.lr_max), "l2": _draw(cfg.l2_min, cfg.l2_max)}
    n_grid = len(parameter_grid(grid))
    log = runner.MetricsLog(out / "metrics.jsonl")

    with runner.progress(
        (n_grid + cfg.random_trials) * cfg.folds, SEARCHING.get(), cfg.quiet
    ) as bar:

        def fit_predict(x_fit, y_fit, x_eval, lr: float, l2: float) -> np.ndarray:
            weights, bias = fit_softmax_regression(x_fit, y_fit, classes, lr, l2, cfg.steps)
            bar.update(info=f"lr {lr:.3g} l2 {l2:.2g}")
            return softmax(x_eval @ weights + bias)

        def logged(kind: str):
            def record(row: dict[str, Any]) -> None:
                log.log(search=kind, lr=row["lr"], l2=row["l2"], mean_accuracy=row["mean_score"],
                        std_accuracy=row["std_score"], fold_accuracy=row["fold_scores"])  # fmt: skip

            return record

        grid_result = grid_search(
            fit_predict, x_train, y_train, grid, splitter, accuracy_of_probs, logged("grid")
        )
        random_result = random_search(
            fit_predict, x_train, y_train, space, cfg.random_trials, splitter,
            accuracy_of_probs, seed=cfg.seed, on_candidate=logged("random"),
        )  # fmt: skip
    log.close()

    # the winner of both searches, retrained on all training data, meets the test set once
    winner = max((grid_result, random_result), key=lambda r: r.best_score)
    best = winner.best_params
    weights, bias = fit_softmax_regression(x_train, y_train, classes, steps=cfg.steps, **best)
    probs = softmax(x_test @ weights + bias)
    predicted = probs.argmax(axis=1)
    labels = np.arange(classes)
    matrix = cm.confusion_matrix(y_test, predicted, labels=labels)
    _, _, f1_per_class, _ = cm.precision_recall_f1(y_test, predicted, labels=labels)
    present = np.unique(y_test)
    # how much would the test accuracy move with another 360 images of the same kind?
    interval = bootstrap_interval(y_test, predicted, cm.accuracy, 1000, seed=cfg.seed)

    # accuracy on an imbalanced question: "is it a 0?" (about 10 % yes)
    is_zero = (y_test == 0).astype(int)
    never = np.zeros_like(is_zero)

    artifacts = {
        "grid_table": grid_result.to_csv(out / "grid_search.csv"),
        "random_table": random_result.to_csv(out / "random_search.csv"),
        "search_plot": plot_search(out / "search.png", grid_result, random_result, cfg),
        "confusion_plot": plot_confusion(out / "confusion_matrix.png", matrix),
        "roc_plot": plot_roc(out / "roc.png", y_test, probs, present),
        "metrics": out / "metrics.jsonl",
        "config": out / "config.json",
    }
    metrics: dict[str, float | int | str] = {
        "test_accuracy": cm.accuracy(y_test, predicted),
        "test_accuracy_ci95_low": interval.low,
        "test_accuracy_ci95_high": interval.high,
        "test_macro_f1": float(np.mean(f1_per_class[present])),
        "test_roc_auc_ovr": cm.roc_auc_ovr(y_test, probs[:, present], labels=present),
        "best_cv_accuracy": winner.best_score,
        "best_from": "grid" if winner is grid_result else "random",
        "best_lr": best["lr"],
        "best_l2": best["l2"],
        "grid_best_cv_accuracy": grid_result.best_score,
        "random_best_cv_accuracy": random_result.best_score,
        "worst_cv_accuracy": min(r["mean_score"] for r in grid_result.rows + random_result.rows),
        "candidates": len(grid_result.rows) + len(random_result.rows),
        "zero_vs_rest_never_accuracy": cm.accuracy(is_zero, never),
        "zero_vs_rest_never_f1": float(cm.f1(is_zero, never, average="binary")),
        "train_examples": len(train),
        "test_examples": len(test),
        "seconds": round(timer.seconds, 2),
    }
    text = "\n\n".join(
        [f"grid search (top 5 of {len(grid_result.rows)}):\n" + _top(grid_result),
         f"random search (top 5 of {len(random_result.rows)}):\n" + _top(random_result)]
    )  # fmt: skip
    return LabReport(LAB, out, metrics, artifacts, text=text, seconds=timer.seconds)


def accuracy_of_probs(y_true: np.ndarray, probs: np.ndarray) -> float:
    return cm.accuracy(y_true, probs.argmax(axis=1))


def _geomspace(low: float, high: float, n: int) -> list[float]:
    return [float(v) for v in np.geomspace(low, high, n)]


def _draw(low: float, high: float) -> Any:
    return [low] if low == high else log_uniform(low, high)  # a fixed value: nothing to draw


def _top(result: SearchResult, n: int = 5) -> str:
    return "\n".join(result.table().splitlines()[: n + 1])


# ---------------------------------------------------------------- plots


def plot_search(path: Path, grid: SearchResult, rand: SearchResult, cfg: Config) -> Path:
    """Left: the grid's mean CV accuracy as a heatmap. Right: where random search looked."""
    plt = runner.pyplot()
    lrs = sorted({row["lr"] for row in grid.rows})
    l2s = sorted({row["l2"] for row in grid.rows})
    table = np.full((len(l2s), len(lrs)), np.nan)
    for row in grid.rows:
        table[l2s.index(row["l2"]), lrs.index(row["lr"])] = row["mean_score"]
    scores = [row["mean_score"] for row in grid.rows + rand.rows]
    low, high = min(scores), max(scores)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), dpi=110)
    image = left.imshow(table, origin="lower", cmap="viridis", vmin=low, vmax=high, aspect="auto")
    left.set_xticks(range(len(lrs)), [f"{v:.3g}" for v in lrs])
    left.set_yticks(range(len(l2s)), [f"{v:.2g}" for v in l2s])
    for i in range(len(l2s)):
        for j in range(len(lrs)):
            color = "white" if table[i, j] < (low + high) / 2 else "black"
            left.text(j, i, f"{table[i, j]:.3f}", ha="center", va="center", color=color, fontsize=7)
    left.set_title(f"Grid search: mean {cfg.folds}-fold CV accuracy")
    left.set_xlabel("learning rate")
    left.set_ylabel("L2 penalty")
    xs, ys = [row["lr"] for row in rand.rows], [row["l2"] for row in rand.rows]
    dots = right.scatter(xs, ys, c=[row["mean_score"] for row in rand.rows], cmap="viridis",
                         vmin=low, vmax=high, s=40, edgecolors="k", linewidths=0.4)  # fmt: skip
    best = rand.best
    right.scatter([best["lr"]], [best["l2"]], marker="*", s=250, c="red")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlim(cfg.lr_min / 1.5, cfg.lr_max * 1.5)
    right.set_ylim(cfg.l2_min / 1.5, cfg.l2_max * 1.5)
    right.set_title(f"Random search: {len(rand.rows)} log-uniform draws (red star: best)")
    right.set_xlabel("learning rate")
    right.set_ylabel("L2 penalty")
    fig.colorbar(dots if math.isfinite(high) else image, ax=right, label="mean CV accuracy")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_confusion(path: Path, matrix: np.ndarray) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 5), dpi=110)
    ax.imshow(matrix, cmap="Blues")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if matrix[i, j]:
                color = "white" if matrix[i, j] > matrix.max() / 2 else "black"
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"Confusion matrix on the test set ({matrix.sum()} images)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_roc(path: Path, y_true: np.ndarray, probs: np.ndarray, classes: np.ndarray) -> Path:
    """One ROC curve per class: that class against all others, scored by its probability."""
    plt = runner.pyplot()
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(11, 5), dpi=110)
    colors = plt.get_cmap("tab10")
    for c in classes:
        positive = (y_true == c).astype(int)
        fpr, tpr, _ = cm.roc_curve(positive, probs[:, c])
        auc = cm.roc_auc(positive, probs[:, c])
        for axis in (ax, zoom):
            axis.plot(fpr, tpr, color=colors(int(c) % 10), lw=1.2, label=f"{c} (AUC {auc:.4f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="chance")
    ax.set_title("One-vs-rest ROC curves on the test set")
    zoom.set_xlim(-0.005, 0.15)
    zoom.set_ylim(0.7, 1.005)
    zoom.set_title("The top-left corner, enlarged")
    for axis in (ax, zoom):
        axis.set_xlabel("false positive rate")
        axis.set_ylabel("true positive rate")
        axis.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
