"""Lab: which pixels made the digits CNN say what it said?

Data and model: scikit-learn's bundled digits (8x8, ten classes) and the LeNet of the `cnn`
step, trained here from scratch in a few epochs. Then every attribution method of
groundup.nn.attribution explains the network's logit for the true class of held-out digits:
saliency, gradient x input, SmoothGrad, and integrated gradients from a black and from a
blurred baseline. The model is switched to float64 for the explaining, so the completeness
gap measures the quadrature and not float32 rounding.

Three experiments:
- maps: one test digit of every class with all its attribution maps side by side;
- deletion and insertion (Petsiuk et al. 2018): pixels are set to black one at a time in the
  order an attribution ranks them (deletion), or put back into a blurred copy (insertion),
  and the mean probability of the true class is followed; an attribution that points at the
  pixels that matter drops it fast (small area under the deletion curve) and raises it fast
  (large area under the insertion curve); a random order is the yardstick;
- completeness: the mean |sum of IG - (f(x) - f(x0))|, relative to the mean |f(x) - f(x0)|,
  for every quadrature as the number of steps grows.

Artefacts: attribution_maps.png, deletion_insertion.png, completeness.png, metrics.jsonl
(training epochs, then one record per method and curve, then the completeness study).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.cnn import LeNet, evaluate, load_data, split
from groundup.nn.attribution import (
    METHODS,
    completeness_gap,
    gaussian_blur,
    input_x_gradient,
    integrated_gradients,
    make_baseline,
    saliency,
    smoothgrad,
)

LAB = "interpretation"


@dataclass
class Config(runner.LabConfig):
    channels: int = 16  # kernels in the first convolution of the LeNet
    hidden: int = 84
    epochs: int = 15
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    test_fraction: float = 0.25
    explain: int = 300  # test digits explained for the deletion and completeness figures
    ig_steps: int = 32  # integration steps of the integrated gradients in the maps and curves
    ig_method: str = "gausslegendre"  # quadrature for the maps and the deletion curves
    blur_sigma: float = 1.5  # pixels: the blurred baseline and the start of insertion
    smooth_samples: int = 32  # noisy copies averaged by SmoothGrad
    smooth_sigma: float = 0.15  # their noise (pixel values lie in [0, 1])
    gap_digits: int = 100  # test digits in the completeness study (steps 2 .. 4 * ig_steps)


PRESETS: dict[str, dict] = {
    "micro": {
        "channels": 8,
        "hidden": 64,
        "epochs": 5,
        "lr": 1e-2,
        "explain": 60,
        "gap_digits": 30,
        "ig_steps": 16,
        "smooth_samples": 8,
    },
    "tiny": {},
    "full": {
        "channels": 32,
        "hidden": 120,
        "epochs": 40,
        "explain": 450,
        "gap_digits": 450,
        "ig_steps": 64,
    },
}

FIELD_HELP: dict[str, Msg] = {
    "channels": Msg(
        "kernels in the first convolution (the second has twice as many)",
        "Anzahl Filter der ersten Faltung (die zweite hat doppelt so viele)",
    ),
    "explain": Msg(
        "test digits explained for the deletion and completeness figures",
        "Testziffern, die für Lösch- und Vollständigkeitsmessung erklärt werden",
    ),
    "ig_steps": Msg(
        "integration steps of integrated gradients (maps and deletion curves)",
        "Integrationsschritte der Integrated Gradients (Karten und Löschkurven)",
    ),
    "ig_method": Msg(
        "quadrature: " + ", ".join(METHODS),
        "Quadraturregel: " + ", ".join(METHODS),
    ),
    "blur_sigma": Msg(
        "blur in pixels for the blurred baseline and the start of insertion",
        "Unschärfe in Pixeln für die unscharfe Baseline und den Start des Einfügens",
    ),
    "gap_digits": Msg(
        "test digits in the completeness study (2 to 4 * ig_steps steps)",
        "Testziffern in der Vollständigkeitsstudie (2 bis 4 * ig_steps Schritte)",
    ),
    "smooth_samples": Msg(
        "noisy copies that SmoothGrad averages",
        "verrauschte Kopien, über die SmoothGrad mittelt",
    ),
    "smooth_sigma": Msg(
        "standard deviation of SmoothGrad's noise (pixels lie in [0, 1])",
        "Standardabweichung des SmoothGrad-Rauschens (Pixel liegen in [0, 1])",
    ),
}

TEXT = {
    "training": Msg("Training the LeNet", "LeNet trainieren"),
    "explaining": Msg("Attributions", "Attributionen"),
    "curves": Msg("Deletion and insertion", "Löschen und Einfügen"),
    "completeness": Msg("Completeness gap", "Vollständigkeitslücke"),
    "bad_setting": Msg("Invalid setting: {detail}", "Ungültige Einstellung: {detail}"),
    "input": Msg("input", "Eingabe"),
    "maps_title": Msg(
        "Attributions for the logit of the true class (red: for it, blue: against it)",
        "Attributionen für den Logit der richtigen Klasse (rot: dafür, blau: dagegen)",
    ),
    "deletion": Msg(
        "Deletion: pixels set to black, most important first",
        "Löschen: Pixel schwarz gesetzt, wichtigste zuerst",
    ),
    "insertion": Msg(
        "Insertion: pixels put back into the blurred digit",
        "Einfügen: Pixel in die unscharfe Ziffer zurückgesetzt",
    ),
    "fraction": Msg("share of pixels changed", "Anteil veränderter Pixel"),
    "probability": Msg("probability of the true class", "Wahrscheinlichkeit der richtigen Klasse"),
    "steps": Msg("integration steps", "Integrationsschritte"),
    "relative_gap": Msg(
        "mean |gap| / mean |f(x) - f(x0)|",
        "mittlere |Lücke| / mittleres |f(x) - f(x0)|",
    ),
    "table": Msg(
        "| attribution | deletion AUC (lower is better) | insertion AUC (higher is better) |",
        "| Attribution | Lösch-AUC (kleiner ist besser) | Einfüge-AUC (größer ist besser) |",
    ),
}

# name -> (label in the plots, signed); signed maps are ranked by value, positive first
ATTRIBUTIONS = {
    "saliency": ("saliency |df/dx|", False),
    "gradient_x_input": ("gradient x input", True),
    "smoothgrad": ("SmoothGrad", False),
    "ig_black": ("IG, black baseline", True),
    "ig_blur": ("IG, blurred baseline", True),
}


# ---------------------------------------------------------------- training


def validate(cfg: Config) -> None:
    problems = [
        f"{name} must be at least 1, got {getattr(cfg, name)}"
        for name in (
            "channels",
            "hidden",
            "epochs",
            "batch_size",
            "explain",
            "gap_digits",
            "smooth_samples",
        )
        if getattr(cfg, name) < 1
    ]
    if cfg.ig_steps < 2:
        problems.append(f"ig_steps must be at least 2, got {cfg.ig_steps}")
    if cfg.ig_method not in METHODS:
        problems.append(f"ig_method must be one of {', '.join(METHODS)}, got {cfg.ig_method!r}")
    if not 0.05 <= cfg.test_fraction <= 0.5:
        problems.append(f"test_fraction must lie in [0.05, 0.5], got {cfg.test_fraction}")
    if cfg.lr <= 0 or cfg.blur_sigma <= 0 or cfg.smooth_sigma < 0:
        problems.append("lr and blur_sigma must be positive, smooth_sigma not negative")
    if problems:
        raise runner.LabError(TEXT["bad_setting"].get(detail="; ".join(problems)))


def train(cfg: Config, x: Tensor, y: Tensor, log: runner.MetricsLog) -> LeNet:
    """AdamW with a cosine learning rate, plain images: the cnn step's recipe, shorter."""
    torch.manual_seed(cfg.seed)
    model = LeNet(cfg.channels, cfg.hidden, size=x.size(-1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = cfg.epochs * math.ceil(len(y) / cfg.batch_size)
    order_gen = torch.Generator().manual_seed(cfg.seed + 1)
    step = 0
    with runner.progress(total, TEXT["training"].get(), quiet=cfg.quiet) as bar:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            order, epoch_loss = torch.randperm(len(y), generator=order_gen), 0.0
            for start in range(0, len(y), cfg.batch_size):
                for group in optimizer.param_groups:
                    group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / total))
                batch = order[start : start + cfg.batch_size]
                loss = F.cross_entropy(model(x[batch]), y[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                epoch_loss += loss.item() * len(batch)
                step += 1
                bar.update(info=f"epoch {epoch} | loss {loss.item():.3f}")
            log.log(stage="training", epoch=epoch, loss=epoch_loss / len(y))
    return model.eval()


# ---------------------------------------------------------------- attributions


def attribute_all(cfg: Config, model: nn.Module, x: Tensor, target: Tensor) -> dict[str, Tensor]:
    """Every attribution of ATTRIBUTIONS for the images x (N, 1, H, W), float64."""
    noise_gen = torch.Generator().manual_seed(cfg.seed + 3)
    blurred = make_baseline(x, "blur", blur_sigma=cfg.blur_sigma)
    ig = {"steps": cfg.ig_steps, "method": cfg.ig_method, "batch_size": 4096}
    methods: dict[str, Callable[[], Tensor]] = {
        "saliency": lambda: saliency(model, x, target),
        "gradient_x_input": lambda: input_x_gradient(model, x, target),
        "smoothgrad": lambda: smoothgrad(
            model, x, target, cfg.smooth_samples, cfg.smooth_sigma, generator=noise_gen
        ),
        "ig_black": lambda: integrated_gradients(model, x, target, torch.zeros_like(x), **ig),
        "ig_blur": lambda: integrated_gradients(model, x, target, blurred, **ig),
    }
    out = {}
    with runner.progress(len(methods), TEXT["explaining"].get(), quiet=cfg.quiet) as bar:
        for name, method in methods.items():
            out[name] = method()
            bar.update(info=name)
    return out


@torch.no_grad()
def probability_curve(
    model: nn.Module, start: Tensor, end: Tensor, order: Tensor, target: Tensor
) -> Tensor:
    """Mean probability of the target class while pixels change from `start` to `end`, one at a
    time in `order` (N, P) of flat pixel indices; P + 1 values, from no pixel to all."""
    n, p = order.shape
    # masks[k, i, j] = 1 if pixel j of image i has changed after k steps
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(p).expand(n, p))
    masks = (ranks[None] < torch.arange(p + 1).view(-1, 1, 1)).to(start.dtype)
    masks = masks.view(p + 1, n, *start.shape[1:])
    images = start + masks * (end - start)  # (P + 1, N, C, H, W)
    logits = model(images.flatten(0, 1)).view(p + 1, n, -1)
    return logits.softmax(-1).gather(2, target.view(1, n, 1).expand(p + 1, n, 1)).mean(dim=(1, 2))


def area_under(curve: Tensor) -> float:
    """Trapezoid area under a curve sampled evenly on [0, 1]."""
    return torch.trapezoid(curve, dx=1 / (len(curve) - 1)).item()


def deletion_insertion(
    cfg: Config, model: nn.Module, x: Tensor, target: Tensor, maps: dict[str, Tensor]
) -> dict[str, dict[str, Tensor]]:
    """For every attribution and a random order: the deletion and the insertion curve.

    Probabilities need no float64: the curves run through a float32 copy of the model.
    """
    model, x = copy.deepcopy(model).float(), x.float()
    n = len(x)
    black = torch.zeros_like(x)
    blurred = gaussian_blur(x, cfg.blur_sigma)
    g = torch.Generator().manual_seed(cfg.seed + 4)
    orders = {"random": torch.stack([torch.randperm(x[0].numel(), generator=g) for _ in range(n)])}
    for name, attributions in maps.items():
        signed = ATTRIBUTIONS[name][1]
        score = attributions.flatten(1) if signed else attributions.flatten(1).abs()
        orders[name] = score.argsort(dim=1, descending=True)
    curves: dict[str, dict[str, Tensor]] = {}
    for name, order in orders.items():
        curves[name] = {
            "deletion": probability_curve(model, x, black, order, target),
            "insertion": probability_curve(model, blurred, x, order, target),
        }
    return curves


# ---------------------------------------------------------------- completeness


def completeness_study(
    cfg: Config, model: nn.Module, x: Tensor, target: Tensor
) -> dict[str, list[tuple[int, float]]]:
    """Relative completeness gap of IG (black baseline) per quadrature and number of steps."""
    baseline = torch.zeros_like(x)
    with torch.no_grad():
        change = (model(x) - model(baseline)).gather(1, target.view(-1, 1)).abs().mean().item()
    grid = [2**k for k in range(1, int(math.log2(4 * cfg.ig_steps)) + 1)]
    study: dict[str, list[tuple[int, float]]] = {method: [] for method in METHODS}
    with runner.progress(
        len(METHODS) * len(grid), TEXT["completeness"].get(), quiet=cfg.quiet
    ) as bar:
        for method in METHODS:
            for steps in grid:
                attributions = integrated_gradients(
                    model, x, target, baseline, steps, method, batch_size=4096
                )
                gap = completeness_gap(model, x, baseline, target, attributions)
                study[method].append((steps, gap.abs().mean().item() / change))
                bar.update(info=f"{method} {steps}")
    return study


# ---------------------------------------------------------------- the experiment


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        return experiment(cfg)


def experiment(cfg: Config) -> runner.LabReport:
    timer = runner.Timer()
    cpu_start = time.process_time()
    runner.resolve_device(cfg.device)  # checked; the lab is small and runs on the CPU
    out = runner.start(cfg, LAB)
    x, y = load_data(cfg)
    x_train, y_train, x_test, y_test = split(x, y, cfg.test_fraction, cfg.seed)

    log = runner.MetricsLog(out / "metrics.jsonl")
    model = train(cfg, x_train, y_train, log)
    _, test_accuracy = evaluate(model, x_test, y_test)

    # float64 from here on: the completeness gap should measure the quadrature, not rounding
    model = model.double()
    explained = slice(0, min(cfg.explain, len(y_test)))
    xe, ye = x_test[explained].double(), y_test[explained]
    maps = attribute_all(cfg, model, xe, ye)
    ig_gap = completeness_gap(model, xe, torch.zeros_like(xe), ye, maps["ig_black"])

    curves = deletion_insertion(cfg, model, xe, ye, maps)
    auc = {name: {kind: area_under(c) for kind, c in pair.items()} for name, pair in curves.items()}
    for name, pair in auc.items():
        log.log(stage="deletion_insertion", attribution=name, **pair)
    study = completeness_study(cfg, model, xe[: cfg.gap_digits], ye[: cfg.gap_digits])
    for method, points in study.items():
        for steps, gap in points:
            log.log(stage="completeness", method=method, steps=steps, relative_gap=gap)
    log.close()

    with torch.no_grad():
        change = (model(xe) - model(torch.zeros_like(xe))).gather(1, ye.view(-1, 1)).abs()
    examples = one_per_class(model, x_test.double(), y_test)
    example_maps = attribute_all(cfg, model, x_test[examples].double(), y_test[examples])
    artifacts = {
        "attribution_maps": save_maps(out / "attribution_maps.png", x_test[examples], example_maps),
        "deletion_insertion": save_curves(out / "deletion_insertion.png", curves, auc),
        "completeness": save_completeness(out / "completeness.png", study),
        "metrics": out / "metrics.jsonl",
    }
    metrics: dict[str, float | int | str] = {"test_accuracy": test_accuracy}
    for name in ("random", *ATTRIBUTIONS):
        metrics[f"deletion_auc_{name}"] = auc[name]["deletion"]
    for name in ("random", *ATTRIBUTIONS):
        metrics[f"insertion_auc_{name}"] = auc[name]["insertion"]
    metrics.update(
        ig_relative_gap=ig_gap.abs().mean().item() / change.mean().item(),
        ig_max_gap=ig_gap.abs().max().item(),
        explained_digits=len(ye),
        cpu_seconds=round(time.process_time() - cpu_start, 1),
    )
    return runner.LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts=artifacts,
        text=auc_table(auc),
        seconds=timer.seconds,
    )


@torch.no_grad()
def one_per_class(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Index of the first test digit of every class, a correctly classified one if possible."""
    correct = model(x).argmax(-1) == y
    picks = []
    for c in y.unique().tolist():
        of_class = (y == c).nonzero().flatten()
        right = of_class[correct[of_class]]
        picks.append((right if len(right) else of_class)[0].item())
    return torch.tensor(picks)


def auc_table(auc: dict[str, dict[str, float]]) -> str:
    lines = [TEXT["table"].get(), "|---|---|---|"]
    for name, pair in auc.items():
        label = ATTRIBUTIONS[name][0] if name in ATTRIBUTIONS else "random"
        lines.append(f"| {label} | {pair['deletion']:.3f} | {pair['insertion']:.3f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- plots


def save_maps(path: Path, images: Tensor, maps: dict[str, Tensor]) -> Path:
    """One row per digit: the input, then every attribution (signed ones on a red-blue scale
    centred on zero, each map scaled to its own largest magnitude)."""
    plt = runner.pyplot()
    rows, columns = len(images), 1 + len(maps)
    fig, axes = plt.subplots(rows, columns, figsize=(1.5 * columns, 1.45 * rows), dpi=110)
    axes = axes.reshape(rows, columns)
    for i in range(rows):
        axes[i, 0].imshow(images[i, 0].numpy(), cmap="gray_r", vmin=0, vmax=1)
        for j, (name, attributions) in enumerate(maps.items(), start=1):
            picture = attributions[i, 0].detach().float().numpy()
            limit = max(abs(picture).max(), 1e-12)
            if ATTRIBUTIONS[name][1]:
                axes[i, j].imshow(picture, cmap="RdBu_r", vmin=-limit, vmax=limit)
            else:
                axes[i, j].imshow(picture, cmap="magma", vmin=0, vmax=limit)
    titles = [TEXT["input"].get()] + [label for label, _ in ATTRIBUTIONS.values()]
    for j, title in enumerate(titles):
        axes[0, j].set_title(title.replace(", ", ",\n"), fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(TEXT["maps_title"].get(), fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_curves(
    path: Path, curves: dict[str, dict[str, Tensor]], auc: dict[str, dict[str, float]]
) -> Path:
    plt = runner.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), dpi=110)
    for ax, kind in zip(axes, ("deletion", "insertion"), strict=True):
        for name, pair in curves.items():
            curve = pair[kind].numpy()
            label = ATTRIBUTIONS[name][0] if name in ATTRIBUTIONS else "random"
            style = {"color": "black", "linestyle": "--"} if name == "random" else {}
            fractions = [k / (len(curve) - 1) for k in range(len(curve))]
            ax.plot(fractions, curve, label=f"{label} (AUC {auc[name][kind]:.3f})", **style)
        ax.set_title(TEXT[kind].get(), fontsize=10)
        ax.set_xlabel(TEXT["fraction"].get())
        ax.set_ylabel(TEXT["probability"].get())
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(TEXT["curves"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_completeness(path: Path, study: dict[str, list[tuple[int, float]]]) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.3), dpi=110)
    for method, points in study.items():
        steps, gaps = zip(*points, strict=True)
        ax.plot(steps, [max(g, 1e-17) for g in gaps], marker="o", markersize=3, label=method)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(TEXT["steps"].get())
    ax.set_ylabel(TEXT["relative_gap"].get())
    ax.set_title(TEXT["completeness"].get() + " (IG, black baseline)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
