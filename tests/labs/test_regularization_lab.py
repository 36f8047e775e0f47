"""The regularization lab at its micro preset over-fits without help and is cured with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundup.labs import regularization as lab
from groundup.labs import runner
from groundup.nn.normalization import BatchNorm1d
from groundup.nn.regularization import Dropout


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_overfits_and_each_cure_helps(tmp_path: Path) -> None:
    report = lab.run(micro(tmp_path))
    m = report.metrics
    epochs = lab.PRESETS["micro"]["epochs"]
    # Without regularization: the training set is learned by heart, and the validation loss
    # climbs well above its early minimum (measured: 0.61 at epoch 9, 0.90 at the end).
    assert m["plain_train_acc"] >= 0.99
    assert m["plain_best_val_epoch"] <= epochs // 2
    assert m["plain_final_val_loss"] > m["plain_best_val_loss"] + 0.15
    # Each cure ends with a clearly lower validation loss (measured: 0.50 to 0.59).
    for variant in ("dropout", "weight_decay", "batch_norm"):
        assert m[f"{variant}_final_val_loss"] < m["plain_final_val_loss"] - 0.15, variant
    # Early stopping runs the plain model (same weights, same batches), stops after
    # `patience` bad epochs, and ends with the best weights: its final = the best val loss.
    assert m["early_stopping_best_val_loss"] == pytest.approx(m["plain_best_val_loss"], abs=1e-6)
    assert m["early_stopping_final_val_loss"] == pytest.approx(
        m["early_stopping_best_val_loss"], abs=1e-6
    )
    for variant in lab.VARIANTS:  # chance is 0.1
        assert m[f"{variant}_test_acc"] > 0.75, variant

    assert report.artifacts["learning_curves"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = report.artifacts["results"].read_text().splitlines()
    assert len(rows) == 2 + len(lab.VARIANTS) and rows[2].startswith("| plain | 50 |")
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    stopped_after = m["early_stopping_best_val_epoch"] + lab.PRESETS["micro"]["patience"]
    assert len(records) == 4 * epochs + stopped_after
    assert json.loads((tmp_path / "config.json").read_text())["n_train"] == 100


def test_variants_change_only_what_they_name() -> None:
    cfg = lab.Config(hidden=8, layers=3)
    plain = lab.make_mlp(cfg, "plain")
    dropped = lab.make_mlp(cfg, "dropout")
    normed = lab.make_mlp(cfg, "batch_norm")
    assert not any(isinstance(m, (Dropout, BatchNorm1d)) for m in plain)
    assert sum(isinstance(m, Dropout) for m in dropped) == 4  # inputs + 3 hidden layers
    assert sum(isinstance(m, BatchNorm1d) for m in normed) == 3
    optimizer = lab.make_optimizer(cfg, plain, "weight_decay")
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == cfg.weight_decay and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"])
    assert lab.make_optimizer(cfg, plain, "plain").param_groups[0]["weight_decay"] == 0.0


def test_splits_are_disjoint_and_sized() -> None:
    splits = lab.load_splits(lab.Config(n_train=50, n_val=60))
    sizes = {name: len(y) for name, (_, y) in splits.items()}
    assert sizes == {"train": 50, "val": 60, "test": 1797 - 110}
    x = splits["train"][0]
    assert x.shape == (50, 64) and x.min() >= 0.0 and x.max() <= 1.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"variants": "plain,mixup"}, "unknown variant"),
        ({"n_train": 1700}, "test set"),
        ({"dropout": 1.0}, "dropout"),
        ({"patience": 0}, "patience"),
        ({"data": "some.txt"}, "--data"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))
