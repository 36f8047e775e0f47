"""Lab: the same digits MLP trained by the NumPy engine and by PyTorch, then a custom dataset.

Part 1. One MLP is initialised once; PyTorch gets a copy of its weights. Both train with SGD
and momentum on the same mini-batches in the same order (`batch_indices` draws one
permutation per epoch from a seeded torch.Generator). In float64 their loss curves coincide
to rounding: the engine from the autograd step and torch.nn/autograd compute the same
function and the same gradients. The lab also times an epoch of each.

Part 2. `SlidingWindowDataset` cuts a noisy sine series into (window, next value) examples on
the fly; a small torch MLP learns to predict the next value through `train_epoch`, and is
tested on the last part of the series, which it never saw.

Data: scikit-learn's bundled digits (no download) and a generated sine series.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from groundup.autograd.engine import Tensor, cross_entropy
from groundup.autograd.nn import MLP, SGD
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.autograd import load_data, split
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.train.loop import (
    ArrayDataset,
    SlidingWindowDataset,
    accuracy,
    batch_indices,
    batches,
    evaluate,
    train_epoch,
)

LAB = "pytorch_basics"


@dataclass
class Config(LabConfig):
    hidden: int = 64  # width of the digits MLP's hidden layer
    epochs: int = 15
    batch_size: int = 32
    lr: float = 0.05
    momentum: float = 0.9
    test_fraction: float = 0.2
    series_length: int = 600  # points of the generated sine series
    window: int = 20  # past values the regression sees
    noise: float = 0.05  # standard deviation of the noise added to the sine
    series_epochs: int = 40  # epochs of the sine regression


PRESETS: dict[str, dict] = {
    "micro": {"hidden": 32, "epochs": 3, "series_length": 300, "series_epochs": 15},
    "tiny": {},
    "full": {"hidden": 128, "epochs": 40, "series_length": 2000, "series_epochs": 80},
}

FIELD_HELP: dict[str, Msg] = {
    "series_length": Msg(
        "number of points in the generated sine series",
        "Anzahl der Punkte der erzeugten Sinusreihe",
    ),
    "window": Msg(
        "past values the regression sees to predict the next one",
        "vergangene Werte, aus denen die Regression den nächsten vorhersagt",
    ),
    "noise": Msg(
        "standard deviation of the noise on the sine",
        "Standardabweichung des Rauschens auf dem Sinus",
    ),
    "series_epochs": Msg(
        "passes over the sine windows", "Durchläufe durch die Fenster der Sinusreihe"
    ),
}

TRAINING = Msg("NumPy engine vs PyTorch on digits", "NumPy-Engine gegen PyTorch auf Ziffern")
SERIES = Msg("Next value of a sine series", "Nächster Wert einer Sinusreihe")
ONLY_CPU = Msg(
    "This lab compares PyTorch with the NumPy engine on the CPU; use --device cpu or auto.",
    "Dieses Lab vergleicht PyTorch mit der NumPy-Engine auf der CPU; nehmen Sie --device cpu "
    "oder auto.",
)


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if min(cfg.hidden, cfg.epochs, cfg.batch_size, cfg.series_epochs) < 1:
        problems.append("hidden, epochs, batch_size and series_epochs must be >= 1")
    if cfg.lr <= 0 or not 0 <= cfg.momentum < 1:
        problems.append("lr must be > 0 and momentum in [0, 1)")
    if not 0.0 < cfg.test_fraction < 1.0:
        problems.append("test_fraction must lie strictly between 0 and 1")
    if cfg.window < 1 or cfg.series_length < 4 * (cfg.window + 1):
        problems.append("window must be >= 1 and series_length >= 4 * (window + 1)")
    if cfg.noise < 0:
        problems.append("noise must be >= 0")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


def torch_copy(engine_mlp: MLP) -> torch.nn.Sequential:
    """The engine's MLP as torch.nn layers with the same weights (engine (in, out), torch (out, in))."""
    layers: list[torch.nn.Module] = []
    for layer in engine_mlp.layers:
        linear = torch.nn.Linear(*layer.weight.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weight.data.T))
            linear.bias.copy_(torch.from_numpy(layer.bias.data))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])  # no ReLU after the logits


def compare_on_digits(cfg: Config, bar) -> dict[str, list[float]]:
    """Per-epoch mean training loss and seconds of both implementations, and torch's test accuracy."""
    x, y = load_data(cfg)
    x_train, x_test, y_train, y_test = split(x, y, cfg.test_fraction, cfg.seed)
    engine_mlp = MLP([x.shape[1], cfg.hidden, 10], np.random.default_rng(cfg.seed))
    torch_mlp = torch_copy(engine_mlp)  # copied before any step: the same start
    engine_opt = SGD(engine_mlp.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    torch_opt = torch.optim.SGD(torch_mlp.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    train_set = ArrayDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    test_set = ArrayDataset(torch.from_numpy(x_test), torch.from_numpy(y_test))
    history: dict[str, list[float]] = {
        k: [] for k in ("numpy_loss", "torch_loss", "numpy_seconds", "torch_seconds", "accuracy")
    }
    for epoch in range(cfg.epochs):
        # (a) the NumPy engine, on this epoch's permutation
        start = time.perf_counter()
        total = 0.0
        order = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        for indices in batch_indices(len(x_train), cfg.batch_size, True, generator=order):
            loss = cross_entropy(engine_mlp(Tensor(x_train[indices])), y_train[indices])
            engine_opt.zero_grad()
            loss.backward()
            engine_opt.step()
            total += loss.item() * len(indices)
        history["numpy_loss"].append(total / len(x_train))
        history["numpy_seconds"].append(time.perf_counter() - start)

        # (b) PyTorch through the loop, on the same permutation (a generator with the same seed)
        start = time.perf_counter()
        order = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        train_batches = batches(train_set, cfg.batch_size, shuffle=True, generator=order)
        loss_fn = torch.nn.functional.cross_entropy
        history["torch_loss"].append(train_epoch(torch_mlp, train_batches, loss_fn, torch_opt))
        history["torch_seconds"].append(time.perf_counter() - start)
        history["accuracy"].append(evaluate(torch_mlp, batches(test_set, 256), accuracy))
        bar.update(
            info=f"epoch {epoch + 1} | numpy {history['numpy_loss'][-1]:.4f} "
            f"| torch {history['torch_loss'][-1]:.4f}"
        )
    return history


def sine_series(cfg: Config) -> torch.Tensor:
    """A sine with a period of 50 steps plus Gaussian noise, float32."""
    g = torch.Generator().manual_seed(cfg.seed)
    t = torch.arange(cfg.series_length, dtype=torch.float32)
    return torch.sin(2 * torch.pi * t / 50) + cfg.noise * torch.randn(
        cfg.series_length, generator=g
    )


def fit_series(cfg: Config, bar) -> dict[str, object]:
    """Train on windows of the first 75 % of the series, test on the rest."""
    series = sine_series(cfg)
    cut = int(0.75 * len(series))
    # The test windows start window values before the cut, so every test target lies after it.
    train_set = SlidingWindowDataset(series[:cut], cfg.window)
    test_set = SlidingWindowDataset(series[cut - cfg.window :], cfg.window)
    torch.manual_seed(cfg.seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(cfg.window, 32),
        torch.nn.Tanh(),
        torch.nn.Linear(32, 1),
        torch.nn.Flatten(0),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    mse = torch.nn.functional.mse_loss
    g = torch.Generator().manual_seed(cfg.seed)
    losses = []
    for epoch in range(cfg.series_epochs):
        losses.append(train_epoch(model, batches(train_set, 32, True, generator=g), mse, optimizer))
        bar.update(info=f"epoch {epoch + 1} | mse {losses[-1]:.4f}")
    test_mse = evaluate(model, batches(test_set, 256), mse)
    # Baseline: predict that the next value equals the last one seen.
    x_test, y_test = next(batches(test_set, len(test_set)))
    last_value_mse = float(mse(x_test[:, -1], y_test))
    with torch.no_grad():
        predictions = model(x_test)
    return {
        "losses": losses,
        "test_mse": test_mse,
        "last_value_mse": last_value_mse,
        "series": series,
        "predictions": predictions,
        "cut": cut,
    }


def plot_predictions(path, fit: dict, noise: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series, cut = fit["series"].numpy(), fit["cut"]
    fig, ax = plt.subplots(figsize=(8, 3.8), dpi=110)
    ax.plot(np.arange(len(series)), series, color="0.6", lw=1, label=f"series (noise {noise:g})")
    ax.plot(
        np.arange(cut, len(series)), fit["predictions"].numpy(), color="C3", lw=1.5,
        label=f"one-step prediction (test MSE {fit['test_mse']:.4f})",
    )  # fmt: skip
    ax.axvline(cut, color="k", ls="--", lw=1)
    ax.text(cut, ax.get_ylim()[1], " test", va="top")
    ax.set_title("Sliding windows: predicting the next value")
    ax.set_xlabel("t")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.out_dir(cfg, LAB)
    runner.save_config(cfg, out)
    runner.seed_everything(cfg.seed)

    with runner.progress(cfg.epochs, TRAINING.get(), cfg.quiet) as bar:
        history = compare_on_digits(cfg, bar)
    with runner.progress(cfg.series_epochs, SERIES.get(), cfg.quiet) as bar:
        fit = fit_series(cfg, bar)

    log = runner.MetricsLog(out / "metrics.jsonl")
    for epoch in range(cfg.epochs):
        log.log(epoch=epoch + 1, **{name: values[epoch] for name, values in history.items()})
    log.close()

    epochs = list(range(1, cfg.epochs + 1))
    loss_plot = runner.save_line_plot(
        out / "loss_overlay.png",
        {"NumPy engine": (epochs, history["numpy_loss"]),
         "PyTorch (train_epoch)": (epochs, history["torch_loss"])},
        title="Same MLP, same init, same batches: training loss",
        xlabel="epoch",
        ylabel="mean training loss",
        logy=True,
    )  # fmt: skip
    prediction_plot = out / "sine_prediction.png"
    plot_predictions(prediction_plot, fit, cfg.noise)

    gap = np.abs(np.array(history["numpy_loss"]) - np.array(history["torch_loss"]))
    # The first epoch includes one-time costs (imports, allocation); the median is typical.
    numpy_epoch, torch_epoch = (
        float(np.median(history[k])) for k in ("numpy_seconds", "torch_seconds")
    )
    metrics: dict[str, float | int | str] = {
        "numpy_final_loss": history["numpy_loss"][-1],
        "torch_final_loss": history["torch_loss"][-1],
        "max_loss_gap": float(gap.max()),
        "test_accuracy": history["accuracy"][-1],
        "numpy_seconds_per_epoch": round(numpy_epoch, 4),
        "torch_seconds_per_epoch": round(torch_epoch, 4),
        "series_first_mse": fit["losses"][0],
        "series_final_mse": fit["losses"][-1],
        "series_test_mse": fit["test_mse"],
        "last_value_test_mse": fit["last_value_mse"],
        "seconds": round(timer.seconds, 2),
    }
    return LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts={
            "metrics": out / "metrics.jsonl",
            "loss_overlay": loss_plot,
            "sine_prediction": prediction_plot,
            "config": out / "config.json",
        },
        seconds=timer.seconds,
    )
