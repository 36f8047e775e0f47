"""Lab: a siamese network learns to tell whether two handwritten digits show the same number.

Data: scikit-learn's bundled digits (1797 grey 8x8 images, ten classes; no download). Only
the digits 0 .. seen_classes - 1 (0-6 by default) are used for training; they are split,
stratified, into training, validation and test images. The digits 7, 8 and 9 are never
shown during training: they test whether the learned distance carries over to classes the
network has never seen, which a classifier with a fixed output layer cannot do at all.

The experiment: the same embedding network (nn/metric_learning.py: two conv stages, two
linear layers, unit-length output) is trained twice from the same initial weights and with
the same number of images per step, once with the contrastive loss on balanced random
pairs, once with the triplet loss (batch-hard mining on P x K batches, or random triplets).
Each is then used as a verifier: "same digit" if the distance of the two embeddings is at
most a threshold chosen on validation pairs. Raw pixel distance is the baseline.

Reported for each embedding: verification accuracy and ROC AUC on balanced test pairs of
seen and of unseen digits, and 3-way one-shot accuracy on the unseen digits (one example
of each as the reference, every other one assigned to the nearest).

Artefacts: metrics.jsonl, curves.png (training loss; ROC AUC of the validation pairs and,
only to watch, of the unseen digits), embedding.png (PCA of the test embeddings, coloured by
digit), distances.png (distance histograms of same and different pairs with the threshold),
roc.png (ROC curves, seen and unseen digits).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from groundup.i18n import Msg
from groundup.labs import cnn, runner
from groundup.math.linear_algebra import PCA
from groundup.metrics.classification import roc_auc, roc_curve
from groundup.nn.metric_learning import (
    EmbeddingNet,
    batch_hard_triplet_loss,
    best_threshold,
    contrastive_loss,
    distance,
    distance_matrix,
    sample_pairs,
    sample_pk_batch,
    sample_triplets,
    triplet_margin_loss,
    verification_accuracy,
)

LAB = "siamese-networks"
LOSSES = ("contrastive", "triplet")
MINING = ("batch_hard", "random")


@dataclass
class Config(runner.LabConfig):
    seen_classes: int = 7  # train on the digits 0 .. seen_classes - 1; the rest stay unseen
    embed_dim: int = 16
    channels: int = 8  # kernels in the first convolution; the second has twice as many
    hidden: int = 32
    normalize: bool = True  # embeddings on the unit sphere
    steps: int = 1000
    batch_size: int = 126  # images per training step, the same for both losses
    lr: float = 2e-3
    contrastive_margin: float = 1.0
    triplet_margin: float = 0.5
    mining: str = "batch_hard"  # triplets: batch_hard (P x K batches) or random
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    eval_pairs: int = 2000  # balanced pairs per evaluation set (validation, seen, unseen)
    eval_every: int = 100


PRESETS: dict[str, dict] = {
    "micro": {"steps": 150, "eval_every": 50, "eval_pairs": 1000},
    "tiny": {},
    "full": {"embed_dim": 32, "channels": 16, "hidden": 64, "steps": 4000, "lr": 1e-3},
}

FIELD_HELP: dict[str, Msg] = {
    "seen_classes": Msg(
        "train on the digits 0 .. n-1 only; the others test unseen classes",
        "nur mit den Ziffern 0 .. n-1 trainieren; die übrigen prüfen ungesehene Klassen",
    ),
    "embed_dim": Msg("length of each embedding vector", "Länge jedes Einbettungsvektors"),
    "channels": Msg(
        "kernels in the first convolution (the second has twice as many)",
        "Anzahl Filter der ersten Faltung (die zweite hat doppelt so viele)",
    ),
    "normalize": Msg(
        "scale every embedding to length 1 (distances between 0 and 2)",
        "jede Einbettung auf Länge 1 bringen (Abstände zwischen 0 und 2)",
    ),
    "batch_size": Msg(
        "images per training step, the same for both losses",
        "Bilder pro Trainingsschritt, gleich für beide Verluste",
    ),
    "contrastive_margin": Msg(
        "contrastive loss: different pairs farther apart than this cost nothing",
        "kontrastiver Verlust: verschiedene Paare, die weiter entfernt sind, kosten nichts",
    ),
    "triplet_margin": Msg(
        "triplet loss: how much closer the positive must be than the negative",
        "Triplet-Verlust: um wie viel näher das positive Beispiel als das negative sein muss",
    ),
    "mining": Msg(
        "triplets: batch_hard (hardest in P x K batches) or random",
        "Triplets: batch_hard (die schwersten in P x K-Batches) oder random (zufällig)",
    ),
    "val_fraction": Msg(
        "share of the seen digits held out to choose the threshold",
        "Anteil der gesehenen Ziffern, der zur Wahl der Schwelle zurückgehalten wird",
    ),
    "eval_pairs": Msg(
        "pairs (half same, half different) in each evaluation set",
        "Paare (halb gleich, halb verschieden) in jeder Auswertungsmenge",
    ),
}

TEXT = {
    "training": Msg("Training ({loss} loss)", "Training ({loss} Verlust)"),
    "contrastive": Msg("contrastive", "kontrastiver"),
    "triplet": Msg("triplet", "Triplet-"),
    "pixels": Msg("raw pixels", "rohe Pixel"),
    "bad_setting": Msg("Invalid setting: {detail}", "Ungültige Einstellung: {detail}"),
    "seen": Msg("seen digits (held-out images)", "gesehene Ziffern (zurückgehaltene Bilder)"),
    "unseen": Msg("digits never trained on", "nie trainierte Ziffern"),
    "same": Msg("same digit", "gleiche Ziffer"),
    "different": Msg("different digits", "verschiedene Ziffern"),
    "distance": Msg("distance between embeddings", "Abstand der Einbettungen"),
    "threshold": Msg("threshold", "Schwelle"),
    "step": Msg("step", "Schritt"),
    "loss": Msg("training loss", "Trainingsverlust"),
    "embedding": Msg(
        "Test embeddings, first two principal components (x: never trained on)",
        "Test-Einbettungen, erste zwei Hauptkomponenten (x: nie trainiert)",
    ),
    "table": Msg(
        "| embedding | threshold | accuracy seen | AUC seen | accuracy unseen | AUC unseen "
        "| one-shot unseen |",
        "| Einbettung | Schwelle | Genauigkeit gesehen | AUC gesehen | Genauigkeit ungesehen "
        "| AUC ungesehen | One-Shot ungesehen |",
    ),
}


# ---------------------------------------------------------------- data


@dataclass
class Data:
    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    x_test: Tensor  # held-out images of the seen digits
    y_test: Tensor
    x_unseen: Tensor  # every image of the digits never trained on
    y_unseen: Tensor


def load(cfg: Config) -> Data:
    x, y = cnn.load_data(cfg)
    seen = y < cfg.seen_classes
    if len(torch.unique(y[~seen])) < 2:
        raise runner.LabError(
            TEXT["bad_setting"].get(detail="need at least two classes >= seen_classes")
        )
    x_rest, y_rest, x_test, y_test = cnn.split(x[seen], y[seen], cfg.test_fraction, cfg.seed)
    share = cfg.val_fraction / (1 - cfg.test_fraction)
    x_train, y_train, x_val, y_val = cnn.split(x_rest, y_rest, share, cfg.seed + 1)
    return Data(x_train, y_train, x_val, y_val, x_test, y_test, x[~seen], y[~seen])


@dataclass
class Pairs:
    """Index pairs into one image set, half of them of the same digit."""

    first: Tensor
    second: Tensor
    same: np.ndarray


def fixed_pairs(labels: Tensor, count: int, seed: int) -> Pairs:
    first, second, same = sample_pairs(labels, count, torch.Generator().manual_seed(seed))
    return Pairs(first, second, same.numpy().astype(bool))


def pair_distances(z: Tensor, pairs: Pairs) -> np.ndarray:
    return distance(z[pairs.first], z[pairs.second], eps=0.0).cpu().double().numpy()


@torch.no_grad()
def embed(model: EmbeddingNet, x: Tensor, batch_size: int = 512) -> Tensor:
    model.eval()
    z = torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    model.train()
    return z


# ---------------------------------------------------------------- training


def batch_loss(
    cfg: Config,
    kind: str,
    model: EmbeddingNet,
    x: Tensor,
    y: Tensor,
    generator: torch.Generator,
) -> Tensor:
    """One step's loss; every variant looks at about cfg.batch_size images."""
    device = x.device
    if kind == "contrastive":
        first, second, same = sample_pairs(y, cfg.batch_size // 2, generator)
        z = model(x[torch.cat([first, second]).to(device)])
        z1, z2 = z.chunk(2)
        return contrastive_loss(z1, z2, same.to(device), cfg.contrastive_margin)
    if cfg.mining == "batch_hard":
        classes = len(torch.unique(y))
        index = sample_pk_batch(y, classes, max(2, cfg.batch_size // classes), generator)
        index = index.to(device)
        return batch_hard_triplet_loss(model(x[index]), y[index], cfg.triplet_margin)
    anchor, positive, negative = sample_triplets(y, cfg.batch_size // 3, generator)
    z = model(x[torch.cat([anchor, positive, negative]).to(device)])
    za, zp, zn = z.chunk(3)
    return triplet_margin_loss(za, zp, zn, cfg.triplet_margin)


def train(
    cfg: Config,
    kind: str,
    data: Data,
    pairs: dict[str, Pairs],
    device: str,
    log: runner.MetricsLog,
) -> tuple[EmbeddingNet, dict[str, list[float]]]:
    """Train one embedding network; both losses start from the same weights.

    Every eval_every steps: ROC AUC on the validation pairs (seen digits) and, only to
    watch it, on the unseen digits; neither feeds back into training.
    """
    torch.manual_seed(cfg.seed)
    size = data.x_train.size(-1)
    model = EmbeddingNet(cfg.embed_dim, cfg.channels, cfg.hidden, size, cfg.normalize).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    x, y = data.x_train.to(device), data.y_train
    x_val, x_unseen = data.x_val.to(device), data.x_unseen.to(device)
    generator = torch.Generator().manual_seed(cfg.seed + 3)
    history: dict[str, list[float]] = {"step": [], "loss": [], "val_auc": [], "unseen_auc": []}
    running, since, val_auc = 0.0, 0, float("nan")
    with runner.progress(
        cfg.steps, TEXT["training"].get(loss=TEXT[kind].get()), quiet=cfg.quiet
    ) as bar:
        for step in range(1, cfg.steps + 1):
            loss = batch_loss(cfg, kind, model, x, y.to(device), generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            running, since = running + loss.item(), since + 1
            if step % cfg.eval_every == 0 or step == cfg.steps:
                d = pair_distances(embed(model, x_val), pairs["val"])
                val_auc = roc_auc(pairs["val"].same, -d)
                d = pair_distances(embed(model, x_unseen), pairs["unseen"])
                unseen_auc = roc_auc(pairs["unseen"].same, -d)
                record = {"step": step, "loss": running / since, "val_auc": val_auc,
                          "unseen_auc": unseen_auc}  # fmt: skip
                for key, value in record.items():
                    history[key].append(value)
                log.log(loss_kind=kind, **record)
                running, since = 0.0, 0
            bar.update(info=f"loss {loss.item():.4f} | val AUC {val_auc:.3f}")
    return model, history


# ---------------------------------------------------------------- evaluation


def one_shot_accuracy(z: Tensor, labels: Tensor, episodes: int, seed: int) -> float:
    """n-way one-shot classification: in each episode one random example per class is the
    reference, and every other example gets the class of its nearest reference."""
    distances = distance_matrix(z.double().cpu())
    classes = torch.unique(labels)
    generator = torch.Generator().manual_seed(seed)
    correct, total = 0, 0
    for _ in range(episodes):
        references = torch.stack(
            [
                members[torch.randint(len(members), (1,), generator=generator)][0]
                for members in (torch.nonzero(labels == c).squeeze(1) for c in classes)
            ]
        )
        predicted = classes[distances[:, references].argmin(dim=1)]
        queries = torch.ones(len(labels), dtype=torch.bool)
        queries[references] = False
        correct += int((predicted == labels)[queries].sum())
        total += int(queries.sum())
    return correct / total


def evaluate(
    z_val: Tensor,
    z_test: Tensor,
    z_unseen: Tensor,
    pairs: dict[str, Pairs],
    y_unseen: Tensor,
    seed: int,
) -> dict[str, float | np.ndarray]:
    """Threshold from the validation pairs, then accuracy and AUC on seen and unseen pairs."""
    d = {
        "val": pair_distances(z_val, pairs["val"]),
        "seen": pair_distances(z_test, pairs["seen"]),
        "unseen": pair_distances(z_unseen, pairs["unseen"]),
    }
    threshold, val_accuracy = best_threshold(d["val"], pairs["val"].same)
    result: dict[str, float | np.ndarray] = {
        "threshold": threshold,
        "val_accuracy": val_accuracy,
        "one_shot_unseen": one_shot_accuracy(z_unseen, y_unseen, 200, seed),
    }
    for name in ("seen", "unseen"):
        same = pairs[name].same
        result[f"accuracy_{name}"] = verification_accuracy(d[name], same, threshold)
        result[f"auc_{name}"] = roc_auc(same, -d[name])
        result[f"distances_{name}"] = d[name]
        result[f"same_{name}"] = same
    return result


# ---------------------------------------------------------------- the experiment


def validate(cfg: Config) -> None:
    problems = [
        f"{name} must be at least 1, got {getattr(cfg, name)}"
        for name in ("embed_dim", "channels", "hidden", "steps", "eval_every")
        if getattr(cfg, name) < 1
    ]
    if cfg.batch_size < 6:
        problems.append(f"batch_size must be at least 6, got {cfg.batch_size}")
    if cfg.eval_pairs < 10:
        problems.append(f"eval_pairs must be at least 10, got {cfg.eval_pairs}")
    if not 2 <= cfg.seen_classes <= 8:
        problems.append(f"seen_classes must lie in [2, 8], got {cfg.seen_classes}")
    for name in ("val_fraction", "test_fraction"):
        if not 0.05 <= getattr(cfg, name) <= 0.4:
            problems.append(f"{name} must lie in [0.05, 0.4], got {getattr(cfg, name)}")
    if cfg.lr <= 0 or cfg.contrastive_margin <= 0 or cfg.triplet_margin <= 0:
        problems.append("lr, contrastive_margin and triplet_margin must be positive")
    if cfg.mining not in MINING:
        problems.append(f"mining must be one of {', '.join(MINING)}, got {cfg.mining!r}")
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
    data = load(cfg)
    pairs = {
        "val": fixed_pairs(data.y_val, cfg.eval_pairs, cfg.seed + 10),
        "seen": fixed_pairs(data.y_test, cfg.eval_pairs, cfg.seed + 11),
        "unseen": fixed_pairs(data.y_unseen, cfg.eval_pairs, cfg.seed + 12),
    }

    log = runner.MetricsLog(out / "metrics.jsonl")
    histories: dict[str, dict[str, list[float]]] = {}
    embeddings: dict[str, tuple[Tensor, Tensor, Tensor]] = {}
    for kind in LOSSES:
        model, histories[kind] = train(cfg, kind, data, pairs, device, log)
        embeddings[kind] = tuple(
            embed(model, x.to(device)).cpu() for x in (data.x_val, data.x_test, data.x_unseen)
        )
    log.close()
    embeddings["pixels"] = tuple(x.flatten(1) for x in (data.x_val, data.x_test, data.x_unseen))
    results = {
        name: evaluate(*z, pairs, data.y_unseen, cfg.seed + 13) for name, z in embeddings.items()
    }

    artifacts = {
        "curves": save_curves(out / "curves.png", histories),
        "embedding": save_embedding(out / "embedding.png", embeddings, data),
        "distances": save_distances(out / "distances.png", results),
        "roc": save_roc(out / "roc.png", results),
        "metrics": out / "metrics.jsonl",
    }
    metrics: dict[str, float | int | str] = {}
    for name, r in results.items():
        for key in ("accuracy_seen", "auc_seen", "accuracy_unseen", "auc_unseen"):
            metrics[f"{name}_{key}"] = float(r[key])
        metrics[f"{name}_one_shot_unseen"] = float(r["one_shot_unseen"])
        metrics[f"{name}_threshold"] = float(r["threshold"])
    for kind in LOSSES:
        metrics[f"{kind}_initial_loss"] = histories[kind]["loss"][0]
        metrics[f"{kind}_final_loss"] = histories[kind]["loss"][-1]
    metrics.update(
        train_images=len(data.y_train),
        val_images=len(data.y_val),
        test_images=len(data.y_test),
        unseen_images=len(data.y_unseen),
        unseen_classes=len(torch.unique(data.y_unseen)),
        cpu_seconds=round(time.process_time() - cpu_start, 1),
    )
    return runner.LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts=artifacts,
        text=results_table(results),
        seconds=timer.seconds,
    )


def results_table(results: dict[str, dict]) -> str:
    lines = [TEXT["table"].get(), "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(
            f"| {TEXT[name].get()} | {r['threshold']:.3f} | {r['accuracy_seen']:.2%} | "
            f"{r['auc_seen']:.4f} | {r['accuracy_unseen']:.2%} | {r['auc_unseen']:.4f} | "
            f"{r['one_shot_unseen']:.2%} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- plots


def _title(name: str) -> str:
    return TEXT["pixels"].get() if name == "pixels" else name


def save_curves(path: Path, histories: dict[str, dict[str, list[float]]]) -> Path:
    plt = runner.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=110)
    for ax, kind in zip(axes[:2], LOSSES, strict=True):
        h = histories[kind]
        ax.plot(h["step"], h["loss"], color="C0" if kind == "contrastive" else "C1")
        ax.set_yscale("log")
        ax.set_title(f"{TEXT['loss'].get()}: {kind}")
    for colour, kind in zip(("C0", "C1"), LOSSES, strict=True):
        h = histories[kind]
        axes[2].plot(h["step"], h["val_auc"], color=colour, label=f"{kind}, {TEXT['seen'].get()}")
        axes[2].plot(h["step"], h["unseen_auc"], color=colour, ls="--",
                     label=f"{kind}, {TEXT['unseen'].get()}")  # fmt: skip
    axes[2].set_title("ROC AUC")
    axes[2].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    for ax in axes:
        ax.set_xlabel(TEXT["step"].get())
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_embedding(
    path: Path, embeddings: dict[str, tuple[Tensor, Tensor, Tensor]], data: Data
) -> Path:
    """The seen test digits (dots) and the unseen digits (crosses) in the plane of the first
    two principal components of each embedding."""
    plt = runner.pyplot()
    names = list(embeddings)
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4.6), dpi=110)
    colours = plt.get_cmap("tab10")
    for ax, name in zip(axes, names, strict=True):
        _, z_test, z_unseen = embeddings[name]
        both = torch.cat([z_test, z_unseen]).double().numpy()
        xy = PCA(2).fit_transform(both)
        labels = torch.cat([data.y_test, data.y_unseen]).numpy()
        unseen = np.r_[np.zeros(len(z_test), bool), np.ones(len(z_unseen), bool)]
        for digit in np.unique(labels):
            for hidden, marker in ((False, "o"), (True, "x")):
                keep = (labels == digit) & (unseen == hidden)
                if keep.any():
                    ax.scatter(*xy[keep].T, s=9, marker=marker, color=colours(int(digit) % 10),
                               label=str(digit) if marker == "o" or digit >= 7 else None,
                               alpha=0.75, linewidths=0.8)  # fmt: skip
        ax.set_title(_title(name))
        ax.set_xticks([])
        ax.set_yticks([])
    axes[-1].legend(markerscale=2, fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.suptitle(TEXT["embedding"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_distances(path: Path, results: dict[str, dict]) -> Path:
    """Histograms of the distances of same and different pairs, with the chosen threshold."""
    plt = runner.pyplot()
    names = list(results)
    fig, axes = plt.subplots(2, len(names), figsize=(4.4 * len(names), 6.4), dpi=110)
    for column, name in enumerate(names):
        for row, part in enumerate(("seen", "unseen")):
            ax = axes[row, column]
            d, same = results[name][f"distances_{part}"], results[name][f"same_{part}"]
            bins = np.linspace(0, d.max() * 1.02, 40)
            ax.hist(d[same], bins=bins, alpha=0.6, label=TEXT["same"].get())
            ax.hist(d[~same], bins=bins, alpha=0.6, label=TEXT["different"].get())
            ax.axvline(
                results[name]["threshold"], color="k", ls="--", label=TEXT["threshold"].get()
            )
            ax.set_title(f"{_title(name)}: {TEXT[part].get()}", fontsize=9)
            ax.set_xlabel(TEXT["distance"].get(), fontsize=8)
    axes[0, -1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_roc(path: Path, results: dict[str, dict]) -> Path:
    """ROC curves of "same if distance <= t" over all t, for seen and for unseen digits."""
    plt = runner.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), dpi=110)
    for ax, part in zip(axes, ("seen", "unseen"), strict=True):
        for name, r in results.items():
            fpr, tpr, _ = roc_curve(r[f"same_{part}"], -r[f"distances_{part}"])
            ax.plot(fpr, tpr, label=f"{_title(name)} (AUC {r[f'auc_{part}']:.3f})")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ax.set_title(TEXT[part].get())
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
