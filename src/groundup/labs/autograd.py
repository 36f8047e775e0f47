"""Lab: train an MLP built on the NumPy autograd engine to read handwritten digits.

Data: scikit-learn's bundled digits (1797 images of 8x8 pixels, ten classes; no download),
split into a stratified training and held-out test set. Every gradient is computed by
`groundup.autograd.engine`; no torch is involved. The lab writes per-epoch metrics, a loss
plot and an accuracy plot, and the trained weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from groundup.autograd.engine import Tensor, cross_entropy, no_grad
from groundup.autograd.nn import ACTIVATIONS, MLP, SGD, Adam
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport

LAB = "autograd"


@dataclass
class Config(LabConfig):
    hidden: int = 128  # width of each hidden layer
    layers: int = 1  # number of hidden layers
    activation: str = "relu"  # relu, tanh or sigmoid
    epochs: int = 30
    batch_size: int = 32
    optimizer: str = "adam"  # adam or sgd (with momentum)
    lr: float = 3e-3
    momentum: float = 0.9  # for sgd only
    test_fraction: float = 0.2


PRESETS: dict[str, dict] = {
    "micro": {"hidden": 32, "epochs": 3},
    "tiny": {},
    "full": {"hidden": 256, "layers": 2, "epochs": 60, "lr": 1e-3},
}

TRAINING = Msg("Training an MLP on digits", "MLP auf Ziffern trainieren")
ONLY_CPU = Msg(
    "This lab runs on the NumPy engine, which uses the CPU only; use --device cpu or auto.",
    "Dieses Lab läuft auf der NumPy-Engine, die nur die CPU nutzt; nehmen Sie --device cpu "
    "oder auto.",
)


def load_data(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Features scaled to about [0, 1] and integer labels 0..C-1."""
    if cfg.data is None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        return digits.data / 16.0, digits.target.astype(np.int64)  # pixel values are 0..16
    x, y = runner.load_labelled_arrays(cfg.data)
    return x / (np.abs(x).max() or 1.0), y


def split(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x_train, x_test, y_train, y_test; stratified: each class keeps its share in both parts."""
    from sklearn.model_selection import train_test_split

    try:
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=test_fraction, stratify=y, random_state=seed
        )
    except ValueError as error:  # e.g. a class with one example cannot be stratified
        raise LabError(runner.BAD_SETTING.get(detail=str(error))) from None
    return x_train, x_test, y_train, y_test


def check_config(cfg: Config) -> None:
    problems = []
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    if cfg.hidden < 1 or cfg.layers < 0 or cfg.epochs < 1 or cfg.batch_size < 1:
        problems.append("hidden, epochs and batch_size must be >= 1, layers >= 0")
    if cfg.activation not in ACTIVATIONS:
        problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}")
    if cfg.optimizer not in ("adam", "sgd"):
        problems.append("optimizer must be adam or sgd")
    if not 0.0 < cfg.test_fraction < 1.0:
        problems.append("test_fraction must lie strictly between 0 and 1")
    if cfg.lr <= 0:
        problems.append("lr must be > 0")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


def evaluate(model: MLP, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on a whole set, without recording a graph."""
    with no_grad():
        logits = model(Tensor(x))
        loss = cross_entropy(logits, y).item()
    return loss, float((logits.data.argmax(axis=1) == y).mean())


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.out_dir(cfg, LAB)
    runner.save_config(cfg, out)
    rng = np.random.default_rng(cfg.seed)  # the lab's only source of randomness

    x, y = load_data(cfg)
    x_train, x_test, y_train, y_test = split(x, y, cfg.test_fraction, cfg.seed)
    classes = int(y.max()) + 1

    sizes = [x.shape[1], *[cfg.hidden] * cfg.layers, classes]
    model = MLP(sizes, rng, cfg.activation)
    optimizer = (
        Adam(model.parameters(), lr=cfg.lr)
        if cfg.optimizer == "adam"
        else SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    )

    initial_loss, initial_accuracy = evaluate(model, x_train, y_train)
    steps_per_epoch = -(-len(x_train) // cfg.batch_size)
    log = runner.MetricsLog(out / "metrics.jsonl")
    history: dict[str, list[float]] = {
        k: [] for k in ("train_loss", "test_loss", "train_accuracy", "test_accuracy")
    }
    with runner.progress(cfg.epochs * steps_per_epoch, TRAINING.get(), cfg.quiet) as bar:
        for epoch in range(1, cfg.epochs + 1):
            order = rng.permutation(len(x_train))
            batch_losses = []
            for start in range(0, len(order), cfg.batch_size):
                batch = order[start : start + cfg.batch_size]
                loss = cross_entropy(model(Tensor(x_train[batch])), y_train[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                batch_losses.append(loss.item())
                bar.update(info=f"epoch {epoch} | loss {loss.item():.3f}")
            train_loss = float(np.mean(batch_losses))  # mean over this epoch's mini-batches
            _, train_accuracy = evaluate(model, x_train, y_train)
            test_loss, test_accuracy = evaluate(model, x_test, y_test)
            for name, value in zip(
                history, (train_loss, test_loss, train_accuracy, test_accuracy), strict=True
            ):
                history[name].append(value)
            log.log(
                epoch=epoch,
                step=epoch * steps_per_epoch,
                train_loss=train_loss,
                test_loss=test_loss,
                train_accuracy=train_accuracy,
                test_accuracy=test_accuracy,
                seconds=round(timer.seconds, 3),
            )
            bar.update(advance=0, info=f"epoch {epoch} | test acc {test_accuracy:.3f}")
    log.close()

    epochs = list(range(1, cfg.epochs + 1))
    loss_plot = runner.save_line_plot(
        out / "loss.png",
        {"train (mean over batches)": (epochs, history["train_loss"]),
         "test": (epochs, history["test_loss"])},
        title="Cross-entropy loss per epoch",
        xlabel="epoch",
        ylabel="loss",
        logy=True,
    )  # fmt: skip
    accuracy_plot = runner.save_line_plot(
        out / "accuracy.png",
        {"train": (epochs, history["train_accuracy"]),
         "test": (epochs, history["test_accuracy"])},
        title="Accuracy per epoch",
        xlabel="epoch",
        ylabel="accuracy",
    )  # fmt: skip
    weights = out / "model.npz"
    np.savez(weights, **{f"p{i}": p.data for i, p in enumerate(model.parameters())})

    metrics: dict[str, float | int | str] = {
        "test_accuracy": history["test_accuracy"][-1],
        "train_accuracy": history["train_accuracy"][-1],
        "initial_loss": initial_loss,
        "initial_accuracy": initial_accuracy,
        "final_loss": history["train_loss"][-1],
        "test_loss": history["test_loss"][-1],
        "parameters": model.num_parameters(),
        "train_examples": len(x_train),
        "test_examples": len(x_test),
        "seconds": round(timer.seconds, 2),
    }
    return LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts={
            "metrics": out / "metrics.jsonl",
            "loss_plot": loss_plot,
            "accuracy_plot": accuracy_plot,
            "weights": weights,
            "config": out / "config.json",
        },
        seconds=timer.seconds,
    )
