"""Lab: gradient descent and its relatives on functions you can draw.

Part 1 draws the paths of five methods on two surfaces: a convex quadratic whose valley is
`condition` times steeper across than along, and the curved Rosenbrock valley. Plain gradient
descent zigzags across the valley, momentum and Nesterov gather speed along it, a backtracking
line search picks its own steps, and Newton's method jumps straight to the minimum.

Part 2 runs plain gradient descent on the quadratic with four step sizes: far too small,
1/L, the optimal 2/(L + mu), and just above the limit 2/L, where it diverges.

Part 3 fits a least-squares problem by minibatch SGD with a decaying step, for several batch
sizes, and draws how far the full loss stays above the exact optimum (np.linalg.lstsq):
small batches are cheap but noisy.

Everything is NumPy (`groundup.math.optimization`) and runs in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groundup.files import atomic_write_text
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.math import optimization as opt

LAB = "optimization"
METHODS = ("gd", "momentum", "nesterov", "backtracking", "newton")
ROSENBROCK_START = np.array([-1.5, 2.0])
ROSENBROCK_LR = 1e-3  # near the largest fixed step that is stable in the steep valley walls
ROSENBROCK_MOMENTUM = 0.9


@dataclass
class Config(runner.LabConfig):
    condition: float = 20.0  # kappa = L / mu of the quadratic
    quad_steps: int = 60
    rosen_steps: int = 3000
    lr_steps: int = 100
    samples: int = 2000
    features: int = 10
    noise: float = 0.5
    batch_sizes: str = "1,10,100"
    sgd_steps: int = 3000
    sgd_lr: float = 0.05
    sgd_decay: float = 0.01


PRESETS: dict[str, dict] = {
    "micro": {"rosen_steps": 600, "samples": 500, "sgd_steps": 800},
    "tiny": {},
    "full": {
        "condition": 100.0,
        "quad_steps": 200,
        "rosen_steps": 20000,
        "samples": 20000,
        "sgd_steps": 30000,
        "batch_sizes": "1,10,100,1000",
    },
}

FIELD_HELP = {
    "condition": Msg(
        "condition number L/mu of the quadratic (how much steeper across than along)",
        "Konditionszahl L/mu der quadratischen Funktion (wie viel steiler quer als längs)",
    ),
    "quad_steps": Msg(
        "steps of each method on the quadratic", "Schritte jedes Verfahrens auf der Quadratik"
    ),
    "rosen_steps": Msg(
        "steps of each method on the Rosenbrock valley",
        "Schritte jedes Verfahrens im Rosenbrock-Tal",
    ),
    "lr_steps": Msg(
        "steps of each run in the learning-rate comparison",
        "Schritte jedes Laufs im Lernratenvergleich",
    ),
    "samples": Msg(
        "rows of the generated least-squares problem",
        "Zeilen des erzeugten Kleinste-Quadrate-Problems",
    ),
    "features": Msg(
        "columns (unknowns) of the least-squares problem",
        "Spalten (Unbekannte) des Kleinste-Quadrate-Problems",
    ),
    "noise": Msg(
        "standard deviation of the noise added to the targets",
        "Standardabweichung des Rauschens auf den Zielwerten",
    ),
    "batch_sizes": Msg(
        "comma-separated minibatch sizes for SGD", "kommagetrennte Minibatch-Größen für SGD"
    ),
    "sgd_steps": Msg("SGD steps per batch size", "SGD-Schritte pro Batch-Größe"),
    "sgd_lr": Msg("initial SGD step size", "anfängliche SGD-Schrittweite"),
    "sgd_decay": Msg(
        "step decay: lr_k = sgd_lr / (1 + sgd_decay k)",
        "Abklingen der Schrittweite: lr_k = sgd_lr / (1 + sgd_decay k)",
    ),
}

TEXT = {
    "progress": Msg("optimizing", "optimiere"),
    "no_data": Msg(
        "this lab generates its own functions and data and takes no --data file",
        "dieses Lab erzeugt seine Funktionen und Daten selbst und nimmt keine --data-Datei",
    ),
    "bad_value": Msg(
        "{field} must be {rule}, got {value}", "{field} muss {rule} sein, ist {value}"
    ),
    "paths_title": Msg("Paths of five methods", "Wege von fünf Verfahren"),
    "lr_title": Msg(
        "Gradient descent on the quadratic (kappa = {kappa:g}): step size",
        "Gradientenabstieg auf der Quadratik (kappa = {kappa:g}): Schrittweite",
    ),
    "sgd_title": Msg(
        "Minibatch SGD on least squares: full loss above the optimum",
        "Minibatch-SGD auf kleinsten Quadraten: Verlust über dem Optimum",
    ),
}


def batch_sizes(cfg: Config) -> list[int]:
    try:
        sizes = [int(s) for s in cfg.batch_sizes.split(",") if s.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(not 1 <= s <= cfg.samples for s in sizes):
        raise runner.LabError(
            TEXT["bad_value"].get(
                field="batch_sizes", rule=f"integers in 1..{cfg.samples}", value=cfg.batch_sizes
            )
        )
    return sizes


def validate(cfg: Config) -> list[int]:
    if cfg.data is not None:
        raise runner.LabError(TEXT["no_data"].get())
    rules: list[tuple[str, bool, str]] = [
        ("condition", cfg.condition >= 1, ">= 1"),
        ("quad_steps", cfg.quad_steps >= 1, ">= 1"),
        ("rosen_steps", cfg.rosen_steps >= 1, ">= 1"),
        ("lr_steps", cfg.lr_steps >= 1, ">= 1"),
        ("samples", cfg.samples >= 2, ">= 2"),
        ("features", cfg.features >= 1, ">= 1"),
        ("noise", cfg.noise >= 0, ">= 0"),
        ("sgd_steps", cfg.sgd_steps >= 1, ">= 1"),
        ("sgd_lr", cfg.sgd_lr > 0, "> 0"),
        ("sgd_decay", cfg.sgd_decay >= 0, ">= 0"),
    ]
    for field, ok, rule in rules:
        if not ok:
            raise runner.LabError(
                TEXT["bad_value"].get(field=field, rule=rule, value=getattr(cfg, field))
            )
    return batch_sizes(cfg)


# ---------------------------------------------------------------- part 1: paths


def quadratic_paths(q: opt.Quadratic, x0: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    """Each method with the settings that theory recommends for this quadratic."""
    mu, L = q.mu, q.L
    lr, beta = opt.heavy_ball_parameters(mu, L)
    root = np.sqrt(L / mu)
    return {
        "gd": opt.gradient_descent(q.grad, x0, opt.optimal_step(mu, L), steps),
        "momentum": opt.gradient_descent(q.grad, x0, lr, steps, momentum=beta),
        "nesterov": opt.gradient_descent(
            q.grad, x0, 1 / L, steps, momentum=(root - 1) / (root + 1), nesterov=True
        ),
        "backtracking": opt.backtracking(q.f, q.grad, x0, steps)[0],
        "newton": opt.newton(q.grad, q.hess, x0, steps),
    }


def rosenbrock_paths(steps: int) -> dict[str, np.ndarray]:
    x0, grad, lr, mu = ROSENBROCK_START, opt.rosenbrock_grad, ROSENBROCK_LR, ROSENBROCK_MOMENTUM
    return {
        "gd": opt.gradient_descent(grad, x0, lr, steps),
        "momentum": opt.gradient_descent(grad, x0, lr, steps, momentum=mu),
        "nesterov": opt.gradient_descent(grad, x0, lr, steps, momentum=mu, nesterov=True),
        "backtracking": opt.backtracking(opt.rosenbrock, grad, x0, steps)[0],
        "newton": opt.newton(grad, opt.rosenbrock_hess, x0, min(steps, 50)),
    }


def steps_to(errors: np.ndarray, tol: float) -> int:
    """The first step whose error is below tol, or -1 if none is."""
    below = np.flatnonzero(errors < tol)
    return int(below[0]) if below.size else -1


# ---------------------------------------------------------------- part 2: step sizes


def learning_rate_runs(q: opt.Quadratic, x0: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    """f(x_k) - f* for four fixed steps, from far too small to just too large."""
    mu, L = q.mu, q.L
    rates = {
        "0.05/L (too small)": 0.05 / L,
        "1/L": 1 / L,
        "2/(L+mu) (optimal)": opt.optimal_step(mu, L),
        "2.05/L (too large)": 2.05 / L,
    }
    best = q.f(q.minimizer)
    return {
        name: np.array([q.f(x) - best for x in opt.gradient_descent(q.grad, x0, lr, steps)])
        for name, lr in rates.items()
    }


# ---------------------------------------------------------------- part 3: SGD


def make_regression(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(cfg.seed)
    X = rng.normal(size=(cfg.samples, cfg.features))
    y = X @ rng.normal(size=cfg.features) + cfg.noise * rng.normal(size=cfg.samples)
    return X, y


def sgd_excess(cfg: Config, X: np.ndarray, y: np.ndarray, size: int) -> np.ndarray:
    """Full loss minus the optimal loss along SGD's path with this batch size."""
    best = opt.least_squares_loss(X, y, np.linalg.lstsq(X, y, rcond=None)[0])
    path = opt.sgd_least_squares(X, y, size, cfg.sgd_steps, cfg.sgd_lr, cfg.sgd_decay, cfg.seed)
    # |Xw - y|^2 = w^T (X^T X) w - 2 w^T X^T y + y^T y: every step at once, in O(d^2) per step
    gram, cross = X.T @ X, X.T @ y
    squared = np.einsum("ki,ij,kj->k", path, gram, path) - 2 * path @ cross + y @ y
    return squared / (2 * len(y)) - best


# ---------------------------------------------------------------- the experiment


def run(cfg: Config) -> runner.LabReport:
    sizes = validate(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    log = runner.MetricsLog(out / "metrics.jsonl")
    metrics: dict[str, float | int | str] = {}

    q = opt.quadratic(cfg.condition, dim=2, seed=cfg.seed)
    # start far out along the flattest direction, a little off it: the hard case for GD
    flat, steep = np.linalg.eigh(q.A)[1].T
    x0 = q.minimizer + 4 * flat + 0.4 * steep
    total = 2 * len(METHODS) + 4 + len(sizes)
    with runner.progress(total, TEXT["progress"].get(), quiet=cfg.quiet) as bar:
        quad = quadratic_paths(q, x0, cfg.quad_steps)
        for name, path in quad.items():
            errors = np.linalg.norm(path - q.minimizer, axis=1)
            metrics[f"quad_error_{name}"] = float(errors[-1])
            metrics[f"quad_steps_to_1e-6_{name}"] = steps_to(errors, 1e-6)
            log.log(part="quadratic", method=name, final_error=float(errors[-1]),
                    steps_to_1e_6=steps_to(errors, 1e-6))  # fmt: skip
            bar.update(info=f"quadratic {name}")
        rho = opt.gd_rate(q.mu, q.L)
        metrics["gd_rate_theory"] = rho
        # measured where the error is still far above rounding
        metrics["gd_rate_measured"] = opt.measured_rate(quad["gd"][: cfg.quad_steps // 2 + 1],
                                                        q.minimizer)  # fmt: skip

        rosen = rosenbrock_paths(cfg.rosen_steps)
        for name, path in rosen.items():
            value = opt.rosenbrock(path[-1])
            metrics[f"rosenbrock_{name}"] = value
            log.log(part="rosenbrock", method=name, steps=len(path) - 1, final_f=value)
            bar.update(info=f"Rosenbrock {name}: f = {value:.2g}")
        metrics["rosenbrock_start"] = opt.rosenbrock(ROSENBROCK_START)

        curves = learning_rate_runs(q, x0, cfg.lr_steps)
        for name, curve in curves.items():
            key = name.split(" ")[0]
            metrics[f"lr_{key}_final_gap"] = float(curve[-1])
            log.log(part="learning_rate", lr=name, final_gap=float(curve[-1]))
            bar.update(info=f"lr {key}")
        metrics["lr_start_gap"] = float(next(iter(curves.values()))[0])

        X, y = make_regression(cfg)
        excess = {}
        for size in sizes:
            excess[size] = sgd_excess(cfg, X, y, size)
            tail = float(excess[size][-max(1, cfg.sgd_steps // 10) :].mean())
            metrics[f"sgd_excess_batch_{size}"] = tail  # mean over the last tenth of the steps
            log.log(part="sgd", batch_size=size, final_excess=tail)
            bar.update(info=f"SGD batch {size}: {tail:.2g}")
        metrics["sgd_start_excess"] = float(excess[sizes[0]][0])
    log.close()

    table = results_table(metrics, sizes)
    atomic_write_text(out / "results.txt", table + "\n")
    artifacts = {
        "paths": save_paths(out / "paths.png", q, quad, rosen),
        "learning_rates": save_curves(
            out / "learning_rates.png",
            curves,
            TEXT["lr_title"].get(kappa=cfg.condition),
            "f(x) - f*",
        ),
        "sgd_batch_size": save_curves(
            out / "sgd_batch_size.png",
            {f"batch {s}": e for s, e in excess.items()},
            TEXT["sgd_title"].get(),
            "loss - optimal loss",
        ),
        "results": out / "results.txt",
        "metrics": out / "metrics.jsonl",
    }
    return runner.LabReport(lab=LAB, out_dir=out, metrics=metrics, artifacts=artifacts,
                            text=table, seconds=timer.seconds)  # fmt: skip


def results_table(metrics: dict, sizes: list[int]) -> str:
    rows = ["method        quadratic |x-x*|  steps to 1e-6  Rosenbrock f"]
    for name in METHODS:
        rows.append(f"{name:<13} {metrics[f'quad_error_{name}']:<17.2e} "
                    f"{metrics[f'quad_steps_to_1e-6_{name}']:<14} "
                    f"{metrics[f'rosenbrock_{name}']:.2e}")  # fmt: skip
    rows.append(f"GD rate: measured {metrics['gd_rate_measured']:.4f}, "
                f"theory (kappa-1)/(kappa+1) = {metrics['gd_rate_theory']:.4f}")  # fmt: skip
    rows.append("SGD batch size  loss above optimum (last tenth of the steps)")
    rows += [f"{s:<15} {metrics[f'sgd_excess_batch_{s}']:.2e}" for s in sizes]
    return "\n".join(rows)


# ---------------------------------------------------------------- plots


def save_paths(path: Path, q: opt.Quadratic, quad: dict, rosen: dict) -> Path:
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), dpi=110)
    center = q.minimizer
    span = 1.2 * np.abs(quad["gd"][0] - center).max()
    gx, gy = np.meshgrid(np.linspace(center[0] - span, center[0] + span, 200),
                         np.linspace(center[1] - span, center[1] + span, 200))  # fmt: skip
    points = np.stack([gx, gy], axis=-1) - center
    gz = 0.5 * np.einsum("...i,ij,...j->...", points, q.A, points)  # f - f*
    left.contour(gx, gy, gz, levels=np.geomspace(gz.max() / 1e4, gz.max(), 12), cmap="Greys")
    left.set(title=f"quadratic, kappa = {q.L / q.mu:.3g}", aspect="equal")
    rx, ry = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
    rz = (1 - rx) ** 2 + 100 * (ry - rx**2) ** 2
    right.contour(rx, ry, rz, levels=np.logspace(-1, 3.5, 15), cmap="Greys", linewidths=0.6)
    right.set(title="Rosenbrock", xlim=(-2, 2), ylim=(-1, 3))
    for ax, paths, target in ((left, quad, center), (right, rosen, (1.0, 1.0))):
        for name, points in paths.items():
            p = np.clip(points, -10, 10)  # a diverging run stays on the canvas
            ax.plot(p[:, 0], p[:, 1], marker=".", markersize=3, linewidth=1, label=name)
        ax.plot(*points[0], "ko")
        ax.plot(*target, "r*", markersize=12)
        ax.legend()
    fig.suptitle(TEXT["paths_title"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_curves(path: Path, curves: dict[str, np.ndarray], title: str, ylabel: str) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for name, values in curves.items():
        ax.plot(np.arange(len(values)), np.maximum(values, 1e-300), label=name, linewidth=1.2)
    ax.set(title=title, xlabel="step", ylabel=ylabel, yscale="log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
