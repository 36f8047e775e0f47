"""Lab: a CNN trained on the digits 0 to 4 learns the digits 5 to 9 from a handful of labels.

Data: scikit-learn's bundled digits (8x8 images, no download), split once into a stratified
training and test set (as in the cnn lab). The *source* task is the digits 0-4, the *target*
task the digits 5-9 (relabelled 0-4). No image of a target digit is seen in pre-training.

1. Pre-train the cnn lab's LeNet (two conv-ReLU-pool stages, then three linear layers) on
   all source training images.
2. Measure how specific each depth is: a linear probe on the features entering fc1 (the
   convolutional body), fc2 and fc3, and on the body of an untrained LeNet as a control.
3. For every k in `labels` (examples per target class) and every repetition, draw a
   stratified subset of k labelled images per target class, and train three ways on it:
   - scratch: a fresh LeNet, all layers trained;
   - probe: the pre-trained convolutional body frozen, a new linear head fitted on its
     features by L-BFGS with an L2 penalty;
   - finetune: the pre-trained convolutional body with the probe's head as the start
     (LP-FT), every layer trained, the learning rate divided by `layer_factor` per layer
     below the head.
   scratch and finetune get the same optimizer, schedule and number of steps. The fully
   connected layers of the pre-trained LeNet are dropped: step 2 shows that they are
   specific to the digits 0-4.
4. Test all of them on every target test image.

Artefacts: accuracy.png (test accuracy against labels per class, log x, mean and spread over
the repetitions), results.md (the same as a table), metrics.jsonl (every single run).
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.files import atomic_write_text
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.cnn import LeNet, evaluate, load_data, split
from groundup.nn.transfer import (
    extract_features,
    few_shot_indices,
    fit_linear_probe,
    layerwise_param_groups,
    train_mode,
)

LAB = "transfer-learning"
METHODS = ("scratch", "probe", "finetune")
SOURCE_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)
DEPTHS = ("fc1", "fc2", "fc3")  # probe the features entering each of these layers
DEPTH_LABELS = 5  # labels per class at which the depths are compared


@dataclass
class Config(runner.LabConfig):
    channels: int = 16  # kernels in the first convolution; the second has twice as many
    hidden: int = 84  # width of the first fully connected layer
    pretrain_epochs: int = 30  # epochs on the source digits 0-4
    steps: int = 150  # training steps of every scratch and finetune run
    batch_size: int = 32
    lr: float = 3e-3  # AdamW; pre-training, scratch, and the new head when fine-tuning
    weight_decay: float = 1e-4
    layer_factor: float = 2.6  # finetune: lr divided by this per layer below the head
    probe_l2: float = 1e-2  # probe: L2 penalty on the head's weights
    labels: str = "1,2,5,10,20,all"  # labelled examples per target class
    repeats: int = 3  # subsets (and initialisations) per number of labels
    test_fraction: float = 0.25


PRESETS: dict[str, dict] = {
    "micro": {
        "channels": 8,
        "hidden": 32,
        "pretrain_epochs": 8,
        "steps": 40,
        "lr": 1e-2,
        "labels": "1,5",
        "repeats": 2,
    },
    "tiny": {},
    "full": {
        "channels": 32,
        "hidden": 120,
        "pretrain_epochs": 60,
        "steps": 400,
        "labels": "1,2,3,5,10,20,50,all",
        "repeats": 10,
    },
}

FIELD_HELP: dict[str, Msg] = {
    "channels": Msg(
        "kernels in the first convolution (the second has twice as many)",
        "Anzahl Filter der ersten Faltung (die zweite hat doppelt so viele)",
    ),
    "pretrain_epochs": Msg(
        "epochs of pre-training on the digits 0 to 4",
        "Epochen des Vortrainings auf den Ziffern 0 bis 4",
    ),
    "layer_factor": Msg(
        "fine-tuning: the learning rate is divided by this for every layer below the head",
        "Feinjustierung: die Lernrate wird pro Schicht unterhalb des Kopfes hierdurch geteilt",
    ),
    "probe_l2": Msg(
        "linear probe: L2 penalty on the weights of the new head",
        "linearer Probe-Kopf: L2-Strafterm auf den Gewichten des neuen Kopfes",
    ),
    "labels": Msg(
        "labelled examples per target class to try, comma-separated ('all': every one)",
        "zu testende Zahlen gelabelter Beispiele pro Zielklasse, durch Kommas getrennt "
        "('all': alle)",
    ),
    "repeats": Msg(
        "random subsets (and initialisations) per number of labels",
        "zufällige Teilmengen (und Initialisierungen) pro Zahl von Labels",
    ),
}

TEXT = {
    "bad_setting": Msg("Invalid setting: {detail}", "Ungültige Einstellung: {detail}"),
    "pretraining": Msg("Pre-training on 0-4", "Vortraining auf 0-4"),
    "transfer": Msg("Transfer to 5-9", "Transfer auf 5-9"),
    "scratch": Msg("from scratch", "von Grund auf"),
    "probe": Msg("frozen body + linear head", "eingefrorener Körper + linearer Kopf"),
    "finetune": Msg("fine-tuned", "feinjustiert"),
    "untrained": Msg(
        "untrained body + linear head (control)", "untrainierter Körper + linearer Kopf (Kontrolle)"
    ),
    "title": Msg("Digits 5-9 after pre-training on 0-4", "Ziffern 5-9 nach Vortraining auf 0-4"),
    "xlabel": Msg(
        "labelled examples per class (log scale)", "gelabelte Beispiele pro Klasse (log. Skala)"
    ),
    "ylabel": Msg("test accuracy on 5-9 (%)", "Testgenauigkeit auf 5-9 (%)"),
    "table": Msg("| labels per class |", "| Labels pro Klasse |"),
}


# ---------------------------------------------------------------- settings and data


def parse_labels(text: str) -> list[int | None]:
    """ "1,2,5,all" -> [1, 2, 5, None]; None means every labelled example."""
    values: list[int | None] = []
    for part in text.split(","):
        part = part.strip().lower()
        if part == "all":
            values.append(None)
        elif part.isdigit() and int(part) >= 1:
            values.append(int(part))
        else:
            raise runner.LabError(
                TEXT["bad_setting"].get(
                    detail=f"labels must be positive integers or 'all', got {part!r}"
                )
            )
    if not values:
        raise runner.LabError(TEXT["bad_setting"].get(detail="labels is empty"))
    return values


def validate(cfg: Config) -> list[int | None]:
    problems = [
        f"{name} must be at least 1, got {getattr(cfg, name)}"
        for name in ("channels", "hidden", "pretrain_epochs", "steps", "batch_size", "repeats")
        if getattr(cfg, name) < 1
    ]
    if not 0.05 <= cfg.test_fraction <= 0.5:
        problems.append(f"test_fraction must lie in [0.05, 0.5], got {cfg.test_fraction}")
    if cfg.lr <= 0 or cfg.probe_l2 <= 0:
        problems.append("lr and probe_l2 must be positive")
    if cfg.layer_factor < 1:
        problems.append(f"layer_factor must be at least 1, got {cfg.layer_factor}")
    if problems:
        raise runner.LabError(TEXT["bad_setting"].get(detail="; ".join(problems)))
    return parse_labels(cfg.labels)


def task(x: Tensor, y: Tensor, classes: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """The images of `classes`, relabelled 0, 1, ... in that order."""
    keep = torch.isin(y, torch.tensor(classes))
    relabel = {c: i for i, c in enumerate(classes)}
    return x[keep], torch.tensor([relabel[int(c)] for c in y[keep]], dtype=torch.long)


# ---------------------------------------------------------------- training


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: Tensor,
    y: Tensor,
    steps: int,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """`steps` AdamW steps on minibatches (the whole set if it is smaller than a batch), the
    learning rate of every group decayed by a cosine to zero. Returns the last loss."""
    base = [group["lr"] for group in optimizer.param_groups]
    order = torch.randperm(len(y), generator=generator)
    position, loss = 0, torch.tensor(float("nan"))
    for step in range(steps):
        for group, lr in zip(optimizer.param_groups, base, strict=True):
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        if position >= len(y):  # a new epoch: a new order
            order, position = torch.randperm(len(y), generator=generator), 0
        batch = order[position : position + batch_size]
        position += batch_size
        train_mode(model)  # not model.train(): frozen parts stay in eval mode
        loss = F.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return loss.item()


def pretrain(cfg: Config, x: Tensor, y: Tensor, bar: object) -> LeNet:
    """A LeNet for the source classes, trained on all their images, cosine schedule."""
    torch.manual_seed(cfg.seed)
    model = LeNet(cfg.channels, cfg.hidden, classes=len(SOURCE_CLASSES))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    generator = torch.Generator().manual_seed(cfg.seed + 1)
    total = cfg.pretrain_epochs * math.ceil(len(y) / cfg.batch_size)
    step = 0
    model.train()
    for _ in range(cfg.pretrain_epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), cfg.batch_size):
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / total))
            batch = order[start : start + cfg.batch_size]
            loss = F.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        bar.update(info=f"loss {loss.item():.3f}")  # type: ignore[attr-defined]
    return model


class ConvNet(nn.Module):
    """The convolutional body of a LeNet (conv-ReLU-pool twice) and one linear head."""

    def __init__(self, lenet: LeNet, classes: int) -> None:
        super().__init__()
        self.conv1, self.conv2, self.pool = lenet.conv1, lenet.conv2, lenet.pool
        self.head = nn.Linear(lenet.fc1.in_features, classes)

    def forward(self, x: Tensor) -> Tensor:
        h = self.pool(torch.relu(self.conv1(x)))
        h = self.pool(torch.relu(self.conv2(h)))
        return self.head(h.flatten(1))


def finetune(
    cfg: Config, pretrained: LeNet, head: nn.Linear, x: Tensor, y: Tensor, seed: int
) -> nn.Module:
    """The pre-trained body with the probe's head as the start (LP-FT, Kumar et al. 2022:
    a random head's large early gradients would first pull the body's features apart),
    then every layer trained at its own rate."""
    model = ConvNet(copy.deepcopy(pretrained), len(TARGET_CLASSES))
    model.head.load_state_dict({k: v.float() for k, v in head.state_dict().items()})
    blocks = [model.conv1, model.conv2, model.head]  # input to head
    groups = layerwise_param_groups(blocks, cfg.lr, cfg.layer_factor)
    optimizer = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
    train(model, optimizer, x, y, cfg.steps, cfg.batch_size, torch.Generator().manual_seed(seed))
    return model


def scratch(cfg: Config, x: Tensor, y: Tensor, seed: int) -> nn.Module:
    """The whole LeNet from random weights: what one trains without a source task."""
    torch.manual_seed(seed)
    model = LeNet(cfg.channels, cfg.hidden, classes=len(TARGET_CLASSES))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train(model, optimizer, x, y, cfg.steps, cfg.batch_size, torch.Generator().manual_seed(seed))
    return model


def probe(
    cfg: Config, features: tuple[Tensor, Tensor], y: Tensor, y_test: Tensor, subset: Tensor
) -> tuple[nn.Linear, float]:
    """A linear head fitted on the fixed training features of `subset`, and its test accuracy."""
    train_features, test_features = features
    head = fit_linear_probe(
        train_features[subset], y[subset], len(TARGET_CLASSES), l2=cfg.probe_l2, max_iter=200
    )
    with torch.no_grad():
        return head, (head(test_features).argmax(-1) == y_test).double().mean().item()


def features_at(model: nn.Module, layer: str, x: Tensor, x_test: Tensor) -> tuple[Tensor, Tensor]:
    """What enters `layer` for the training and the test images, in float64 for L-BFGS."""
    return (
        extract_features(model, layer, x).double(),
        extract_features(model, layer, x_test).double(),
    )


# ---------------------------------------------------------------- the experiment


def run(cfg: Config) -> runner.LabReport:
    label_counts = validate(cfg)
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        return experiment(cfg, label_counts)


def experiment(cfg: Config, label_counts: list[int | None]) -> runner.LabReport:
    timer = runner.Timer()
    cpu_start = time.process_time()
    runner.resolve_device(cfg.device)  # the models are small: they run on the CPU
    out = runner.start(cfg, LAB)
    x, y = load_data(cfg)
    x_train, y_train, x_test, y_test = split(x, y, cfg.test_fraction, cfg.seed)
    source_x, source_y = task(x_train, y_train, SOURCE_CLASSES)
    source_test_x, source_test_y = task(x_test, y_test, SOURCE_CLASSES)
    target_x, target_y = task(x_train, y_train, TARGET_CLASSES)
    target_test = target_test_x, target_test_y = task(x_test, y_test, TARGET_CLASSES)
    for labels in (source_y, source_test_y, target_y, target_test_y):
        if len(labels) == 0 or len(torch.unique(labels)) < len(SOURCE_CLASSES):
            raise runner.LabError(
                TEXT["bad_setting"].get(
                    detail="the data needs training and test images of every digit 0 to 9"
                )
            )
    fewest = int(torch.bincount(target_y).min())
    if any(k is not None and k > fewest for k in label_counts):
        raise runner.LabError(
            TEXT["bad_setting"].get(
                detail=f"the smallest target class has {fewest} training images; "
                f"labels cannot ask for more"
            )
        )

    with runner.progress(cfg.pretrain_epochs, TEXT["pretraining"].get(), cfg.quiet) as bar:
        pretrained = pretrain(cfg, source_x, source_y, bar)
    _, source_accuracy = evaluate(pretrained, source_test_x, source_test_y)
    torch.manual_seed(cfg.seed + 2)
    untrained = LeNet(cfg.channels, cfg.hidden, classes=len(SOURCE_CLASSES))

    # The probes' features, computed once by the frozen networks: what enters fc1 (the
    # convolutional body's output), fc2 and fc3 of the pre-trained LeNet, and what enters
    # fc1 of an untrained one.
    features = {layer: features_at(pretrained, layer, target_x, target_test_x) for layer in DEPTHS}
    features["untrained"] = features_at(untrained, "fc1", target_x, target_test_x)

    log = runner.MetricsLog(out / "metrics.jsonl")
    log.log(run="pretrain", source_test_accuracy=source_accuracy, examples=len(source_y))
    results: dict[str, dict[str, list[float]]] = {m: {} for m in (*METHODS, "untrained")}
    depth: dict[str, list[float]] = {layer: [] for layer in features}
    per_class: dict[str, float] = {}
    with runner.progress(len(label_counts) * cfg.repeats, TEXT["transfer"].get(), cfg.quiet) as bar:
        for k in label_counts:
            name = "all" if k is None else str(k)
            per_class[name] = len(target_y) / len(TARGET_CLASSES) if k is None else k
            for repeat in range(cfg.repeats):
                seed = 1000 * cfg.seed + 10 * repeat + 7
                subset = few_shot_indices(target_y, k, seed)
                xs, ys = target_x[subset], target_y[subset]
                heads, probes = {}, {}
                for layer, f in features.items():
                    heads[layer], probes[layer] = probe(cfg, f, target_y, target_test_y, subset)
                tuned = finetune(cfg, pretrained, heads["fc1"], xs, ys, seed)
                accuracy = {
                    "scratch": evaluate(scratch(cfg, xs, ys, seed), *target_test)[1],
                    "probe": probes["fc1"],
                    "finetune": evaluate(tuned, *target_test)[1],
                    "untrained": probes["untrained"],
                }
                for method, value in accuracy.items():
                    results[method].setdefault(name, []).append(value)
                if k == DEPTH_LABELS:
                    for layer, value in probes.items():
                        depth[layer].append(value)
                log.log(
                    run="transfer",
                    labels_per_class=name,
                    repeat=repeat,
                    **accuracy,
                    **{f"probe_into_{layer}": v for layer, v in probes.items()},
                )
                bar.update(
                    info=f"k={name}: " + " ".join(f"{m} {a:.2f}" for m, a in accuracy.items())
                )
    log.close()

    table = results_table(results)
    atomic_write_text(out / "results.md", table + "\n")
    artifacts = {
        "accuracy": save_plot(out / "accuracy.png", results, per_class),
        "results": out / "results.md",
        "metrics": out / "metrics.jsonl",
    }
    metrics: dict[str, float | int | str] = {"source_test_accuracy": source_accuracy}
    for name in dict.fromkeys((next(iter(per_class)), *(["all"] if "all" in per_class else []))):
        for method in results:
            metrics[f"{method}_k{name}"] = statistics.fmean(results[method][name])
    for layer, values in depth.items():
        if values:
            metrics[f"probe_into_{layer}_k{DEPTH_LABELS}"] = statistics.fmean(values)
    metrics.update(
        source_train_examples=len(source_y),
        target_train_pool=len(target_y),
        target_test_examples=len(target_test_y),
        cpu_seconds=round(time.process_time() - cpu_start, 1),
    )
    return runner.LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts=artifacts,
        text=table,
        seconds=timer.seconds,
    )


def spread(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def results_table(results: dict[str, dict[str, list[float]]]) -> str:
    """Mean test accuracy ± standard deviation over the repetitions, one row per k."""
    header = TEXT["table"].get() + "".join(f" {TEXT[m].get()} |" for m in results)
    lines = [header, "|---|" + "---|" * len(results)]
    for name in results[METHODS[0]]:
        cells = [
            f"{100 * statistics.fmean(runs[name]):.1f} ± {100 * spread(runs[name]):.1f}"
            for runs in results.values()
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save_plot(
    path: Path, results: dict[str, dict[str, list[float]]], per_class: dict[str, float]
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.4), dpi=110)
    xs = list(per_class.values())
    for method, marker in zip(results, "osDv", strict=True):
        runs = [results[method][name] for name in per_class]
        mean = [100 * statistics.fmean(r) for r in runs]
        std = [100 * spread(r) for r in runs]
        style = ":" if method == "untrained" else "-"  # the control is dotted
        ax.errorbar(
            xs, mean, yerr=std, marker=marker, linestyle=style, capsize=3, label=TEXT[method].get()
        )
    ax.set_xscale("log")
    ax.set_xticks(
        xs, [f"{name}\n({v:.0f})" if name == "all" else name for name, v in per_class.items()]
    )
    ax.minorticks_off()
    lowest = min(
        100 * (statistics.fmean(r) - spread(r)) for m in results.values() for r in m.values()
    )
    ax.set_ylim(max(0.0, lowest - 5), 100)
    ax.set_xlabel(TEXT["xlabel"].get())
    ax.set_ylabel(TEXT["ylabel"].get())
    ax.set_title(TEXT["title"].get())
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
