"""Lab: what the choice of loss does to a fit, in two experiments.

(a) Regression with outliers. Points on the line y = 2x + 1 with a little Gaussian noise,
    and a share of them pushed far up (only on the right half, so they pull on the slope as
    well as the height). The same line is fitted three times, with MSE, L1 and Huber loss.
    MSE answers with the conditional mean and is dragged towards the outliers; L1 answers
    with the median and hardly moves; Huber sits in between, close to L1.

(b) Classification of handwritten digits (scikit-learn's bundled 8x8 images). The same MLP,
    from the same initial weights, is trained twice with cross-entropy: once on one-hot
    targets and once with label smoothing. We compare test accuracy, negative log-likelihood
    and calibration: does a predicted confidence of 0.9 come true 90 % of the time? The
    reliability diagram answers per confidence bin, the expected calibration error (ECE,
    Guo et al. 2017) in one number. A single temperature fitted on held-out data (Guo et al.'s
    temperature scaling) shows how much of the miscalibration is a plain over- or
    under-confidence that one scale factor removes.

All losses are groundup's own (groundup.nn.losses), which the tests prove equal to torch's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.nn.losses import cross_entropy, huber_loss, l1_loss, mse_loss

TRUE_SLOPE, TRUE_INTERCEPT = 2.0, 1.0
X_RANGE = (-3.0, 3.0)


@dataclass
class Config(runner.LabConfig):
    # (a) regression with outliers
    n_points: int = 80
    outlier_fraction: float = 0.3  # of the points on the right half (x > 0)
    huber_delta: float = 1.0
    fit_steps: int = 800  # full-batch Adam steps per loss
    # (b) digits, with and without label smoothing
    train_size: int = 500  # a small training set, so the plain model can overfit
    hidden: int = 256
    epochs: int = 300
    batch_size: int = 64
    lr: float = 1e-3
    label_smoothing: float = 0.1
    ece_bins: int = 10


PRESETS: dict[str, dict] = {
    "micro": {"fit_steps": 300, "train_size": 300, "hidden": 64, "epochs": 60, "lr": 3e-3},
    "tiny": {},
    "full": {"train_size": 1000, "hidden": 512, "epochs": 600, "fit_steps": 2000},
}

FIELD_HELP: dict[str, Msg] = {
    "n_points": Msg("points in the regression data", "Punkte in den Regressionsdaten"),
    "outlier_fraction": Msg(
        "share of the right-half points turned into outliers",
        "Anteil der Punkte der rechten Hälfte, die zu Ausreißern werden",
    ),
    "huber_delta": Msg(
        "Huber loss: residual where quadratic turns linear",
        "Huber-Verlust: Residuum, ab dem quadratisch in linear übergeht",
    ),
    "fit_steps": Msg(
        "full-batch Adam steps for each line fit",
        "Adam-Schritte auf allen Punkten für jede Geradenanpassung",
    ),
    "train_size": Msg(
        "digits used for training (the rest: validation and test)",
        "Ziffern zum Trainieren (der Rest: Validierung und Test)",
    ),
    "label_smoothing": Msg(
        "eps of the smoothed run: target = (1 - eps) one-hot + eps / 10",
        "eps des geglätteten Laufs: Ziel = (1 - eps) One-hot + eps / 10",
    ),
    "ece_bins": Msg(
        "confidence bins of the reliability diagram and the ECE",
        "Konfidenz-Intervalle des Reliability-Diagramms und der ECE",
    ),
}

VALIDATION_SIZE = 300  # held-out digits for fitting the temperature; the rest is the test set

TEXT = {
    "fitting": Msg("fitting lines", "Geraden anpassen"),
    "training": Msg("training on digits", "Training auf Ziffern"),
    "no_data": Msg(
        "this lab uses generated points and scikit-learn's digits and takes no --data file",
        "dieses Lab nutzt erzeugte Punkte und die Ziffern aus scikit-learn und nimmt keine "
        "--data-Datei",
    ),
    "bad": Msg("invalid setting: {detail}", "ungültige Einstellung: {detail}"),
    "regression_title": Msg(
        "The same line fitted with three losses", "Dieselbe Gerade mit drei Verlusten angepasst"
    ),
    "loss_shape_title": Msg(
        "Loss of one residual, and its gradient", "Verlust eines Residuums und sein Gradient"
    ),
    "inliers": Msg("points", "Punkte"),
    "outliers": Msg("outliers", "Ausreißer"),
    "true_line": Msg("true line", "wahre Gerade"),
    "reliability_title": Msg("Reliability diagram (test set)", "Reliability-Diagramm (Testmenge)"),
    "confidence": Msg("confidence (largest predicted probability)", "Konfidenz (größte Wahrsch.)"),
    "accuracy": Msg("accuracy in the bin", "Genauigkeit im Intervall"),
    "perfect": Msg("perfect calibration", "perfekte Kalibrierung"),
    "share": Msg("share of test examples", "Anteil der Testbeispiele"),
    "nll_title": Msg("Test negative log-likelihood", "Negative Log-Likelihood auf der Testmenge"),
    "summary": Msg(
        "Regression: slope with MSE {mse:.2f}, L1 {l1:.2f}, Huber {huber:.2f} (true 2.00).\n"
        "Digits: accuracy {acc_plain:.3f} -> {acc_smooth:.3f}, mean confidence "
        "{conf_plain:.3f} -> {conf_smooth:.3f}, ECE {ece_plain:.3f} -> {ece_smooth:.3f} "
        "(one-hot -> label smoothing {eps}).",
        "Regression: Steigung mit MSE {mse:.2f}, L1 {l1:.2f}, Huber {huber:.2f} (wahr 2,00).\n"
        "Ziffern: Genauigkeit {acc_plain:.3f} -> {acc_smooth:.3f}, mittlere Konfidenz "
        "{conf_plain:.3f} -> {conf_smooth:.3f}, ECE {ece_plain:.3f} -> {ece_smooth:.3f} "
        "(One-hot -> Label Smoothing {eps}).",
    ),
}


# ---------------------------------------------------------------- (a) regression with outliers


def make_points(cfg: Config, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """x, y and a bool mask of the outliers: y = 2x + 1 + N(0, 0.3^2), outliers 8 to 14 higher."""
    x = torch.empty(cfg.n_points).uniform_(*X_RANGE, generator=generator)
    y = TRUE_SLOPE * x + TRUE_INTERCEPT + 0.3 * torch.randn(cfg.n_points, generator=generator)
    chosen = torch.rand(cfg.n_points, generator=generator) < cfg.outlier_fraction
    outliers = chosen & (x > 0)
    y = y + outliers * torch.empty(cfg.n_points).uniform_(8.0, 14.0, generator=generator)
    return x, y, outliers


def fit_line(x: Tensor, y: Tensor, loss_fn, steps: int, bar) -> tuple[float, float]:
    """Slope and intercept minimising loss_fn(w x + b, y): full-batch Adam, cosine-decayed."""
    w = torch.zeros((), requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.Adam([w, b], lr=0.1)
    for step in range(steps):
        # L1 has no curvature: a step size that shrinks to zero lets it settle on the median.
        for group in optimizer.param_groups:
            group["lr"] = 0.1 * 0.5 * (1 + math.cos(math.pi * step / steps))
        loss = loss_fn(w * x + b, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        bar.update(info=f"loss {loss.item():.3f}")
    return w.item(), b.item()


def line_error(slope: float, intercept: float) -> float:
    """Mean distance |fitted(x) - true(x)| over the x range, in units of y."""
    xs = torch.linspace(*X_RANGE, 101)
    fitted = slope * xs + intercept
    return (fitted - (TRUE_SLOPE * xs + TRUE_INTERCEPT)).abs().mean().item()


# ---------------------------------------------------------------- (b) calibration on digits


def load_digits_split(cfg: Config, seed: int) -> dict[str, tuple[Tensor, Tensor]]:
    """Pixels scaled to [0, 1]; a random train / validation / test split of the 1797 digits."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)  # pixel values are 0..16
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    train, rest = order[: cfg.train_size], order[cfg.train_size :]
    val, test = rest[:VALIDATION_SIZE], rest[VALIDATION_SIZE:]
    return {"train": (x[train], y[train]), "val": (x[val], y[val]), "test": (x[test], y[test])}


def make_mlp(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def calibration_bins(probs: Tensor, labels: Tensor, bins: int) -> dict[str, Tensor]:
    """Per equal-width confidence bin (0, 1/bins], ...: count, mean confidence, accuracy."""
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == labels).float()
    # Bin k holds confidences in (k/bins, (k+1)/bins]; ceil - 1 gives k for all of them.
    index = (confidence * bins).ceil().long().clamp(1, bins) - 1
    count = torch.zeros(bins).index_add_(0, index, torch.ones_like(confidence))
    conf_sum = torch.zeros(bins).index_add_(0, index, confidence)
    correct_sum = torch.zeros(bins).index_add_(0, index, correct)
    safe = count.clamp(min=1)
    return {"count": count, "confidence": conf_sum / safe, "accuracy": correct_sum / safe}


def expected_calibration_error(probs: Tensor, labels: Tensor, bins: int) -> float:
    """ECE = sum_k (n_k / n) |accuracy_k - confidence_k| (Guo et al. 2017, eq. 3)."""
    stats = calibration_bins(probs, labels, bins)
    weights = stats["count"] / stats["count"].sum()
    return (weights * (stats["accuracy"] - stats["confidence"]).abs()).sum().item()


def fit_temperature(logits: Tensor, labels: Tensor) -> float:
    """The T > 0 that minimises the NLL of softmax(logits / T): a grid over log T."""
    temperatures = torch.logspace(-1.0, 1.0, 201)  # 0.1 .. 10
    nll = torch.stack([cross_entropy(logits / t, labels) for t in temperatures])
    return temperatures[nll.argmin()].item()


def train_classifier(
    cfg: Config, data: dict, smoothing: float, device: str, bar, name: str
) -> tuple[nn.Module, list[float]]:
    """The MLP trained with cross-entropy (label smoothing `smoothing`); test NLL per epoch."""
    torch.manual_seed(cfg.seed)  # the same initial weights and batches for both runs
    model = make_mlp(cfg.hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    x, y = (t.to(device) for t in data["train"])
    x_test, y_test = (t.to(device) for t in data["test"])
    test_nll = []
    for _ in range(cfg.epochs):
        model.train()
        order = torch.randperm(len(x), device=device)
        for start in range(0, len(x), cfg.batch_size):
            batch = order[start : start + cfg.batch_size]
            loss = cross_entropy(model(x[batch]), y[batch], label_smoothing=smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            test_nll.append(cross_entropy(model(x_test), y_test).item())
        bar.update(info=f"{name}: train loss {loss.item():.3f} | test NLL {test_nll[-1]:.3f}")
    return model, test_nll


def evaluate(model: nn.Module, data: dict, cfg: Config, device: str) -> dict:
    with torch.no_grad():
        logits, labels = (model(data["test"][0].to(device)).cpu(), data["test"][1])
        val_logits = model(data["val"][0].to(device)).cpu()
    probs = logits.softmax(dim=1)
    temperature = fit_temperature(val_logits, data["val"][1])
    return {
        "probs": probs,
        "accuracy": (probs.argmax(dim=1) == labels).float().mean().item(),
        "nll": cross_entropy(logits, labels).item(),
        "confidence": probs.max(dim=1).values.mean().item(),
        "ece": expected_calibration_error(probs, labels, cfg.ece_bins),
        "temperature": temperature,
        "ece_scaled": expected_calibration_error(
            (logits / temperature).softmax(dim=1), labels, cfg.ece_bins
        ),
    }


# ---------------------------------------------------------------- the experiment


def validate(cfg: Config) -> None:
    if cfg.data is not None:
        raise runner.LabError(TEXT["no_data"].get())
    problems = []
    for field in ("n_points", "fit_steps", "hidden", "epochs", "batch_size", "ece_bins"):
        if getattr(cfg, field) < 1:
            problems.append(f"{field} must be >= 1")
    if not 0.0 <= cfg.outlier_fraction < 1.0:
        problems.append("outlier_fraction must lie in [0, 1)")
    if not 0.0 < cfg.label_smoothing <= 1.0:
        problems.append("label_smoothing must lie in (0, 1]")
    if cfg.huber_delta <= 0 or cfg.lr <= 0:
        problems.append("huber_delta and lr must be > 0")
    if not 10 <= cfg.train_size <= 1797 - VALIDATION_SIZE - 100:
        problems.append(f"train_size must lie in [10, {1797 - VALIDATION_SIZE - 100}]")
    if problems:
        raise runner.LabError(TEXT["bad"].get(detail="; ".join(problems)))


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        return experiment(cfg)


def experiment(cfg: Config) -> runner.LabReport:
    timer = runner.Timer()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, "losses")
    log = runner.MetricsLog(out / "metrics.jsonl")

    # (a) three fits of one line
    x, y, outliers = make_points(cfg, torch.Generator().manual_seed(cfg.seed))
    losses = {
        "mse": mse_loss,
        "l1": l1_loss,
        "huber": lambda pred, target: huber_loss(pred, target, delta=cfg.huber_delta),
    }
    fits: dict[str, tuple[float, float]] = {}
    with runner.progress(3 * cfg.fit_steps, TEXT["fitting"].get(), quiet=cfg.quiet) as bar:
        for name, loss_fn in losses.items():
            fits[name] = fit_line(x, y, loss_fn, cfg.fit_steps, bar)
            slope, intercept = fits[name]
            log.log(part="regression", loss=name, slope=slope, intercept=intercept,
                    line_error=line_error(slope, intercept))  # fmt: skip

    # (b) digits, one-hot targets vs label smoothing
    data = load_digits_split(cfg, cfg.seed)
    results, curves = {}, {}
    with runner.progress(2 * cfg.epochs, TEXT["training"].get(), quiet=cfg.quiet) as bar:
        for name, eps in (("plain", 0.0), ("smooth", cfg.label_smoothing)):
            model, curves[name] = train_classifier(cfg, data, eps, device, bar, name)
            results[name] = evaluate(model, data, cfg, device)
            log.log(part="digits", run=name, label_smoothing=eps,
                    **{k: v for k, v in results[name].items() if k != "probs"})  # fmt: skip
    log.close()

    regression_png = save_regression_plot(out / "regression.png", x, y, outliers, fits, cfg)
    reliability_png = save_reliability_diagram(out / "reliability.png", results, data, cfg)
    epochs = list(range(1, cfg.epochs + 1))
    nll_png = runner.save_line_plot(
        out / "test_nll.png",
        {"one-hot": (epochs, curves["plain"]),
         f"label smoothing {cfg.label_smoothing}": (epochs, curves["smooth"])},
        title=TEXT["nll_title"].get(), xlabel="epoch", ylabel="NLL", logy=True,
    )  # fmt: skip

    metrics: dict[str, float | int | str] = {}
    for name, (slope, intercept) in fits.items():
        metrics[f"slope_{name}"] = slope
        metrics[f"intercept_{name}"] = intercept
        metrics[f"line_error_{name}"] = line_error(slope, intercept)
    metrics["outliers"] = int(outliers.sum())
    for name, result in results.items():
        for key in ("accuracy", "nll", "confidence", "ece", "temperature", "ece_scaled"):
            metrics[f"{name}_{key}"] = result[key]
    text = TEXT["summary"].get(
        mse=fits["mse"][0], l1=fits["l1"][0], huber=fits["huber"][0],
        acc_plain=results["plain"]["accuracy"], acc_smooth=results["smooth"]["accuracy"],
        conf_plain=results["plain"]["confidence"], conf_smooth=results["smooth"]["confidence"],
        ece_plain=results["plain"]["ece"], ece_smooth=results["smooth"]["ece"],
        eps=cfg.label_smoothing,
    )  # fmt: skip
    return runner.LabReport(
        lab="losses",
        out_dir=out,
        metrics=metrics,
        artifacts={
            "regression": regression_png,
            "reliability": reliability_png,
            "test_nll": nll_png,
            "metrics": out / "metrics.jsonl",
        },
        text=text,
        seconds=timer.seconds,
    )


# ---------------------------------------------------------------- plots


def save_regression_plot(
    path: Path, x: Tensor, y: Tensor, outliers: Tensor, fits: dict, cfg: Config
) -> Path:
    """Left: the points and the three fitted lines. Right: each loss and its gradient."""
    plt = runner.pyplot()
    x, y, outliers = x.numpy(), y.numpy(), outliers.numpy()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), dpi=110)
    left.scatter(x[~outliers], y[~outliers], s=14, color="0.4", label=TEXT["inliers"].get())
    left.scatter(x[outliers], y[outliers], s=22, color="tab:red", marker="x",
                 label=TEXT["outliers"].get())  # fmt: skip
    xs = torch.linspace(*X_RANGE, 2).numpy()
    left.plot(xs, TRUE_SLOPE * xs + TRUE_INTERCEPT, "k--", lw=1, label=TEXT["true_line"].get())
    colors = {"mse": "tab:blue", "l1": "tab:green", "huber": "tab:orange"}
    for name, (slope, intercept) in fits.items():
        left.plot(xs, slope * xs + intercept, color=colors[name], lw=2,
                  label=f"{name}: y = {slope:.2f} x + {intercept:.2f}")  # fmt: skip
    left.set_title(TEXT["regression_title"].get())
    left.set_xlabel("x")
    left.set_ylabel("y")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)

    r = torch.linspace(-4, 4, 401, requires_grad=True)
    zero = torch.zeros_like(r)
    shapes = {
        "mse": mse_loss(r, zero, reduction="none"),
        "l1": l1_loss(r, zero, reduction="none"),
        "huber": huber_loss(r, zero, reduction="none", delta=cfg.huber_delta),
    }
    for name, values in shapes.items():
        (grad,) = torch.autograd.grad(values.sum(), r)
        right.plot(
            r.detach().numpy(), values.detach().numpy(), color=colors[name], lw=2, label=name
        )
        right.plot(
            r.detach().numpy(),
            grad.numpy(),
            color=colors[name],
            lw=1,
            ls=":",
            label=f"d {name} / dr",
        )
    right.set_ylim(-4.5, 8)
    right.set_title(TEXT["loss_shape_title"].get())
    right.set_xlabel("residual r = prediction - target")
    right.legend(fontsize=8, ncol=2)
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_reliability_diagram(path: Path, results: dict, data: dict, cfg: Config) -> Path:
    """Per run: accuracy against confidence per bin (bars), the diagonal, and bin sizes."""
    plt = runner.pyplot()
    fig, axes = plt.subplots(
        2, 2, figsize=(10, 6.4), dpi=110, gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    labels = data["test"][1]
    edges = torch.linspace(0, 1, cfg.ece_bins + 1)
    centers, width = ((edges[:-1] + edges[1:]) / 2).numpy(), 1.0 / cfg.ece_bins
    titles = {"plain": "one-hot targets", "smooth": f"label smoothing {cfg.label_smoothing}"}
    for column, (name, result) in enumerate(results.items()):
        stats = {
            k: v.numpy() for k, v in calibration_bins(result["probs"], labels, cfg.ece_bins).items()
        }
        filled = stats["count"] > 0
        top, bottom = axes[0, column], axes[1, column]
        top.bar(centers[filled], stats["accuracy"][filled], width=width * 0.95,
                color="tab:blue", edgecolor="k", label=TEXT["accuracy"].get())  # fmt: skip
        top.plot([0, 1], [0, 1], "k--", lw=1, label=TEXT["perfect"].get())
        top.scatter(stats["confidence"][filled], stats["accuracy"][filled], color="tab:red",
                    s=12, zorder=3, label="(mean confidence, accuracy)")  # fmt: skip
        top.set_title(
            f"{titles[name]}: acc {result['accuracy']:.3f}, ECE {result['ece']:.3f}, "
            f"NLL {result['nll']:.3f}",
            fontsize=10,
        )
        top.set_ylim(0, 1.02)
        top.set_ylabel(TEXT["accuracy"].get())
        top.grid(alpha=0.3)
        top.legend(fontsize=8, loc="upper left")
        bottom.bar(centers, stats["count"] / stats["count"].sum(), width=width * 0.95,
                   color="0.6", edgecolor="k")  # fmt: skip
        bottom.set_xlabel(TEXT["confidence"].get())
        bottom.set_ylabel(TEXT["share"].get(), fontsize=8)
        bottom.set_xlim(0, 1)
        bottom.grid(alpha=0.3)
    fig.suptitle(TEXT["reliability_title"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
