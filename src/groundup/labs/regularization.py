"""Lab: over-fitting and its cures on handwritten digits.

A wide MLP sees only a small part of scikit-learn's bundled digits (8x8 images, 10 classes).
Without help it learns the training set by heart: training accuracy reaches 100 %, and the
validation loss, after a first dip, climbs again while the model grows ever more confident
about the examples it gets wrong. The same network, same initial weights and same batches is
then trained with one cure at a time:

- dropout: inverted dropout on the inputs and after every hidden layer (groundup's Dropout);
- weight_decay: AdamW's decoupled decay on the weight matrices (not on biases);
- early_stopping: the plain model, stopped when the validation loss has not improved for
  `patience` epochs, with the best weights restored (groundup's EarlyStopping);
- batch_norm: BatchNorm1d between every linear layer and its ReLU (groundup's BatchNorm1d).

Output: learning_curves.png (training vs validation loss, one panel per variant), a results
table (results.md, and the summary), and every epoch's figures in metrics.jsonl.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.files import atomic_write_text
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.nn.normalization import BatchNorm1d
from groundup.nn.regularization import Dropout, EarlyStopping, decay_and_no_decay

VARIANTS = ("plain", "dropout", "weight_decay", "early_stopping", "batch_norm")


@dataclass
class Config(runner.LabConfig):
    n_train: int = 150  # training examples: few, so that the network can memorise them
    n_val: int = 400  # validation examples: watched during training
    hidden: int = 512
    layers: int = 2
    epochs: int = 150
    batch_size: int = 32
    lr: float = 1e-3
    dropout: float = 0.5  # after every hidden layer (variant dropout)
    input_dropout: float = 0.2  # on the 64 pixels (variant dropout)
    weight_decay: float = 1.0  # AdamW, weight matrices only (variant weight_decay)
    patience: int = 20  # epochs without a better validation loss (variant early_stopping)
    variants: str = ",".join(VARIANTS)


PRESETS: dict[str, dict] = {
    "micro": {
        "n_train": 100,
        "n_val": 200,
        "hidden": 128,
        "epochs": 50,
        "batch_size": 25,
        "lr": 5e-3,
        "patience": 8,
    },
    "tiny": {},
    "full": {"n_train": 300, "hidden": 1024, "layers": 3, "epochs": 300, "patience": 30},
}

FIELD_HELP: dict[str, Msg] = {
    "n_train": Msg(
        "training examples (few, so that the network can memorise them)",
        "Trainingsbeispiele (wenige, damit das Netz sie auswendig lernen kann)",
    ),
    "n_val": Msg(
        "validation examples, watched during training",
        "Validierungsbeispiele, die während des Trainings beobachtet werden",
    ),
    "input_dropout": Msg(
        "dropout probability on the input pixels (variant dropout)",
        "Dropout-Wahrscheinlichkeit auf den Eingabepixeln (Variante dropout)",
    ),
    "patience": Msg(
        "epochs without a better validation loss before early stopping",
        "Epochen ohne besseren Validierungsverlust, bevor Early Stopping abbricht",
    ),
    "variants": Msg(
        "comma-separated: plain, dropout, weight_decay, early_stopping, batch_norm",
        "durch Kommas getrennt: plain, dropout, weight_decay, early_stopping, batch_norm",
    ),
    "weight_decay": Msg(
        "AdamW weight decay on the weight matrices (variant weight_decay)",
        "AdamW-Gewichtsabnahme auf den Gewichtsmatrizen (Variante weight_decay)",
    ),
}

TEXT = {
    "training": Msg("training {n} variants", "Training von {n} Varianten"),
    "no_data": Msg(
        "this lab uses the digits bundled with scikit-learn and takes no --data file",
        "dieses Lab nutzt die mit scikit-learn gelieferten Ziffern und nimmt keine --data-Datei",
    ),
    "bad_variant": Msg(
        "unknown variant '{name}'; choose from {names}",
        "unbekannte Variante '{name}'; möglich sind {names}",
    ),
    "too_small": Msg(
        "{field} must be at least {least}, got {value}",
        "{field} muss mindestens {least} sein, ist aber {value}",
    ),
    "too_many": Msg(
        "n_train + n_val = {n} leaves fewer than 300 of the {total} digits for the test set",
        "n_train + n_val = {n} lässt von den {total} Ziffern weniger als 300 für die Testmenge",
    ),
    "probability": Msg(
        "{field} must be in [0, 1), got {value}", "{field} muss in [0, 1) liegen, ist aber {value}"
    ),
    "curves_title": Msg(
        "Training vs validation loss ({n} training examples)",
        "Trainings- und Validierungsverlust ({n} Trainingsbeispiele)",
    ),
    "best": Msg("best validation loss", "bester Validierungsverlust"),
    "table_head": Msg(
        "| variant | epochs | train acc | best val loss (epoch) | final val loss | test acc | "
        "test acc at best val epoch |",
        "| Variante | Epochen | Train-Acc | bester Val-Verlust (Epoche) | letzter Val-Verlust | "
        "Test-Acc | Test-Acc in bester Val-Epoche |",
    ),
}


# ---------------------------------------------------------------- data


def load_splits(cfg: Config) -> dict[str, tuple[Tensor, Tensor]]:
    """Digits scaled to [0, 1], shuffled with the seed, cut into train / val / test."""
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    x = torch.tensor(images / 16.0, dtype=torch.float32)  # pixels are 0..16
    y = torch.tensor(labels, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(cfg.seed))
    cuts = {
        "train": order[: cfg.n_train],
        "val": order[cfg.n_train : cfg.n_train + cfg.n_val],
        "test": order[cfg.n_train + cfg.n_val :],
    }
    return {name: (x[index], y[index]) for name, index in cuts.items()}


# ---------------------------------------------------------------- model


def make_mlp(cfg: Config, variant: str) -> nn.Sequential:
    """64 -> hidden (x layers) -> 10 with ReLU; the variant decides what sits in between."""
    blocks: list[nn.Module] = []
    if variant == "dropout" and cfg.input_dropout > 0:
        blocks.append(Dropout(cfg.input_dropout))
    width = 64
    for _ in range(cfg.layers):
        blocks.append(nn.Linear(width, cfg.hidden))
        if variant == "batch_norm":
            blocks.append(BatchNorm1d(cfg.hidden))  # normalise, then the nonlinearity
        blocks.append(nn.ReLU())
        if variant == "dropout":
            blocks.append(Dropout(cfg.dropout))
        width = cfg.hidden
    blocks.append(nn.Linear(width, 10))
    return nn.Sequential(*blocks)


def make_optimizer(cfg: Config, model: nn.Module, variant: str) -> torch.optim.Optimizer:
    decay, no_decay = decay_and_no_decay(model)
    weight_decay = cfg.weight_decay if variant == "weight_decay" else 0.0
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay}]
    return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=0.0)


@torch.no_grad()
def evaluate(model: nn.Module, data: tuple[Tensor, Tensor]) -> tuple[float, float]:
    """Mean cross-entropy and accuracy in eval mode (no dropout, running batch-norm statistics)."""
    model.eval()
    x, y = data
    logits = model(x)
    return F.cross_entropy(logits, y).item(), (logits.argmax(-1) == y).float().mean().item()


# ---------------------------------------------------------------- the experiment


def parse_variants(cfg: Config) -> list[str]:
    names = [name.strip() for name in cfg.variants.split(",") if name.strip()]
    for name in names:
        if name not in VARIANTS:
            raise runner.LabError(TEXT["bad_variant"].get(name=name, names=", ".join(VARIANTS)))
    if not names:
        raise runner.LabError(TEXT["bad_variant"].get(name="", names=", ".join(VARIANTS)))
    return names


def validate(cfg: Config) -> list[str]:
    if cfg.data is not None:
        raise runner.LabError(TEXT["no_data"].get())
    for field, least in [("n_train", 10), ("n_val", 10), ("hidden", 1), ("layers", 1),
                         ("epochs", 1), ("batch_size", 2), ("patience", 1)]:  # fmt: skip
        if getattr(cfg, field) < least:
            raise runner.LabError(
                TEXT["too_small"].get(field=field, least=least, value=getattr(cfg, field))
            )
    for field in ("dropout", "input_dropout"):
        if not 0.0 <= getattr(cfg, field) < 1.0:
            raise runner.LabError(TEXT["probability"].get(field=field, value=getattr(cfg, field)))
    total = 1797  # images in load_digits
    if cfg.n_train + cfg.n_val > total - 300:
        raise runner.LabError(TEXT["too_many"].get(n=cfg.n_train + cfg.n_val, total=total))
    return parse_variants(cfg)


def run(cfg: Config) -> runner.LabReport:
    variants = validate(cfg)
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        return experiment(cfg, variants)


def train_variant(
    cfg: Config, variant: str, splits: dict, device: str, log: runner.MetricsLog, bar
) -> dict:
    """Train one variant from the shared initial seed; its per-epoch curves and final figures."""
    torch.manual_seed(cfg.seed + 1)  # the same initial weights for every variant
    model = make_mlp(cfg, variant).to(device)
    optimizer = make_optimizer(cfg, model, variant)
    stopper = EarlyStopping(patience=cfg.patience)
    batches = torch.Generator().manual_seed(cfg.seed + 2)  # the same batch order, too
    data = {name: (x.to(device), y.to(device)) for name, (x, y) in splits.items()}
    x_train, y_train = data["train"]
    curves: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "train_acc": []}
    test_accs: list[float] = []
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = torch.randperm(len(y_train), generator=batches).to(device)
        for start in range(0, len(order), cfg.batch_size):
            index = order[start : start + cfg.batch_size]
            if len(index) < 2 and variant == "batch_norm":
                continue  # batch norm needs two examples per batch
            loss = F.cross_entropy(model(x_train[index]), y_train[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        train_loss, train_acc = evaluate(model, data["train"])
        val_loss, val_acc = evaluate(model, data["val"])
        test_accs.append(evaluate(model, data["test"])[1])  # reported only at chosen epochs
        curves["train_loss"].append(train_loss)
        curves["val_loss"].append(val_loss)
        curves["train_acc"].append(train_acc)
        log.log(variant=variant, epoch=epoch, train_loss=train_loss, train_acc=train_acc,
                val_loss=val_loss, val_acc=val_acc)  # fmt: skip
        bar.update(info=f"{variant} | train {train_loss:.3f} | val {val_loss:.3f}")
        if stopper.step(val_loss, model) and variant == "early_stopping":
            bar.update(advance=cfg.epochs - epoch)
            break
    best_epoch = stopper.best_epoch + 1  # 1-based, like the plot
    if variant == "early_stopping":
        stopper.restore(model)
    return {
        "curves": curves,
        "epochs_run": len(curves["val_loss"]),
        "final_train_acc": evaluate(model, data["train"])[1],
        "best_val_loss": stopper.best,
        "best_val_epoch": best_epoch,
        "final_val_loss": evaluate(model, data["val"])[0],
        "test_acc": evaluate(model, data["test"])[1],
        "test_acc_at_best_val": test_accs[best_epoch - 1],
    }


def experiment(cfg: Config, variants: list[str]) -> runner.LabReport:
    timer = runner.Timer()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, "regularization")
    log = runner.MetricsLog(out / "metrics.jsonl")
    splits = load_splits(cfg)

    results: dict[str, dict] = {}
    description = TEXT["training"].get(n=len(variants))
    with runner.progress(cfg.epochs * len(variants), description, quiet=cfg.quiet) as bar:
        for variant in variants:
            results[variant] = train_variant(cfg, variant, splits, device, log, bar)
    log.close()

    curves_png = save_learning_curves(out / "learning_curves.png", results, cfg)
    table = results_table(results)
    atomic_write_text(out / "results.md", table + "\n")
    metrics: dict[str, float | int | str] = {
        "n_train": cfg.n_train,
        "n_test": len(splits["test"][1]),
    }
    for variant, r in results.items():
        metrics[f"{variant}_train_acc"] = r["final_train_acc"]
        metrics[f"{variant}_test_acc"] = r["test_acc"]
        metrics[f"{variant}_best_val_epoch"] = r["best_val_epoch"]
        metrics[f"{variant}_best_val_loss"] = r["best_val_loss"]
        metrics[f"{variant}_final_val_loss"] = r["final_val_loss"]
    return runner.LabReport(
        lab="regularization",
        out_dir=out,
        metrics=metrics,
        artifacts={
            "learning_curves": curves_png,
            "results": out / "results.md",
            "metrics": out / "metrics.jsonl",
        },
        text=table,
        seconds=timer.seconds,
    )


# ---------------------------------------------------------------- what to look at


def results_table(results: dict[str, dict]) -> str:
    """A Markdown table, one row per variant."""
    lines = [TEXT["table_head"].get(), "|---|---:|---:|---:|---:|---:|---:|"]
    for variant, r in results.items():
        lines.append(
            f"| {variant} | {r['epochs_run']} | {r['final_train_acc']:.3f} | "
            f"{r['best_val_loss']:.3f} ({r['best_val_epoch']}) | {r['final_val_loss']:.3f} | "
            f"{r['test_acc']:.3f} | {r['test_acc_at_best_val']:.3f} |"
        )
    return "\n".join(lines)


def save_learning_curves(path: Path, results: dict[str, dict], cfg: Config) -> Path:
    """One panel per variant: training and validation loss per epoch, best epoch marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    # A linear scale shows the climb of the validation loss; the first epochs are cut off.
    top = 1.5 * max(
        max(r["curves"]["val_loss"][min(5, r["epochs_run"] - 1) :]) for r in results.values()
    )
    columns = min(n, 3)
    rows = (n + columns - 1) // columns
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.6 * columns, 3.6 * rows), dpi=110, squeeze=False, sharey=True
    )
    for ax, (variant, r) in zip(axes.flat, results.items(), strict=False):
        epochs = range(1, r["epochs_run"] + 1)
        ax.plot(epochs, r["curves"]["train_loss"], label="train")
        ax.plot(epochs, r["curves"]["val_loss"], label="validation")
        ax.axvline(r["best_val_epoch"], color="grey", linestyle=":", label=TEXT["best"].get())
        ax.set_ylim(0, top)
        ax.set_xlim(1, cfg.epochs)
        ax.set_title(f"{variant}: test acc {r['test_acc']:.3f}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("cross-entropy")
    axes.flat[0].legend()
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(TEXT["curves_title"].get(n=cfg.n_train))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
