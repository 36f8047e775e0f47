"""Lab: three ways to take a derivative, gradients as arrows, and the chain rule by hand.

(a) The derivative of one function at one point by forward differences, central differences
    and the complex step, for step sizes h from 1e-16 to 1e-1. On a log-log plot the finite
    differences draw a V: on the right the truncation error (slope 1 for forward, 2 for
    central), on the left round-off, which grows like eps / h. The bottom of the V sits near
    h = sqrt(eps) ~ 1e-8 (forward) and h = eps^(1/3) ~ 1e-5 (central). The complex step has no
    subtraction and stays at machine precision for every small h.
(b) A 2-D function (a bent valley) as a contour plot, its gradient field as arrows, and the
    path of gradient descent that follows the numerical gradient downhill. Every step checks
    the numerical gradient against the analytic one.
(c) The chain rule on a small computation graph, L = tanh(x y + sin x) y: each node's value
    and local derivatives going forward, then the adjoints dL/dnode going backward, the way
    backpropagation does it; the result is checked with dual numbers and torch.autograd.

Everything is computed by groundup.math.calculus; no data is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.math import calculus


@dataclass
class Config(runner.LabConfig):
    function: str = "squire_trapp"  # (a): squire_trapp, exp or sin
    point: float = 1.5  # (a): where the derivative is taken
    n_steps: int = 60  # (a): step sizes h, log-spaced from 1e-16 to 1e-1
    gd_steps: int = 200  # (b): gradient-descent steps
    lr: float = 0.03  # (b): gradient-descent step size


PRESETS: dict[str, dict] = {
    "micro": {"n_steps": 31, "gd_steps": 60, "lr": 0.05},
    "tiny": {},
    "full": {"n_steps": 300, "gd_steps": 1000, "lr": 0.01},
}

FIELD_HELP: dict[str, Msg] = {
    "function": Msg(
        "function differentiated in (a): squire_trapp, exp or sin",
        "in (a) abgeleitete Funktion: squire_trapp, exp oder sin",
    ),
    "point": Msg(
        "the x at which (a) takes the derivative", "die Stelle x, an der (a) die Ableitung bildet"
    ),
    "n_steps": Msg(
        "number of step sizes h between 1e-16 and 1e-1",
        "Anzahl der Schrittweiten h zwischen 1e-16 und 1e-1",
    ),
    "gd_steps": Msg(
        "gradient-descent steps on the 2-D function",
        "Schritte des Gradientenabstiegs auf der 2-D-Funktion",
    ),
}

TEXT = {
    "progress": Msg("derivatives", "Ableitungen"),
    "no_data": Msg(
        "this lab computes on formulas and takes no --data file",
        "dieses Lab rechnet mit Formeln und nimmt keine --data-Datei",
    ),
    "only_cpu": Msg(
        "this lab runs on NumPy, which uses the CPU only; use --device cpu or auto",
        "dieses Lab läuft mit NumPy, das nur die CPU nutzt; nehmen Sie --device cpu oder auto",
    ),
    "bad": Msg("invalid setting: {detail}", "ungültige Einstellung: {detail}"),
    "error_title": Msg(
        "Error of the derivative of {name} at x = {point}",
        "Fehler der Ableitung von {name} an der Stelle x = {point}",
    ),
    "error_axis": Msg("|approximation - exact|", "|Näherung - exakt|"),
    "step_axis": Msg("step size h", "Schrittweite h"),
    "field_title": Msg(
        "Contours, gradient field and gradient descent",
        "Höhenlinien, Gradientenfeld und Gradientenabstieg",
    ),
    "graph_title": Msg(
        "Chain rule on L = tanh(x y + sin x) y at x = {x}, y = {y}",
        "Kettenregel für L = tanh(x y + sin x) y bei x = {x}, y = {y}",
    ),
    "summary": Msg(
        "(a) best h: forward {h_fwd:.0e} (error {e_fwd:.1e}), central {h_cen:.0e} "
        "(error {e_cen:.1e}); complex step at most {e_cs:.1e}. Measured orders: forward "
        "{o_fwd:.2f}, central {o_cen:.2f}.\n"
        "(b) gradient descent: f from {f0:.3f} to {f1:.2e} in {steps} steps.\n"
        "(c) dL/dx = {dx:.6f}, dL/dy = {dy:.6f} (differs from torch.autograd by {err:.1e}).",
        "(a) bestes h: vorwärts {h_fwd:.0e} (Fehler {e_fwd:.1e}), zentral {h_cen:.0e} "
        "(Fehler {e_cen:.1e}); komplexer Schritt höchstens {e_cs:.1e}. Gemessene Ordnungen: "
        "vorwärts {o_fwd:.2f}, zentral {o_cen:.2f}.\n"
        "(b) Gradientenabstieg: f von {f0:.3f} auf {f1:.2e} in {steps} Schritten.\n"
        "(c) dL/dx = {dx:.6f}, dL/dy = {dy:.6f} (Abweichung von torch.autograd {err:.1e}).",
    ),
}

# ---------------------------------------------------------------- (a) error against step size


def squire_trapp(x):
    """The classic complex-step test function (Squire and Trapp, 1998)."""
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


def squire_trapp_derivative(x: float) -> float:
    s = math.sin(x) ** 3 + math.cos(x) ** 3
    ds = 3 * math.sin(x) ** 2 * math.cos(x) - 3 * math.cos(x) ** 2 * math.sin(x)
    return squire_trapp(x) * (1 - ds / (2 * s))


FUNCTIONS = {  # name -> (f, exact f'); f must accept complex numbers for the complex step
    "squire_trapp": (squire_trapp, squire_trapp_derivative),
    "exp": (np.exp, math.exp),
    "sin": (np.sin, math.cos),
}
METHODS = {
    "forward": calculus.forward_difference,
    "central": calculus.central_difference,
    "complex step": calculus.complex_step,
}
FLOOR = 1e-18  # an error of exactly 0 is drawn here, since a log axis has no 0
FORWARD_FIT, CENTRAL_FIT = (1e-4, 1e-1), (1e-3, 1e-1)  # where truncation dominates round-off


def step_errors(
    cfg: Config, steps: np.ndarray, bar, log: runner.MetricsLog
) -> dict[str, np.ndarray]:
    f, df = FUNCTIONS[cfg.function]
    exact = df(cfg.point)
    errors: dict[str, list[float]] = {name: [] for name in METHODS}
    for h in steps:
        record = {"part": "steps", "h": float(h)}
        for name, method in METHODS.items():
            error = abs(method(f, cfg.point, float(h)) - exact)
            errors[name].append(error)
            record[name.replace(" ", "_")] = error
        log.log(**record)
        bar.update(info=f"h {h:.0e}")
    return {name: np.array(values) for name, values in errors.items()}


def measured_order(steps: np.ndarray, errors: np.ndarray, window: tuple[float, float]) -> float:
    inside = (steps >= window[0]) & (steps <= window[1])
    return calculus.error_order(steps[inside], errors[inside])


def save_error_plot(path: Path, cfg: Config, steps: np.ndarray, errors: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for name, values in errors.items():
        ax.loglog(steps, np.maximum(values, FLOOR), marker="o", markersize=3, label=name)
    eps = np.finfo(float).eps
    for h, name in ((math.sqrt(eps), "sqrt(eps)"), (eps ** (1 / 3), "eps^(1/3)")):
        ax.axvline(h, color="grey", linestyle=":", linewidth=1)
        ax.text(h, 1e-17, name, rotation=90, va="bottom", ha="right", fontsize=8)
    title = TEXT["error_title"].get(name=cfg.function, point=cfg.point)
    ax.set(title=title, xlabel=TEXT["step_axis"].get(), ylabel=TEXT["error_axis"].get())
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- (b) gradient field and descent

START = np.array([-1.5, 1.8])


def valley(p: np.ndarray) -> float:
    """A bent valley with its minimum 0 at (1, 0.5): f = (x - 1)^2 + 4 (y - x^2 / 2)^2."""
    x, y = p
    return float((x - 1) ** 2 + 4 * (y - x**2 / 2) ** 2)


def valley_gradient(p: np.ndarray) -> np.ndarray:
    x, y = p
    return np.array([2 * (x - 1) - 8 * x * (y - x**2 / 2), 8 * (y - x**2 / 2)])


def descend(cfg: Config, bar, log: runner.MetricsLog) -> tuple[np.ndarray, float]:
    """Gradient descent on the numerical gradient; returns the path and the worst gradient error."""
    path, worst = [START.copy()], 0.0
    point = START.copy()
    for step in range(cfg.gd_steps):
        grad = calculus.gradient(valley, point)
        worst = max(worst, float(np.abs(grad - valley_gradient(point)).max()))
        point = point - cfg.lr * grad
        path.append(point.copy())
        log.log(
            part="descent", step=step + 1, f=valley(point), grad_norm=float(np.linalg.norm(grad))
        )
        bar.update(info=f"f {valley(point):.2e}")
    return np.array(path), worst


def save_field_plot(path: Path, trajectory: np.ndarray) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs, ys = np.linspace(-2, 2, 200), np.linspace(-1, 2.5, 200)
    grid_x, grid_y = np.meshgrid(xs, ys)
    values = (grid_x - 1) ** 2 + 4 * (grid_y - grid_x**2 / 2) ** 2
    fig, ax = plt.subplots(figsize=(6.5, 5.5), dpi=110)
    ax.contour(grid_x, grid_y, values, levels=np.logspace(-2, 1.5, 14), cmap="viridis")
    # Arrows point uphill (the gradient); they are scaled to one length so small ones show too.
    ax_x, ax_y = np.meshgrid(np.linspace(-2, 2, 17), np.linspace(-1, 2.5, 15))
    arrows = np.array([valley_gradient(p) for p in np.c_[ax_x.ravel(), ax_y.ravel()]])
    arrows /= np.linalg.norm(arrows, axis=1, keepdims=True) + 1e-12
    ax.quiver(ax_x, ax_y, arrows[:, 0], arrows[:, 1], color="grey", alpha=0.6, width=0.003)
    ax.plot(trajectory[:, 0], trajectory[:, 1], "r.-", markersize=3, label="gradient descent")
    ax.plot(*trajectory[0], "ko", label="start")
    ax.plot(1.0, 0.5, "r*", markersize=12, label="minimum")
    ax.set(title=TEXT["field_title"].get(), xlabel="x", ylabel="y")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- (c) the chain rule on a graph

GRAPH_X, GRAPH_Y = 0.8, -1.3


def chain_rule_table(x: float, y: float) -> tuple[list[dict[str, str | float]], dict[str, float]]:
    """Forward: values and local derivatives. Backward: adjoints dL/dnode by the chain rule."""
    u = x * y
    v = math.sin(x)
    w = u + v
    t = math.tanh(w)
    loss = t * y
    # Each node: name, formula, value, {parent: d node / d parent}, in forward order.
    nodes = [
        ("x", "input", x, {}),
        ("y", "input", y, {}),
        ("u", "x * y", u, {"x": y, "y": x}),
        ("v", "sin(x)", v, {"x": math.cos(x)}),
        ("w", "u + v", w, {"u": 1.0, "v": 1.0}),
        ("t", "tanh(w)", t, {"w": 1 - t**2}),
        ("L", "t * y", loss, {"t": y, "y": t}),
    ]
    adjoint = {name: 0.0 for name, *_ in nodes}
    adjoint["L"] = 1.0
    for name, _, _, local in reversed(nodes):  # every use of a node adds to its adjoint
        for parent, d_local in local.items():
            adjoint[parent] += adjoint[name] * d_local
    rows = [
        {"node": name, "formula": formula, "value": value,
         "local": ", ".join(f"d{name}/d{p} = {d:.4f}" for p, d in local.items()) or "-",
         "adjoint": adjoint[name]}
        for name, formula, value, local in nodes
    ]  # fmt: skip
    return rows, adjoint


def graph_loss(x, y, lib=calculus):
    return lib.tanh(x * y + lib.sin(x)) * y


def check_with_other_modes(x: float, y: float, adjoint: dict[str, float]) -> float:
    """Largest difference of the hand-made adjoints from dual numbers and from torch.autograd."""
    import torch

    _, dual_dx = calculus.derivative(lambda a: graph_loss(a, y), x)
    _, dual_dy = calculus.derivative(lambda b: graph_loss(x, b), y)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    graph_loss(tx, ty, torch).backward()
    gaps = [
        adjoint["x"] - dual_dx,
        adjoint["y"] - dual_dy,
        adjoint["x"] - tx.grad.item(),
        adjoint["y"] - ty.grad.item(),
    ]
    return float(max(abs(g) for g in gaps))


def format_table(rows: list[dict[str, str | float]]) -> str:
    lines = [f"{'node':<5} {'formula':<9} {'value':>9}  {'dL/dnode':>9}  local derivatives"]
    for row in rows:
        lines.append(
            f"{row['node']:<5} {row['formula']:<9} {row['value']:>9.4f}  "
            f"{row['adjoint']:>9.4f}  {row['local']}"
        )
    return "\n".join(lines)


def save_table_plot(path: Path, rows: list[dict[str, str | float]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=110)
    ax.axis("off")
    cells = [
        [r["node"], r["formula"], f"{r['value']:.4f}", r["local"], f"{r['adjoint']:.4f}"]
        for r in rows
    ]
    table = ax.table(
        cellText=cells,
        colLabels=["node", "formula", "value", "local derivatives", "dL/dnode"],
        loc="center",
        colWidths=[0.08, 0.14, 0.12, 0.46, 0.14],
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.4)
    ax.set_title(TEXT["graph_title"].get(x=GRAPH_X, y=GRAPH_Y))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- the lab


def validate(cfg: Config) -> None:
    if cfg.data is not None:
        raise runner.LabError(TEXT["no_data"].get())
    if cfg.device not in ("auto", "cpu"):
        raise runner.LabError(TEXT["only_cpu"].get())
    problems = []
    if cfg.function not in FUNCTIONS:
        problems.append(f"function must be one of {', '.join(FUNCTIONS)}")
    elif cfg.function == "squire_trapp" and not -0.7 < cfg.point < 2.3:
        problems.append("squire_trapp needs point in (-0.7, 2.3), where sin^3 + cos^3 > 0")
    if cfg.n_steps < 10:
        problems.append("n_steps must be >= 10 (to fit the slopes)")
    if cfg.gd_steps < 1:
        problems.append("gd_steps must be >= 1")
    if not 0 < cfg.lr < 0.12:  # above ~0.12 the steep side of the valley makes descent diverge
        problems.append("lr must lie in (0, 0.12)")
    if problems:
        raise runner.LabError(TEXT["bad"].get(detail="; ".join(problems)))


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, "calculus")
    log = runner.MetricsLog(out / "metrics.jsonl")

    steps = np.logspace(-16, -1, cfg.n_steps)
    total = cfg.n_steps + cfg.gd_steps + 1
    with runner.progress(total, TEXT["progress"].get(), quiet=cfg.quiet) as bar:
        errors = step_errors(cfg, steps, bar, log)
        trajectory, gradient_error = descend(cfg, bar, log)
        rows, adjoint = chain_rule_table(GRAPH_X, GRAPH_Y)
        chain_error = check_with_other_modes(GRAPH_X, GRAPH_Y, adjoint)
        log.log(part="chain_rule", dL_dx=adjoint["x"], dL_dy=adjoint["y"], error=chain_error)
        bar.update(info="chain rule")
    log.close()

    small = steps <= 1e-8  # where every finite difference has lost to round-off
    metrics: dict[str, float | int | str] = {
        "best_h_forward": float(steps[errors["forward"].argmin()]),
        "best_h_central": float(steps[errors["central"].argmin()]),
        "min_error_forward": float(errors["forward"].min()),
        "min_error_central": float(errors["central"].min()),
        "max_error_complex_small_h": float(errors["complex step"][small].max()),
        "order_forward": measured_order(steps, errors["forward"], FORWARD_FIT),
        "order_central": measured_order(steps, errors["central"], CENTRAL_FIT),
        "gd_start": valley(trajectory[0]),
        "gd_final": valley(trajectory[-1]),
        "gradient_error": gradient_error,
        "dL_dx": adjoint["x"],
        "dL_dy": adjoint["y"],
        "chain_rule_error": chain_error,
    }
    table = format_table(rows)
    artifacts = {
        "errors": save_error_plot(out / "derivative_errors.png", cfg, steps, errors),
        "gradient_field": save_field_plot(out / "gradient_field.png", trajectory),
        "chain_rule": save_table_plot(out / "chain_rule.png", rows),
        "metrics": out / "metrics.jsonl",
    }
    (out / "chain_rule.txt").write_text(table + "\n", encoding="utf-8")
    summary = TEXT["summary"].get(
        h_fwd=metrics["best_h_forward"], e_fwd=metrics["min_error_forward"],
        h_cen=metrics["best_h_central"], e_cen=metrics["min_error_central"],
        e_cs=metrics["max_error_complex_small_h"], o_fwd=metrics["order_forward"],
        o_cen=metrics["order_central"], f0=metrics["gd_start"], f1=metrics["gd_final"],
        steps=cfg.gd_steps, dx=adjoint["x"], dy=adjoint["y"], err=chain_error,
    )  # fmt: skip
    return runner.LabReport(
        lab="calculus",
        out_dir=out,
        metrics=metrics,
        artifacts=artifacts,
        text=summary + "\n\n" + table,
        seconds=timer.seconds,
    )
