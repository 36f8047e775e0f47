"""The optimizers lab at its micro preset: every optimizer learns digits from the same start,
and on Rosenbrock momentum outruns plain SGD at the same learning rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.labs import optimizers as lab
from groundup.labs import runner


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_every_optimizer_learns(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = lab.run(micro(tmp_path))
    m = report.metrics
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back
    # Untrained: loss ln(10) = 2.30, accuracy 0.1. After 4 epochs every optimizer must have
    # cut the training loss by at least 0.8 nats and read three digits in four correctly.
    assert m["first_loss"] == pytest.approx(2.30, abs=0.15)
    for name in lab.NAMES:
        assert m[f"test_accuracy_{name}"] > 0.75, name
        assert m[f"train_loss_{name}"] < m["first_loss"] - 0.8, name
        # from f = 12.5 at the start, each one gets at least 2x lower in 300 steps
        assert m[f"rosenbrock_{name}"] < m["rosenbrock_start"] / 2, name
    # Same learning rate 1e-3 on the valley floor: momentum is 10x faster than plain SGD.
    assert m["rosenbrock_momentum"] < m["rosenbrock_sgd"] / 10
    assert m["rosenbrock_nesterov"] < m["rosenbrock_sgd"] / 10

    for name in ("loss_curves", "rosenbrock", "results", "metrics"):
        assert report.artifacts[name].stat().st_size > 0
    for name in ("loss_curves", "rosenbrock"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    epochs = lab.PRESETS["micro"]["epochs"]
    assert len(records) == len(lab.NAMES) * (epochs + 1)
    table = report.artifacts["results"].read_text().splitlines()
    assert len(table) == 1 + len(lab.NAMES) and table[1].startswith("sgd")


def test_same_start_and_batches_for_every_optimizer(tmp_path: Path) -> None:
    # AdamW without decay is Adam: identical numbers prove that both saw the same initial
    # weights and the same mini-batches.
    report = lab.run(micro(tmp_path, optimizers="adam,adamw", weight_decay=0.0, epochs=1,
                           surface_steps=20))  # fmt: skip
    m = report.metrics
    assert m["train_loss_adam"] == m["train_loss_adamw"]
    assert m["rosenbrock_adam"] == m["rosenbrock_adamw"]
    assert set(report.text.split()) >= {"adam", "adamw"} and "sgd" not in report.text


def test_rosenbrock_minimum() -> None:
    assert lab.rosenbrock(torch.tensor([1.0, 1.0])).item() == 0.0
    assert lab.rosenbrock(torch.tensor(lab.START)).item() == pytest.approx(12.5)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"optimizers": "adam,lion"}, "unknown optimizer 'lion'"),
        ({"optimizers": " , "}, "unknown optimizer"),
        ({"momentum": 1.0}, "momentum"),
        ({"lr_scale": 0.0}, "lr_scale"),
        ({"data": "digits.npz"}, "--data"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))
