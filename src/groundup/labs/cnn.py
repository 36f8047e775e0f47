"""Lab: a LeNet-style CNN built from groundup's own Conv2d and MaxPool2d reads handwritten digits.

Data: scikit-learn's bundled digits (1797 grey images of 8x8 pixels, ten classes; no
download), split into a stratified training and held-out test set. The network follows
LeNet-5 (LeCun et al. 1998) scaled down to 8x8 inputs: two stages of convolution, ReLU and
2x2 max pooling (8x8 -> 4x4 -> 2x2), then three fully connected layers. The 3x3 kernels are
padded by one pixel so the small images do not shrink before pooling.

The experiment: the same network is trained twice with the same budget (epochs, steps,
seed, initial weights), once on the plain images and once with data augmentation, random
small shifts and rotations drawn fresh for every batch, and the two are compared.

Artefacts: metrics.jsonl, curves.png (loss and test accuracy per epoch, both runs),
augmentation.png (augmented examples and the comparison), filters.png (the learned
first-layer kernels and the feature maps of one test digit).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.nn.conv import Conv2d, MaxPool2d

LAB = "cnn"


@dataclass
class Config(runner.LabConfig):
    channels: int = 32  # kernels in the first convolution; the second has twice as many
    hidden: int = 120  # width of the first fully connected layer (LeNet-5: 120, then 84)
    epochs: int = 40
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    test_fraction: float = 0.25
    max_shift: float = 1.0  # augmentation: shift up to this many pixels along each axis
    max_rotation: float = 10.0  # augmentation: rotate by up to this many degrees
    augment_share: float = 0.5  # augmentation: share of each batch that is transformed
    compare: bool = True  # also train without augmentation, same budget, for the comparison


PRESETS: dict[str, dict] = {
    "micro": {"channels": 8, "hidden": 64, "epochs": 5, "lr": 1e-2, "compare": False},
    "tiny": {},
    "full": {"channels": 32, "hidden": 256, "epochs": 80, "lr": 2e-3},
}

FIELD_HELP: dict[str, Msg] = {
    "channels": Msg(
        "kernels in the first convolution (the second has twice as many)",
        "Anzahl Filter der ersten Faltung (die zweite hat doppelt so viele)",
    ),
    "max_shift": Msg(
        "augmentation: largest random shift in pixels (0: no shifts)",
        "Augmentierung: größte zufällige Verschiebung in Pixeln (0: keine)",
    ),
    "max_rotation": Msg(
        "augmentation: largest random rotation in degrees (0: no rotations)",
        "Augmentierung: größte zufällige Drehung in Grad (0: keine)",
    ),
    "augment_share": Msg(
        "augmentation: share of each batch that is shifted and rotated",
        "Augmentierung: Anteil jedes Batches, der verschoben und gedreht wird",
    ),
    "compare": Msg(
        "also train without augmentation, with the same budget, and compare",
        "zusätzlich ohne Augmentierung mit gleichem Budget trainieren und vergleichen",
    ),
}

TEXT = {
    "training": Msg("Training ({variant})", "Training ({variant})"),
    "augmented": Msg("with augmentation", "mit Augmentierung"),
    "plain": Msg("without augmentation", "ohne Augmentierung"),
    "bad_setting": Msg("Invalid setting: {detail}", "Ungültige Einstellung: {detail}"),
    "bad_data": Msg(
        "{file} must be a .npz file with images X (N, H, W) or (N, H*W) of square size, "
        "values 0..16, and integer labels y (N,): {detail}",
        "{file} muss eine .npz-Datei mit Bildern X (N, H, W) oder (N, H*W) quadratischer "
        "Größe, Werte 0..16, und ganzzahligen Labels y (N,) sein: {detail}",
    ),
    "loss": Msg("training loss", "Trainingsverlust"),
    "accuracy": Msg("test accuracy", "Testgenauigkeit"),
    "epoch": Msg("epoch", "Epoche"),
    "curves": Msg("Training curves", "Trainingskurven"),
    "examples": Msg("Augmented copies of one digit", "Augmentierte Kopien einer Ziffer"),
    "effect": Msg("Effect of augmentation", "Wirkung der Augmentierung"),
    "filters": Msg("First-layer kernels (3x3)", "Filter der ersten Schicht (3x3)"),
    "maps1": Msg("Feature maps after conv1 + ReLU", "Merkmalskarten nach conv1 + ReLU"),
    "maps2": Msg("Feature maps after conv2 + ReLU", "Merkmalskarten nach conv2 + ReLU"),
    "input": Msg("input", "Eingabe"),
    "table": Msg(
        "| run | test accuracy | test errors | train accuracy | train loss |",
        "| Lauf | Testgenauigkeit | Testfehler | Trainingsgenauigkeit | Trainingsverlust |",
    ),
}


# ---------------------------------------------------------------- data


def load_data(cfg: Config) -> tuple[Tensor, Tensor]:
    """Images (N, 1, H, W) scaled to [0, 1] and labels (N,)."""
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
                images = images.reshape(len(images), side, side)
            if images.ndim != 3 or images.shape[1] != images.shape[2] or len(images) != len(labels):
                raise ValueError(f"X has shape {images.shape}, y has shape {labels.shape}")
            if images.shape[1] < 8:
                raise ValueError("images must be at least 8x8 pixels")
        except (OSError, KeyError, ValueError) as error:
            raise runner.LabError(TEXT["bad_data"].get(file=cfg.data, detail=error)) from None
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 16.0
    return x, torch.tensor(labels, dtype=torch.long)


def split(x: Tensor, y: Tensor, test_fraction: float, seed: int) -> tuple[Tensor, ...]:
    """Stratified split: every class keeps its share in training and test set."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(y))
    train, test = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=y.numpy()
    )
    train, test = torch.from_numpy(train), torch.from_numpy(test)
    return x[train], y[train], x[test], y[test]


def transform(images: Tensor, angle: Tensor, shift: Tensor) -> Tensor:
    """Rotate image k by angle[k] radians about its centre and move it by shift[k] = (dx, dy)
    pixels (content moves left/up for positive values); bilinear, zeros outside the image."""
    n, _, h, w = images.shape
    cos, sin = angle.cos(), angle.sin()
    # affine_grid maps each output pixel to where it reads in the input, in coordinates
    # from -1 to 1 across the image, so one pixel is 2/size of them.
    theta = torch.stack(
        [
            torch.stack([cos, -sin, shift[:, 0] * 2 / w], dim=1),
            torch.stack([sin, cos, shift[:, 1] * 2 / h], dim=1),
        ],
        dim=1,
    ).to(images)
    grid = F.affine_grid(theta, [n, 1, h, w], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment(
    images: Tensor,
    max_shift: float,
    max_rotation: float,
    generator: torch.Generator,
    share: float = 1.0,
) -> Tensor:
    """A random `share` of the images shifted by up to max_shift pixels along each axis and
    rotated by up to max_rotation degrees (uniform draws); the others stay as they are.

    Keeping some images untouched matters at 8x8: every resampled image is a little blurred,
    and a network that only sees blurred digits does worse on the sharp test digits.
    """
    n = len(images)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_rotation)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * max_shift
    moved = transform(images, angle, shift)
    chosen = (torch.rand(n, generator=generator) < share).to(images.device).view(n, 1, 1, 1)
    return torch.where(chosen, moved, images)


# ---------------------------------------------------------------- model


class LeNet(nn.Module):
    """conv-relu-pool twice, then three fully connected layers, as in LeNet-5."""

    def __init__(self, channels: int, hidden: int, size: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = Conv2d(1, channels, 3, padding=1)  # size x size
        self.conv2 = Conv2d(channels, 2 * channels, 3, padding=1)
        self.pool = MaxPool2d(2)  # halves height and width
        flat = 2 * channels * (size // 4) ** 2
        self.fc1 = nn.Linear(flat, hidden)
        self.fc2 = nn.Linear(hidden, max(hidden * 7 // 10, classes))  # 120 -> 84 in LeNet-5
        self.fc3 = nn.Linear(self.fc2.out_features, classes)

    def features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The feature maps after each convolution and ReLU (before pooling)."""
        a1 = torch.relu(self.conv1(x))
        a2 = torch.relu(self.conv2(self.pool(a1)))
        return a1, a2

    def forward(self, x: Tensor) -> Tensor:
        _, a2 = self.features(x)
        h = self.pool(a2).flatten(1)
        h = torch.relu(self.fc1(h))
        h = torch.relu(self.fc2(h))
        return self.fc3(h)


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 512) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over (x, y)."""
    model.eval()
    loss, correct = 0.0, 0
    for start in range(0, len(y), batch_size):
        logits = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        loss += F.cross_entropy(logits, target, reduction="sum").item()
        correct += (logits.argmax(-1) == target).sum().item()
    return loss / len(y), correct / len(y)


# ---------------------------------------------------------------- the experiment


def validate(cfg: Config) -> None:
    problems = [
        f"{name} must be at least 1, got {getattr(cfg, name)}"
        for name in ("channels", "hidden", "epochs", "batch_size")
        if getattr(cfg, name) < 1
    ]
    if not 0.05 <= cfg.test_fraction <= 0.5:
        problems.append(f"test_fraction must lie in [0.05, 0.5], got {cfg.test_fraction}")
    if cfg.lr <= 0:
        problems.append(f"lr must be positive, got {cfg.lr}")
    if not 0.0 <= cfg.augment_share <= 1.0:
        problems.append(f"augment_share must lie in [0, 1], got {cfg.augment_share}")
    if cfg.max_shift < 0 or cfg.max_rotation < 0:
        problems.append("max_shift and max_rotation cannot be negative")
    if problems:
        raise runner.LabError(TEXT["bad_setting"].get(detail="; ".join(problems)))


def train_one(
    cfg: Config,
    data: tuple[Tensor, ...],
    augmented: bool,
    device: str,
    log: runner.MetricsLog,
) -> tuple[LeNet, dict[str, list[float]]]:
    """Train one network; both runs start from the same weights and see the same batches."""
    x_train, y_train, x_test, y_test = (t.to(device) for t in data)
    torch.manual_seed(cfg.seed)
    model = LeNet(cfg.channels, cfg.hidden, size=x_train.size(-1)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(y_train) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    order_gen = torch.Generator().manual_seed(cfg.seed + 1)
    augment_gen = torch.Generator().manual_seed(cfg.seed + 2)
    variant = "augmented" if augmented else "plain"
    history: dict[str, list[float]] = {"epoch": [], "loss": [], "test_accuracy": []}
    step, test_accuracy = 0, float("nan")
    with runner.progress(
        total, TEXT["training"].get(variant=TEXT[variant].get()), quiet=cfg.quiet
    ) as bar:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            order = torch.randperm(len(y_train), generator=order_gen).to(device)
            epoch_loss = 0.0
            for start in range(0, len(y_train), cfg.batch_size):
                # cosine decay of the learning rate, step by step, down to zero at the end
                for group in optimizer.param_groups:
                    group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / total))
                batch = order[start : start + cfg.batch_size]
                images = x_train[batch]
                if augmented:
                    images = augment(
                        images, cfg.max_shift, cfg.max_rotation, augment_gen, cfg.augment_share
                    )
                loss = F.cross_entropy(model(images), y_train[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                epoch_loss += loss.item() * len(batch)
                step += 1
                bar.update(info=f"loss {loss.item():.3f} | test acc {test_accuracy:.3f}")
            _, test_accuracy = evaluate(model, x_test, y_test)
            history["epoch"].append(epoch)
            history["loss"].append(epoch_loss / len(y_train))
            history["test_accuracy"].append(test_accuracy)
            log.log(
                run=variant,
                epoch=epoch,
                loss=epoch_loss / len(y_train),
                test_accuracy=test_accuracy,
            )
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
    x, y = load_data(cfg)
    data = split(x, y, cfg.test_fraction, cfg.seed)
    x_train, y_train, x_test, y_test = data

    log = runner.MetricsLog(out / "metrics.jsonl")
    variants = [True, False] if cfg.compare else [True]
    models: dict[str, LeNet] = {}
    histories: dict[str, dict[str, list[float]]] = {}
    for augmented in variants:
        name = "augmented" if augmented else "plain"
        models[name], histories[name] = train_one(cfg, data, augmented, device, log)
    log.close()

    summary: dict[str, dict[str, float]] = {}
    for name, model in models.items():
        train_loss, train_acc = evaluate(model, x_train.to(device), y_train.to(device))
        _, test_acc = evaluate(model, x_test.to(device), y_test.to(device))
        summary[name] = {
            "test_accuracy": test_acc,
            "test_errors": round((1 - test_acc) * len(y_test)),
            "train_accuracy": train_acc,
            "train_loss": train_loss,
        }

    artifacts = {
        "curves": save_curves(out / "curves.png", histories),
        "augmentation": save_augmentation(out / "augmentation.png", cfg, x_test, histories),
        "filters": save_filters(out / "filters.png", models["augmented"], x_test[0], device),
        "metrics": out / "metrics.jsonl",
    }
    metrics: dict[str, float | int | str] = {
        "test_accuracy": summary["augmented"]["test_accuracy"],
        "test_errors": summary["augmented"]["test_errors"],
        "train_accuracy": summary["augmented"]["train_accuracy"],
        "initial_loss": histories["augmented"]["loss"][0],
        "final_loss": histories["augmented"]["loss"][-1],
    }
    if "plain" in summary:
        metrics["test_accuracy_without_augmentation"] = summary["plain"]["test_accuracy"]
        metrics["train_accuracy_without_augmentation"] = summary["plain"]["train_accuracy"]
    metrics.update(
        train_examples=len(y_train),
        test_examples=len(y_test),
        parameters=sum(p.numel() for p in models["augmented"].parameters()),
        cpu_seconds=round(time.process_time() - cpu_start, 1),
    )
    return runner.LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts=artifacts,
        text=comparison_table(summary),
        seconds=timer.seconds,
    )


def comparison_table(summary: dict[str, dict[str, float]]) -> str:
    lines = [TEXT["table"].get(), "|---|---|---|---|---|"]
    for name, s in summary.items():
        lines.append(
            f"| {TEXT[name].get()} | {s['test_accuracy']:.2%} | {s['test_errors']} | "
            f"{s['train_accuracy']:.2%} | {s['train_loss']:.4f} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- plots


def save_curves(path: Path, histories: dict[str, dict[str, list[float]]]) -> Path:
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for name, h in histories.items():
        left.plot(h["epoch"], h["loss"], label=TEXT[name].get())
        right.plot(h["epoch"], [100 * a for a in h["test_accuracy"]], label=TEXT[name].get())
    left.set_yscale("log")
    left.set_ylabel("cross-entropy")
    left.set_title(TEXT["loss"].get())
    right.set_ylabel("%")
    right.set_ylim(
        max(0.0, min(min(h["test_accuracy"]) for h in histories.values()) * 100 - 2), 100
    )
    right.set_title(TEXT["accuracy"].get())
    for ax in (left, right):
        ax.set_xlabel(TEXT["epoch"].get())
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(TEXT["curves"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_augmentation(
    path: Path, cfg: Config, x_test: Tensor, histories: dict[str, dict[str, list[float]]]
) -> Path:
    """Top: one digit and seven augmented copies. Bottom: test accuracy with and without."""
    plt = runner.pyplot()
    copies = augment(
        x_test[:1].repeat(7, 1, 1, 1),
        cfg.max_shift,
        cfg.max_rotation,
        torch.Generator().manual_seed(cfg.seed),
    )
    images = torch.cat([x_test[:1], copies])
    fig = plt.figure(figsize=(9, 6), dpi=110)
    grid = fig.add_gridspec(2, 8, height_ratios=[1, 2.4])
    for i, image in enumerate(images):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(image[0].numpy(), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if i == 0:
            ax.set_title(TEXT["input"].get(), fontsize=9)
    fig.text(0.5, 0.97, TEXT["examples"].get(), ha="center", fontsize=11)
    ax = fig.add_subplot(grid[1, :])
    for name, h in histories.items():
        ax.plot(h["epoch"], [100 * (1 - a) for a in h["test_accuracy"]], label=TEXT[name].get())
    ax.set_ylim(0, min(10.0, ax.get_ylim()[1]))  # the first epochs are off the chart
    ax.set_xlabel(TEXT["epoch"].get())
    ax.set_ylabel("test error (%)")
    ax.set_title(TEXT["effect"].get())
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path)
    plt.close(fig)
    return path


@torch.no_grad()
def save_filters(path: Path, model: LeNet, image: Tensor, device: str) -> Path:
    """The input digit, up to 32 first-layer kernels, and 16 feature maps of each convolution."""
    plt = runner.pyplot()
    model.eval()
    kernels = model.conv1.weight[:32, 0].cpu()
    a1, a2 = (a[0, :16].cpu() for a in model.features(image[None].to(device)))
    columns = 8
    sections = [  # (title, pictures, colour map, symmetric colour scale)
        (TEXT["input"].get(), [image[0].cpu()], "gray_r", False),
        (TEXT["filters"].get(), list(kernels), "RdBu_r", True),
        (TEXT["maps1"].get(), list(a1), "viridis", False),
        (TEXT["maps2"].get(), list(a2), "viridis", False),
    ]
    rows = sum(math.ceil(len(pictures) / columns) for _, pictures, _, _ in sections)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.0, rows * 1.1), dpi=110)
    for ax in axes.flat:
        ax.axis("off")
    limit = kernels.abs().max().item()
    row = 0
    for title, pictures, cmap, symmetric in sections:
        for i, picture in enumerate(pictures):
            ax = axes[row + i // columns, i % columns]
            ax.axis("on")
            ax.set_xticks([])
            ax.set_yticks([])
            scale = {"vmin": -limit, "vmax": limit} if symmetric else {}
            ax.imshow(picture.numpy(), cmap=cmap, **scale)
        axes[row, 0].set_title(title, fontsize=9, loc="left")
        row += math.ceil(len(pictures) / columns)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
