"""Lab: a multilayer perceptron from groundup's own layers reads handwritten digits.

Data: scikit-learn's bundled digits (1797 grey images of 8x8 pixels, ten classes; no
download), a stratified split into training and held-out test set. Each image is flattened
to 64 numbers in [0, 1]. The network is groundup.nn.mlp.MLP: 64 -> hidden -> ... -> 10,
trained with AdamW and a cosine learning-rate decay on the cross-entropy.

Before training, the lab shows why initialisation matters: the same deep stack of layers
(probe_depth layers of probe_width units, ReLU) is initialised five ways and a batch of
standard-normal inputs is pushed through it; the mean and standard deviation of the
activations after every layer are plotted. Too small weights make the signal vanish, too
large ones make it explode, Xavier's gain 1 (made for tanh) halves the variance at every
ReLU; Kaiming's Var(W) = 2 / fan_in keeps it at the same scale.

Artefacts: metrics.jsonl, curves.png (training loss and test accuracy per epoch),
init_statistics.png (activation mean/std per layer, per initialisation), misclassified.png
(the test digits the network gets wrong, with true and predicted label).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.nn.mlp import ACTIVATIONS, INITS, MLP, init_linear_

LAB = "mlp"


@dataclass
class Config(runner.LabConfig):
    hidden: int = 256
    layers: int = 2  # hidden layers
    activation: str = "relu"
    init: str = "kaiming_normal"
    dropout: float = 0.1
    epochs: int = 40
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    test_fraction: float = 0.25
    probe_depth: int = 10  # layers of the stack used for the initialisation plot
    probe_width: int = 256


PRESETS: dict[str, dict] = {
    "micro": {"hidden": 64, "layers": 1, "epochs": 4, "lr": 5e-3, "probe_width": 64},
    "tiny": {},
    "full": {"hidden": 512, "layers": 3, "epochs": 100, "dropout": 0.2, "lr": 1e-3},
}

FIELD_HELP: dict[str, Msg] = {
    "init": Msg(
        "weight initialisation: " + ", ".join(INITS),
        "Gewichtsinitialisierung: " + ", ".join(INITS),
    ),
    "probe_depth": Msg(
        "layers of the deep stack whose activations at initialisation are plotted",
        "Schichten des tiefen Stapels, dessen Aktivierungen bei der Initialisierung gezeigt werden",
    ),
    "probe_width": Msg("units per layer of that stack", "Einheiten pro Schicht dieses Stapels"),
}

TEXT = {
    "training": Msg("Training the MLP", "Training des MLP"),
    "bad_setting": Msg("Invalid setting: {detail}", "Ungültige Einstellung: {detail}"),
    "bad_data": Msg(
        "{file} must be a .npz file with images X (N, H, W) or (N, D), values 0..16, "
        "and integer labels y (N,): {detail}",
        "{file} muss eine .npz-Datei mit Bildern X (N, H, W) oder (N, D), Werte 0..16, "
        "und ganzzahligen Labels y (N,) sein: {detail}",
    ),
    "loss": Msg("training loss", "Trainingsverlust"),
    "accuracy": Msg("test accuracy", "Testgenauigkeit"),
    "epoch": Msg("epoch", "Epoche"),
    "layer": Msg("layer", "Schicht"),
    "init_title": Msg(
        "Activations at initialisation, {depth} ReLU layers of {width} units",
        "Aktivierungen bei der Initialisierung, {depth} ReLU-Schichten mit {width} Einheiten",
    ),
    "wrong": Msg(
        "Misclassified test digits (true -> predicted)",
        "Falsch klassifizierte Testziffern (richtig -> vorhergesagt)",
    ),
    "none_wrong": Msg("no test digit misclassified", "keine Testziffer falsch klassifiziert"),
}

# The initialisations compared in init_statistics.png:
# name -> (init, std of a plain normal, nonlinearity whose gain the init uses).
PROBES: dict[str, tuple[str, float, str]] = {
    "N(0, 0.01^2)": ("normal", 0.01, ""),
    "N(0, 1)": ("normal", 1.0, ""),
    "torch default": ("default", 0.0, ""),
    "Xavier uniform (gain 1)": ("xavier_uniform", 0.0, "linear"),
    "Kaiming normal": ("kaiming_normal", 0.0, "relu"),
}


# ---------------------------------------------------------------- data


def load_data(cfg: Config) -> tuple[Tensor, Tensor, tuple[int, int]]:
    """Flattened images (N, D) scaled to [0, 1], labels (N,), and the image shape."""
    if cfg.data is None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        images, labels = digits.images, digits.target
    else:
        try:
            with np.load(cfg.data) as f:
                images, labels = np.asarray(f["X"], dtype=np.float64), np.asarray(f["y"])
            if images.ndim == 2:
                side = math.isqrt(images.shape[1])
                shape = (side, side) if side * side == images.shape[1] else (1, images.shape[1])
                images = images.reshape(len(images), *shape)
            if images.ndim != 3 or len(images) != len(labels):
                raise ValueError(f"X has shape {images.shape}, y has shape {labels.shape}")
        except (OSError, KeyError, ValueError) as error:
            raise runner.LabError(TEXT["bad_data"].get(file=cfg.data, detail=error)) from None
    x = torch.tensor(images, dtype=torch.float32).flatten(1) / 16.0
    return x, torch.tensor(labels, dtype=torch.long), tuple(images.shape[1:])


def split(x: Tensor, y: Tensor, test_fraction: float, seed: int) -> tuple[Tensor, ...]:
    """Stratified split: every class keeps its share in training and test set."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        np.arange(len(y)), test_size=test_fraction, random_state=seed, stratify=y.numpy()
    )
    train, test = torch.from_numpy(train), torch.from_numpy(test)
    return x[train], y[train], x[test], y[test]


# ---------------------------------------------------------------- why init matters


@torch.no_grad()
def activation_statistics(
    depth: int, width: int, seed: int, batch: int = 512
) -> dict[str, dict[str, list[float]]]:
    """Mean and std of the activations after each of `depth` ReLU layers, per initialisation.

    Every stack gets the same standard-normal input batch; only the weights differ.
    """
    x = torch.randn(batch, width, generator=torch.Generator().manual_seed(seed))
    stats: dict[str, dict[str, list[float]]] = {}
    for name, (init, std, nonlinearity) in PROBES.items():
        g = torch.Generator().manual_seed(seed + 1)
        net = MLP([width] * (depth + 1) + [10], activation="relu", generator=g)
        for layer in net.layers:
            if init == "normal":
                layer.weight.normal_(0.0, std, generator=g)
                layer.bias.zero_()
            else:
                init_linear_(layer.weight, layer.bias, init, nonlinearity, g)
        states = net.hidden_states(x)
        stats[name] = {
            "mean": [h.mean().item() for h in states],
            "std": [h.std().item() for h in states],
        }
    return stats


# ---------------------------------------------------------------- training


@torch.no_grad()
def evaluate(model: MLP, x: Tensor, y: Tensor) -> tuple[float, float, Tensor]:
    """Mean cross-entropy, accuracy and the predicted labels."""
    model.eval()
    logits = model(x)
    predicted = logits.argmax(-1)
    return F.cross_entropy(logits, y).item(), (predicted == y).float().mean().item(), predicted


def validate(cfg: Config) -> None:
    problems = [
        f"{name} must be at least 1, got {getattr(cfg, name)}"
        for name in ("hidden", "epochs", "batch_size", "probe_depth", "probe_width")
        if getattr(cfg, name) < 1
    ]
    if cfg.layers < 0:
        problems.append(f"layers cannot be negative, got {cfg.layers}")
    if cfg.activation not in ACTIVATIONS:
        problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}")
    if cfg.init not in INITS:
        problems.append(f"init must be one of {', '.join(INITS)}")
    if not 0.0 <= cfg.dropout < 1.0:
        problems.append(f"dropout must lie in [0, 1), got {cfg.dropout}")
    if not 0.05 <= cfg.test_fraction <= 0.5:
        problems.append(f"test_fraction must lie in [0.05, 0.5], got {cfg.test_fraction}")
    if cfg.lr <= 0:
        problems.append(f"lr must be positive, got {cfg.lr}")
    if problems:
        raise runner.LabError(TEXT["bad_setting"].get(detail="; ".join(problems)))


def train(
    cfg: Config, data: tuple[Tensor, ...], device: str, log: runner.MetricsLog
) -> tuple[MLP, dict[str, list[float]]]:
    x_train, y_train, x_test, y_test = (t.to(device) for t in data)
    sizes = [x_train.size(1)] + [cfg.hidden] * cfg.layers + [10]
    g = torch.Generator().manual_seed(cfg.seed)
    model = MLP(sizes, cfg.activation, cfg.dropout, cfg.init, generator=g).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = cfg.epochs * math.ceil(len(y_train) / cfg.batch_size)
    order_gen = torch.Generator().manual_seed(cfg.seed + 1)
    history: dict[str, list[float]] = {"epoch": [], "loss": [], "test_accuracy": []}
    step, accuracy = 0, float("nan")
    with runner.progress(total, TEXT["training"].get(), quiet=cfg.quiet) as bar:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            order = torch.randperm(len(y_train), generator=order_gen).to(device)
            epoch_loss = 0.0
            for start in range(0, len(y_train), cfg.batch_size):
                for group in optimizer.param_groups:  # cosine decay to zero
                    group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / total))
                batch = order[start : start + cfg.batch_size]
                loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                epoch_loss += loss.item() * len(batch)
                step += 1
                bar.update(info=f"loss {loss.item():.3f} | test acc {accuracy:.3f}")
            _, accuracy, _ = evaluate(model, x_test, y_test)
            history["epoch"].append(epoch)
            history["loss"].append(epoch_loss / len(y_train))
            history["test_accuracy"].append(accuracy)
            log.log(epoch=epoch, loss=epoch_loss / len(y_train), test_accuracy=accuracy)
    return model, history


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        return experiment(cfg)


def experiment(cfg: Config) -> runner.LabReport:
    timer = runner.Timer()
    cpu_start = time.process_time()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, LAB)
    x, y, image_shape = load_data(cfg)
    data = split(x, y, cfg.test_fraction, cfg.seed)
    _, y_train, x_test, y_test = data

    stats = activation_statistics(cfg.probe_depth, cfg.probe_width, cfg.seed)
    log = runner.MetricsLog(out / "metrics.jsonl")
    model, history = train(cfg, data, device, log)
    log.close()
    _, test_accuracy, predicted = evaluate(model, x_test.to(device), y_test.to(device))
    predicted = predicted.cpu()

    artifacts = {
        "curves": save_curves(out / "curves.png", history),
        "init_statistics": save_init_statistics(out / "init_statistics.png", cfg, stats),
        "misclassified": save_misclassified(
            out / "misclassified.png", x_test, y_test, predicted, image_shape
        ),
        "metrics": out / "metrics.jsonl",
    }
    last_std = {name: s["std"][-1] for name, s in stats.items()}
    metrics: dict[str, float | int | str] = {
        "test_accuracy": test_accuracy,
        "test_errors": int((predicted != y_test).sum()),
        "initial_loss": history["loss"][0],
        "final_loss": history["loss"][-1],
        "init_std_last_layer_kaiming": last_std["Kaiming normal"],
        "init_std_last_layer_small_normal": last_std["N(0, 0.01^2)"],
        "init_std_last_layer_unit_normal": last_std["N(0, 1)"],
        "init_std_last_layer_torch_default": last_std["torch default"],
        "init_std_last_layer_xavier_gain_1": last_std["Xavier uniform (gain 1)"],
        "train_examples": len(y_train),
        "test_examples": len(y_test),
        "parameters": sum(p.numel() for p in model.parameters()),
        "cpu_seconds": round(time.process_time() - cpu_start, 1),
    }
    return runner.LabReport(
        lab=LAB, out_dir=out, metrics=metrics, artifacts=artifacts, seconds=timer.seconds
    )


# ---------------------------------------------------------------- plots


def save_curves(path: Path, history: dict[str, list[float]]) -> Path:
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    left.plot(history["epoch"], history["loss"])
    left.set_yscale("log")
    left.set_ylabel("cross-entropy")
    left.set_title(TEXT["loss"].get())
    right.plot(history["epoch"], [100 * a for a in history["test_accuracy"]])
    right.set_ylim(max(0.0, 100 * min(history["test_accuracy"]) - 2), 100)
    right.set_ylabel("%")
    right.set_title(TEXT["accuracy"].get())
    for ax in (left, right):
        ax.set_xlabel(TEXT["epoch"].get())
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_init_statistics(path: Path, cfg: Config, stats: dict[str, dict[str, list[float]]]) -> Path:
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for name, s in stats.items():
        layers = range(1, len(s["std"]) + 1)
        left.plot(layers, s["mean"], marker="o", markersize=3, label=name)
        right.plot(layers, s["std"], marker="o", markersize=3, label=name)
    left.set_title("mean")
    right.set_title("std")
    for ax in (left, right):
        ax.set_yscale("log")  # ReLU outputs are >= 0, so the means are positive too
        ax.set_xlabel(TEXT["layer"].get())
        ax.grid(alpha=0.3, which="both")
    right.legend(fontsize=8)
    fig.suptitle(TEXT["init_title"].get(depth=cfg.probe_depth, width=cfg.probe_width))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_misclassified(
    path: Path,
    x_test: Tensor,
    y_test: Tensor,
    predicted: Tensor,
    image_shape: tuple[int, int],
    limit: int = 32,
) -> Path:
    plt = runner.pyplot()
    wrong = (predicted != y_test).nonzero().flatten()[:limit].tolist()
    columns = 8
    rows = max(1, math.ceil(len(wrong) / columns))
    fig, axes = plt.subplots(
        rows, columns, figsize=(columns * 1.1, rows * 1.3 + 0.5), dpi=110, squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for k, i in enumerate(wrong):
        ax = axes[k // columns, k % columns]
        ax.imshow(x_test[i].reshape(image_shape).numpy(), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{y_test[i].item()} -> {predicted[i].item()}", fontsize=9)
    fig.suptitle(TEXT["wrong"].get() if wrong else TEXT["none_wrong"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
