"""Lab: six optimizers race on the same network and on the same non-convex surface.

Part 1: one small MLP (torch) reads scikit-learn's bundled digits (8x8 pixels, ten classes).
Every optimizer starts from the very same initial weights and sees the very same mini-batches,
so any difference in the loss curves comes from the update rule alone. Each one uses the
learning rate it is usually run with (plain SGD needs a much larger one than Adam).

Part 2: the Rosenbrock function f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, a curved narrow valley
with its minimum at (1, 1). Starting from the same point, each optimizer's path is drawn on
the contour plot: plain SGD crawls along the valley floor, momentum overshoots and swings,
Adam takes steps of about the same length whatever the gradient.

All optimizers are groundup's own (`groundup.train.optimizers`), which equal torch.optim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.files import atomic_write_text
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.train import optimizers as optim

LAB = "optimizers"
NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")

# The usual learning rate of each optimizer: for the MLP on digits, and for Rosenbrock.
# SGD's step is eta * g; momentum's settles at eta * g / (1 - mu), ten times more for mu = 0.9;
# RMSprop and Adam take steps of about eta per coordinate whatever the size of g.
DIGITS_LR = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "rmsprop": 1e-3, "adam": 1e-3,
             "adamw": 1e-3}  # fmt: skip
SURFACE_LR = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "rmsprop": 1e-2, "adam": 0.05,
              "adamw": 0.05}  # fmt: skip
START = (-1.5, 2.0)  # on the far side of the valley; the minimum is at (1, 1)


@dataclass
class Config(runner.LabConfig):
    optimizers: str = ",".join(NAMES)  # which ones race, comma-separated
    hidden: int = 64
    epochs: int = 20
    batch_size: int = 32
    lr_scale: float = 1.0  # multiplies every optimizer's usual learning rate
    momentum: float = 0.9
    weight_decay: float = 0.01  # AdamW only
    test_fraction: float = 0.2
    surface_steps: int = 1500


PRESETS: dict[str, dict] = {
    "micro": {"hidden": 32, "epochs": 4, "surface_steps": 300},
    "tiny": {},
    "full": {"hidden": 128, "epochs": 60, "weight_decay": 0.05, "surface_steps": 5000},
}

FIELD_HELP = {
    "optimizers": Msg(
        "comma-separated optimizers to compare: " + ", ".join(NAMES),
        "kommagetrennte Liste der zu vergleichenden Optimierer: " + ", ".join(NAMES),
    ),
    "lr_scale": Msg(
        "factor applied to every optimizer's usual learning rate",
        "Faktor, mit dem die übliche Lernrate jedes Optimierers multipliziert wird",
    ),
    "surface_steps": Msg(
        "steps each optimizer takes on the Rosenbrock surface",
        "Schritte, die jeder Optimierer auf der Rosenbrock-Fläche macht",
    ),
}

TEXT = {
    "training": Msg("digits: {name}", "Ziffern: {name}"),
    "surface": Msg("Rosenbrock surface", "Rosenbrock-Fläche"),
    "no_data": Msg(
        "this lab uses the bundled digits and takes no --data file",
        "dieses Lab verwendet die mitgelieferten Ziffern und nimmt keine --data-Datei",
    ),
    "unknown": Msg(
        "unknown optimizer '{name}'; choose from {names}",
        "unbekannter Optimierer '{name}'; zur Wahl stehen {names}",
    ),
    "bad_value": Msg(
        "{field} must be {rule}, got {value}", "{field} muss {rule} sein, ist {value}"
    ),
    "loss_title": Msg(
        "Training loss on digits, same start, same batches",
        "Trainingsverlust auf Ziffern, gleicher Start, gleiche Batches",
    ),
    "path_title": Msg(
        "Rosenbrock: {steps} steps from {start}", "Rosenbrock: {steps} Schritte ab {start}"
    ),
    "header": Msg(
        "optimizer   lr       test acc  train loss  Rosenbrock f after {steps} steps",
        "Optimierer  lr       Test-Gen.  Train-Verl. Rosenbrock f nach {steps} Schritten",
    ),
}


def make_optimizer(name: str, params: Iterable[Tensor], lr: float, cfg: Config) -> optim.Optimizer:
    if name == "sgd":
        return optim.SGD(params, lr)
    if name == "momentum":
        return optim.SGD(params, lr, momentum=cfg.momentum)
    if name == "nesterov":
        return optim.SGD(params, lr, momentum=cfg.momentum, nesterov=True)
    if name == "rmsprop":
        return optim.RMSprop(params, lr)
    if name == "adam":
        return optim.Adam(params, lr)
    if name == "adamw":
        return optim.AdamW(params, lr, weight_decay=cfg.weight_decay)
    raise runner.LabError(TEXT["unknown"].get(name=name, names=", ".join(NAMES)))


def chosen(cfg: Config) -> list[str]:
    names = [n.strip() for n in cfg.optimizers.split(",") if n.strip()]
    for name in names:
        if name not in NAMES:
            raise runner.LabError(TEXT["unknown"].get(name=name, names=", ".join(NAMES)))
    if not names:
        raise runner.LabError(TEXT["unknown"].get(name=cfg.optimizers, names=", ".join(NAMES)))
    return names


def validate(cfg: Config) -> list[str]:
    if cfg.data is not None:
        raise runner.LabError(TEXT["no_data"].get())
    rules: list[tuple[str, bool, str]] = [
        ("hidden", cfg.hidden >= 1, ">= 1"),
        ("epochs", cfg.epochs >= 1, ">= 1"),
        ("batch_size", cfg.batch_size >= 1, ">= 1"),
        ("lr_scale", cfg.lr_scale > 0, "> 0"),
        ("momentum", 0 < cfg.momentum < 1, "in (0, 1)"),
        ("weight_decay", cfg.weight_decay >= 0, ">= 0"),
        ("test_fraction", 0 < cfg.test_fraction < 1, "in (0, 1)"),
        ("surface_steps", cfg.surface_steps >= 1, ">= 1"),
    ]
    for field, ok, rule in rules:
        if not ok:
            raise runner.LabError(
                TEXT["bad_value"].get(field=field, rule=rule, value=getattr(cfg, field))
            )
    return chosen(cfg)


# ---------------------------------------------------------------- part 1: digits


def load_digits_split(cfg: Config) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)  # pixels are 0..16
    y = torch.tensor(digits.target, dtype=torch.long)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=cfg.test_fraction, random_state=cfg.seed, stratify=y
    )
    return x_train, y_train, x_test, y_test


def make_mlp(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def train_digits(
    name: str, cfg: Config, init: dict[str, Tensor], data: tuple[Tensor, ...], device: str
) -> dict[str, list[float]]:
    """Train a fresh copy of the MLP from `init`; per-epoch train loss and test accuracy."""
    x_train, y_train, x_test, y_test = (t.to(device) for t in data)
    model = make_mlp(cfg.hidden).to(device)
    model.load_state_dict(init)
    optimizer = make_optimizer(name, model.parameters(), DIGITS_LR[name] * cfg.lr_scale, cfg)
    batches = torch.Generator().manual_seed(cfg.seed)  # the same order for every optimizer
    history: dict[str, list[float]] = {"step_loss": [], "train_loss": [], "test_accuracy": []}
    n_batches = -(-len(x_train) // cfg.batch_size)
    with runner.progress(cfg.epochs * n_batches, TEXT["training"].get(name=name),
                         quiet=cfg.quiet) as bar:  # fmt: skip
        for _ in range(cfg.epochs):
            order = torch.randperm(len(x_train), generator=batches).to(device)
            total = 0.0
            for start in range(0, len(x_train), cfg.batch_size):
                index = order[start : start + cfg.batch_size]
                loss = F.cross_entropy(model(x_train[index]), y_train[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                history["step_loss"].append(loss.item())
                total += loss.item() * len(index)
                bar.update(info=f"loss {loss.item():.3f}")
            history["train_loss"].append(total / len(x_train))
            with torch.no_grad():
                accuracy = (model(x_test).argmax(-1) == y_test).float().mean().item()
            history["test_accuracy"].append(accuracy)
    return history


# ---------------------------------------------------------------- part 2: Rosenbrock


def rosenbrock(xy: Tensor) -> Tensor:
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def surface_path(
    name: str, cfg: Config, f: Callable[[Tensor], Tensor] = rosenbrock
) -> list[tuple[float, float]]:
    """The points visited by `name` on f, starting at START."""
    xy = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer(name, [xy], SURFACE_LR[name] * cfg.lr_scale, cfg)
    path = [START]
    for _ in range(cfg.surface_steps):
        optimizer.zero_grad()
        f(xy).backward()
        optimizer.step()
        path.append((xy[0].item(), xy[1].item()))
    return path


# ---------------------------------------------------------------- the experiment


def run(cfg: Config) -> runner.LabReport:
    names = validate(cfg)
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        return experiment(cfg, names)


def experiment(cfg: Config, names: list[str]) -> runner.LabReport:
    timer = runner.Timer()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, LAB)
    log = runner.MetricsLog(out / "metrics.jsonl")

    data = load_digits_split(cfg)
    init = {k: v.clone() for k, v in make_mlp(cfg.hidden).state_dict().items()}  # shared start
    histories, paths = {}, {}
    for name in names:
        histories[name] = train_digits(name, cfg, init, data, device)
        for epoch, (loss, acc) in enumerate(
            zip(histories[name]["train_loss"], histories[name]["test_accuracy"], strict=True), 1
        ):
            log.log(optimizer=name, epoch=epoch, train_loss=loss, test_accuracy=acc)
    with runner.progress(len(names), TEXT["surface"].get(), quiet=cfg.quiet) as bar:
        for name in names:
            paths[name] = surface_path(name, cfg)
            final = rosenbrock(torch.tensor(paths[name][-1], dtype=torch.float64)).item()
            log.log(optimizer=name, surface_steps=cfg.surface_steps, rosenbrock_final=final)
            bar.update(info=f"{name}: f = {final:.3g}")
    log.close()

    metrics: dict[str, float | int | str] = {}
    rows = [TEXT["header"].get(steps=cfg.surface_steps)]
    for name in names:
        accuracy = histories[name]["test_accuracy"][-1]
        loss = histories[name]["train_loss"][-1]
        final = rosenbrock(torch.tensor(paths[name][-1], dtype=torch.float64)).item()
        metrics[f"test_accuracy_{name}"] = accuracy
        metrics[f"train_loss_{name}"] = loss
        metrics[f"rosenbrock_{name}"] = final
        lr = DIGITS_LR[name] * cfg.lr_scale
        rows.append(f"{name:<11} {lr:<8.3g} {accuracy:<9.3f} {loss:<11.4f} {final:.3g}")
    metrics["first_loss"] = histories[names[0]]["step_loss"][0]
    metrics["rosenbrock_start"] = rosenbrock(torch.tensor(START, dtype=torch.float64)).item()
    table = "\n".join(rows)
    atomic_write_text(out / "results.txt", table + "\n")

    loss_png = save_loss_curves(out / "loss_curves.png", histories, cfg)
    path_png = save_surface_paths(out / "rosenbrock.png", paths, cfg)
    return runner.LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts={
            "loss_curves": loss_png,
            "rosenbrock": path_png,
            "results": out / "results.txt",
            "metrics": out / "metrics.jsonl",
        },
        text=table,
        seconds=timer.seconds,
    )


# ---------------------------------------------------------------- plots


def smooth(values: list[float], width: int) -> list[float]:
    """Running mean over the last `width` values: mini-batch losses are noisy."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - width] if i >= width else 0.0)
        out.append(total / min(i + 1, width))
    return out


def save_loss_curves(path: Path, histories: dict[str, dict[str, list[float]]], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for name, history in histories.items():
        steps = history["step_loss"]
        left.plot(range(1, len(steps) + 1), smooth(steps, 20), label=name, linewidth=1.2)
        epochs = range(1, len(history["test_accuracy"]) + 1)
        right.plot(epochs, history["test_accuracy"], label=name, marker="o", markersize=3)
    left.set(title=TEXT["loss_title"].get(), xlabel="step", ylabel="cross-entropy", yscale="log")
    right.set(title="test accuracy", xlabel="epoch", ylabel="accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_surface_paths(path: Path, paths: dict[str, list[tuple[float, float]]], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    xs, ys = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
    zs = (1 - xs) ** 2 + 100 * (ys - xs**2) ** 2
    columns = min(3, len(paths))
    rows = -(-len(paths) // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 4 * rows), dpi=110, squeeze=False
    )
    for ax in axes.flat[len(paths) :]:
        ax.axis("off")
    for ax, (name, points) in zip(axes.flat, paths.items(), strict=False):
        ax.contour(xs, ys, zs, levels=np.logspace(-1, 3.5, 15), cmap="Greys", linewidths=0.6)
        p = np.clip(np.array(points), -5, 5)  # a diverging run stays on the canvas
        ax.plot(p[:, 0], p[:, 1], color="tab:blue", linewidth=1.0, marker=".", markersize=2)
        ax.plot(*START, "ko")
        ax.plot(1, 1, "r*", markersize=12)
        final = rosenbrock(torch.tensor(points[-1], dtype=torch.float64)).item()
        ax.set(xlim=(-2, 2), ylim=(-1, 3), title=f"{name}: f = {final:.2g}")
    fig.suptitle(TEXT["path_title"].get(steps=cfg.surface_steps, start=START))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
