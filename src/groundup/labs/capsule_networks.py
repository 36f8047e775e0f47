"""Lab: a small capsule network with dynamic routing reads handwritten digits.

Data: scikit-learn's bundled digits (1797 grey images of 8x8 pixels, ten classes; no
download), the same stratified 75/25 split as the CNN lab. Training images are shifted by
up to one whole pixel in each direction with zero padding (the paper shifts 28x28 MNIST by
up to two).

The network is the paper's CapsNet scaled to 8x8 (groundup.nn.capsules.CapsNet): conv 3x3
with ReLU (8x8 -> 6x6), primary capsules from a 3x3 convolution (8 types of 8-D capsules at
4x4 positions: 128 capsules), ten 16-D class capsules reached by routing by agreement, the
margin loss, and a decoder that reconstructs the image from the capsule of the true class
(weighted by 0.0005, as in the paper).

The experiment: the same network, seed, initial weights and batches, trained with 3 routing
iterations and with 1 (plain averaging of the predictions, no agreement), and compared.

Artefacts: metrics.jsonl, curves.png (margin loss and test accuracy per epoch, both runs),
lengths.png (capsule lengths per class for some test digits), reconstructions.png (test
digits and what the decoder draws from their capsule), perturbations.png (one digit
redrawn while one capsule dimension at a time is moved by -0.25 .. 0.25).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.cnn import load_data, split
from groundup.nn.capsules import CapsNet, margin_loss, reconstruction_loss

LAB = "capsule-networks"


@dataclass
class Config(runner.LabConfig):
    channels: int = 64  # kernels of the first convolution
    primary_types: int = 8  # capsule types per position in the primary layer
    primary_dim: int = 8  # numbers per primary capsule
    class_dim: int = 16  # numbers per class capsule
    iterations: int = 3  # routing iterations of the main run
    compare: bool = True  # also train with 1 routing iteration, same budget
    detach_agreement: bool = False  # stop the gradient through the inner routing iterations
    decoder: bool = True
    reconstruction_weight: float = 0.0005
    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-3
    test_fraction: float = 0.25
    max_shift: int = 1  # augmentation: whole-pixel shifts up to this many pixels


PRESETS: dict[str, dict] = {
    "micro": {"channels": 32, "epochs": 4, "batch_size": 32, "compare": False},
    "tiny": {},
    "full": {"channels": 128, "primary_types": 16, "epochs": 100, "lr": 2e-3},
}

FIELD_HELP: dict[str, Msg] = {
    "channels": Msg(
        "kernels in the first convolution, before the primary capsules",
        "Anzahl Filter der ersten Faltung, vor den Primärkapseln",
    ),
    "primary_types": Msg(
        "primary capsule types at every position of the feature map",
        "Typen von Primärkapseln an jeder Position der Merkmalskarte",
    ),
    "primary_dim": Msg(
        "length of each primary capsule's output vector",
        "Länge des Ausgabevektors jeder Primärkapsel",
    ),
    "class_dim": Msg(
        "length of each class capsule's output vector (the paper: 16)",
        "Länge des Ausgabevektors jeder Klassenkapsel (im Paper: 16)",
    ),
    "iterations": Msg(
        "routing-by-agreement iterations of the main run (1: no agreement step)",
        "Iterationen des Routings durch Übereinstimmung im Hauptlauf (1: ohne Übereinstimmung)",
    ),
    "compare": Msg(
        "also train with one routing iteration, with the same budget, and compare",
        "zusätzlich mit einer Routing-Iteration und gleichem Budget trainieren und vergleichen",
    ),
    "detach_agreement": Msg(
        "routing: no gradient through the agreement of the inner iterations",
        "Routing: kein Gradient durch die Übereinstimmung der inneren Iterationen",
    ),
    "decoder": Msg(
        "train a decoder that redraws the digit from its capsule",
        "einen Decoder trainieren, der die Ziffer aus ihrer Kapsel neu zeichnet",
    ),
    "reconstruction_weight": Msg(
        "weight of the reconstruction loss next to the margin loss (the paper: 0.0005)",
        "Gewicht des Rekonstruktionsverlusts neben dem Margin-Verlust (im Paper: 0,0005)",
    ),
    "max_shift": Msg(
        "augmentation: random whole-pixel shifts up to this many pixels (0: none)",
        "Augmentierung: zufällige Verschiebung um ganze Pixel, höchstens so viele (0: keine)",
    ),
}

TEXT = {
    "training": Msg(
        "Training, {iterations} routing iteration(s)",
        "Training, {iterations} Routing-Iteration(en)",
    ),
    "bad_setting": Msg("Invalid setting: {detail}", "Ungültige Einstellung: {detail}"),
    "run": Msg("{iterations} routing iteration(s)", "{iterations} Routing-Iteration(en)"),
    "loss": Msg("training loss (margin)", "Trainingsverlust (Margin)"),
    "accuracy": Msg("test accuracy", "Testgenauigkeit"),
    "epoch": Msg("epoch", "Epoche"),
    "lengths": Msg(
        "Length of each class capsule for test digits",
        "Länge jeder Klassenkapsel für Testziffern",
    ),
    "true": Msg("true {label}", "richtig {label}"),
    "input": Msg("input", "Eingabe"),
    "reconstruction": Msg("reconstruction", "Rekonstruktion"),
    "reconstructions": Msg(
        "Test digits and the decoder's reconstruction from the longest capsule",
        "Testziffern und die Rekonstruktion des Decoders aus der längsten Kapsel",
    ),
    "perturbations": Msg(
        "Digit {label}: one capsule dimension per row, moved by -0.25 .. +0.25",
        "Ziffer {label}: eine Kapseldimension pro Zeile, verschoben um -0,25 .. +0,25",
    ),
    "table": Msg(
        "| routing iterations | test accuracy | test errors | train accuracy |",
        "| Routing-Iterationen | Testgenauigkeit | Testfehler | Trainingsgenauigkeit |",
    ),
}


# ---------------------------------------------------------------- data


def shift(images: Tensor, max_shift: int, generator: torch.Generator) -> Tensor:
    """Move each image by whole pixels, dx and dy drawn from -max_shift .. max_shift; zeros
    come in from the edge (the paper's augmentation; exact, no resampling blur)."""
    if max_shift == 0:
        return images
    n, _, h, w = images.shape
    k = max_shift
    padded = torch.nn.functional.pad(images, (k, k, k, k))
    offsets = torch.randint(0, 2 * k + 1, (n, 2), generator=generator).tolist()
    return torch.stack(
        [padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets)]
    )


# ---------------------------------------------------------------- training


def build(cfg: Config, iterations: int, size: int) -> CapsNet:
    return CapsNet(
        size=size,
        channels=cfg.channels,
        primary_types=cfg.primary_types,
        primary_dim=cfg.primary_dim,
        class_dim=cfg.class_dim,
        iterations=iterations,
        detach_agreement=cfg.detach_agreement,
        decoder=cfg.decoder,
    )


def loss_terms(
    model: CapsNet, images: Tensor, labels: Tensor, weight: float
) -> tuple[Tensor, Tensor, Tensor]:
    """Total loss, margin loss and (unweighted) reconstruction loss of one batch."""
    v = model(images)
    margin = margin_loss(v.norm(dim=-1), labels)
    if model.decoder is None or weight == 0:
        return margin, margin, torch.zeros(())
    recon = reconstruction_loss(images, model.reconstruct(v, labels))
    return margin + weight * recon, margin, recon


@torch.no_grad()
def evaluate(model: CapsNet, x: Tensor, y: Tensor, batch_size: int = 256) -> float:
    """Accuracy: the predicted class is the longest capsule."""
    model.eval()
    correct = 0
    for start in range(0, len(y), batch_size):
        lengths = model(x[start : start + batch_size]).norm(dim=-1)
        correct += (lengths.argmax(-1) == y[start : start + batch_size]).sum().item()
    model.train()
    return correct / len(y)


def train_one(
    cfg: Config, data: tuple[Tensor, ...], iterations: int, device: str, log: runner.MetricsLog
) -> tuple[CapsNet, dict[str, list[float]]]:
    """Train one CapsNet; every run starts from the same weights and sees the same batches
    (the routing iterations have no weights, so the seed gives identical networks)."""
    x_train, y_train, x_test, y_test = (t.to(device) for t in data)
    torch.manual_seed(cfg.seed)
    model = build(cfg, iterations, x_train.size(-1)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps_per_epoch = math.ceil(len(y_train) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    order_gen = torch.Generator().manual_seed(cfg.seed + 1)
    shift_gen = torch.Generator().manual_seed(cfg.seed + 2)
    history: dict[str, list[float]] = {"epoch": [], "loss": [], "test_accuracy": []}
    step, test_accuracy = 0, 0.0
    title = TEXT["training"].get(iterations=iterations)
    with runner.progress(total, title, quiet=cfg.quiet) as bar:
        for epoch in range(1, cfg.epochs + 1):
            order = torch.randperm(len(y_train), generator=order_gen).to(device)
            margin_sum, recon_sum = 0.0, 0.0
            for start in range(0, len(y_train), cfg.batch_size):
                batch = order[start : start + cfg.batch_size]
                images = shift(x_train[batch].cpu(), cfg.max_shift, shift_gen).to(device)
                # cosine decay of the learning rate, step by step, down to zero at the end
                for group in optimizer.param_groups:
                    group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / total))
                loss, margin, recon = loss_terms(
                    model, images, y_train[batch], cfg.reconstruction_weight
                )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                margin_sum += margin.item() * len(batch)
                recon_sum += recon.item() * len(batch)
                step += 1
                bar.update(info=f"margin {margin.item():.4f} | test acc {test_accuracy:.3f}")
            test_accuracy = evaluate(model, x_test, y_test)
            history["epoch"].append(epoch)
            history["loss"].append(margin_sum / len(y_train))
            history["test_accuracy"].append(test_accuracy)
            log.log(
                iterations=iterations,
                epoch=epoch,
                margin_loss=margin_sum / len(y_train),
                reconstruction_loss=recon_sum / len(y_train),
                test_accuracy=test_accuracy,
            )
    return model, history


def validate(cfg: Config) -> None:
    names = ("channels", "primary_types", "primary_dim", "class_dim", "iterations", "epochs")
    problems = [
        f"{name} must be at least 1, got {getattr(cfg, name)}"
        for name in (*names, "batch_size")
        if getattr(cfg, name) < 1
    ]
    if not 0.05 <= cfg.test_fraction <= 0.5:
        problems.append(f"test_fraction must lie in [0.05, 0.5], got {cfg.test_fraction}")
    if cfg.lr <= 0:
        problems.append(f"lr must be positive, got {cfg.lr}")
    if cfg.reconstruction_weight < 0:
        problems.append(
            f"reconstruction_weight cannot be negative, got {cfg.reconstruction_weight}"
        )
    if not 0 <= cfg.max_shift <= 3:
        problems.append(f"max_shift must lie in 0 .. 3 pixels, got {cfg.max_shift}")
    if problems:
        raise runner.LabError(TEXT["bad_setting"].get(detail="; ".join(problems)))


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
    if x.size(-1) < 6:
        raise runner.LabError(TEXT["bad_setting"].get(detail="images must be at least 6x6"))
    data = split(x, y, cfg.test_fraction, cfg.seed)
    x_train, y_train, x_test, y_test = data

    log = runner.MetricsLog(out / "metrics.jsonl")
    variants = [cfg.iterations] + ([1] if cfg.compare and cfg.iterations != 1 else [])
    models: dict[int, CapsNet] = {}
    histories: dict[int, dict[str, list[float]]] = {}
    for iterations in variants:
        models[iterations], histories[iterations] = train_one(cfg, data, iterations, device, log)
    log.close()

    main = models[cfg.iterations].cpu().eval()
    summary = {
        r: {
            "test_accuracy": evaluate(m.cpu(), x_test, y_test),
            "train_accuracy": evaluate(m.cpu(), x_train, y_train),
        }
        for r, m in models.items()
    }
    with torch.no_grad():
        v, c = main.capsules(x_test)
    predicted = v.norm(dim=-1).argmax(-1)
    # how much of each primary capsule's output goes to the class the network chose
    coupling = c.gather(2, predicted.view(-1, 1, 1).expand(-1, c.size(1), 1)).mean().item()

    artifacts = {
        "curves": save_curves(out / "curves.png", histories),
        "lengths": save_lengths(out / "lengths.png", x_test[:8], y_test[:8], v[:8]),
        "metrics": out / "metrics.jsonl",
    }
    metrics: dict[str, float | int | str] = {
        "test_accuracy": summary[cfg.iterations]["test_accuracy"],
        "test_errors": round((1 - summary[cfg.iterations]["test_accuracy"]) * len(y_test)),
        "train_accuracy": summary[cfg.iterations]["train_accuracy"],
        "initial_loss": histories[cfg.iterations]["loss"][0],
        "final_loss": histories[cfg.iterations]["loss"][-1],
        "coupling_to_predicted_class": coupling,
    }
    if 1 in summary and cfg.iterations != 1:
        metrics["test_accuracy_1_iteration"] = summary[1]["test_accuracy"]
        metrics["final_loss_1_iteration"] = histories[1]["loss"][-1]
    if main.decoder is not None:
        with torch.no_grad():
            recon = main.reconstruct(v)
        metrics["reconstruction_error"] = reconstruction_loss(x_test, recon).item()
        artifacts["reconstructions"] = save_reconstructions(
            out / "reconstructions.png", x_test[:12], recon[:12]
        )
        artifacts["perturbations"] = save_perturbations(
            out / "perturbations.png", main, v[0, predicted[0]], int(predicted[0])
        )
    metrics.update(
        train_examples=len(y_train),
        test_examples=len(y_test),
        parameters=sum(p.numel() for p in main.parameters()),
        cpu_seconds=round(time.process_time() - cpu_start, 1),
    )
    return runner.LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts=artifacts,
        text=comparison_table(summary, len(y_test)),
        seconds=timer.seconds,
    )


def comparison_table(summary: dict[int, dict[str, float]], n_test: int) -> str:
    lines = [TEXT["table"].get(), "|---|---|---|---|"]
    for iterations, s in summary.items():
        errors = round((1 - s["test_accuracy"]) * n_test)
        lines.append(
            f"| {iterations} | {s['test_accuracy']:.2%} | {errors} | {s['train_accuracy']:.2%} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- plots


def save_curves(path: Path, histories: dict[int, dict[str, list[float]]]) -> Path:
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for iterations, h in histories.items():
        name = TEXT["run"].get(iterations=iterations)
        left.plot(h["epoch"], h["loss"], label=name)
        right.plot(h["epoch"], [100 * a for a in h["test_accuracy"]], label=name)
    left.set_yscale("log")
    left.set_title(TEXT["loss"].get())
    right.set_title(TEXT["accuracy"].get())
    right.set_ylabel("%")
    lowest = min(min(h["test_accuracy"]) for h in histories.values())
    right.set_ylim(max(0.0, max(lowest * 100, 80.0) - 2), 100)  # early epochs may be off-chart
    for ax in (left, right):
        ax.set_xlabel(TEXT["epoch"].get())
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_lengths(path: Path, images: Tensor, labels: Tensor, v: Tensor) -> Path:
    """Each digit above a bar chart of its ten capsule lengths, with the margins m+ and m-."""
    plt = runner.pyplot()
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 3.6), dpi=110, height_ratios=[1, 1.4])
    lengths = v.norm(dim=-1)
    for k in range(n):
        top, bottom = axes[0, k], axes[1, k]
        top.imshow(images[k, 0].numpy(), cmap="gray_r", vmin=0, vmax=1)
        top.set_xticks([])
        top.set_yticks([])
        top.set_title(TEXT["true"].get(label=int(labels[k])), fontsize=8)
        colours = ["tab:green" if j == labels[k] else "tab:grey" for j in range(lengths.size(1))]
        bottom.bar(range(lengths.size(1)), lengths[k].numpy(), color=colours)
        for margin in (0.9, 0.1):
            bottom.axhline(margin, color="tab:red", linewidth=0.6, linestyle="--")
        bottom.set_ylim(0, 1)
        bottom.set_xticks(range(lengths.size(1)))
        bottom.tick_params(labelsize=6)
        if k:
            bottom.set_yticklabels([])
    fig.suptitle(TEXT["lengths"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_reconstructions(path: Path, images: Tensor, recon: Tensor) -> Path:
    plt = runner.pyplot()
    n, side = len(images), images.size(-1)
    fig, axes = plt.subplots(2, n, figsize=(1.0 * n, 2.4), dpi=110)
    for k in range(n):
        for row, picture in enumerate((images[k, 0], recon[k].view(side, side))):
            axes[row, k].imshow(picture.numpy(), cmap="gray_r", vmin=0, vmax=1)
            axes[row, k].set_xticks([])
            axes[row, k].set_yticks([])
    axes[0, 0].set_ylabel(TEXT["input"].get(), fontsize=8)
    axes[1, 0].set_ylabel(TEXT["reconstruction"].get(), fontsize=8)
    fig.suptitle(TEXT["reconstructions"].get(), fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


@torch.no_grad()
def perturbed(model: CapsNet, capsule: Tensor, label: int, deltas: Tensor) -> Tensor:
    """Reconstructions (dims, len(deltas), pixels): capsule dimension d moved by each delta."""
    classes, dim = model.classes.weight.shape[1], capsule.numel()
    images = []
    for d in range(dim):
        v = torch.zeros(len(deltas), classes, dim)
        v[:, label] = capsule
        v[:, label, d] += deltas
        images.append(model.reconstruct(v, torch.full((len(deltas),), label)))
    return torch.stack(images)


def save_perturbations(path: Path, model: CapsNet, capsule: Tensor, label: int) -> Path:
    """The paper's Figure 4: redraw one digit while one dimension at a time is perturbed.

    All pictures go into one mosaic (one imshow instead of 176 small axes: much faster)."""
    plt = runner.pyplot()
    deltas = torch.linspace(-0.25, 0.25, 11)
    pictures = perturbed(model, capsule, label, deltas)  # (dims, steps, pixels)
    dims, steps = pictures.shape[:2]
    side = math.isqrt(pictures.size(-1))
    gap = 1  # a blank pixel between pictures
    mosaic = torch.ones(dims * (side + gap), steps * (side + gap))
    for d in range(dims):
        for k in range(steps):
            top, left = d * (side + gap), k * (side + gap)
            mosaic[top : top + side, left : left + side] = pictures[d, k].view(side, side)
    fig, ax = plt.subplots(figsize=(0.55 * steps + 1, 0.55 * dims + 0.8), dpi=110)
    ax.imshow(1 - mosaic.numpy(), cmap="gray", vmin=0, vmax=1)  # ink dark, gaps white
    centres = [i * (side + gap) + side / 2 - 0.5 for i in range(max(dims, steps))]
    ax.set_xticks(centres[:steps], [f"{x:+.2f}" for x in deltas.tolist()], fontsize=6)
    ax.set_yticks(centres[:dims], [str(d) for d in range(dims)], fontsize=6)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(TEXT["perturbations"].get(label=label), fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
