"""The capsule-network lab at the micro preset learns digits; its pieces do what they say.

Micro thresholds (chance is 10 %): test accuracy >= 85 % after four epochs and the epoch's
margin loss ends below 60 % of its first value (measured: 94 % accuracy, margin loss
0.53 -> 0.25). The tiny preset is measured in the lesson, not here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.labs import capsule_networks as lab
from groundup.labs import runner
from groundup.nn.capsules import CapsNet

PNG = b"\x89PNG\r\n\x1a\n"


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_learns_digits_well_above_chance(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = lab.run(micro(tmp_path))
    m = report.metrics
    assert m["test_accuracy"] >= 0.85
    assert m["final_loss"] < 0.6 * m["initial_loss"]
    assert m["train_examples"] + m["test_examples"] == 1797
    assert 0.1 <= m["coupling_to_predicted_class"] <= 1.0
    assert m["reconstruction_error"] > 0
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back

    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3, 4]
    assert {r["iterations"] for r in records} == {3}
    for name in ("curves", "lengths", "reconstructions", "perturbations"):
        assert report.artifacts[name].read_bytes()[:8] == PNG
    assert "| 3 |" in report.text


def test_comparison_trains_one_iteration_from_the_same_start(tmp_path: Path) -> None:
    report = lab.run(micro(tmp_path, epochs=1, compare=True, decoder=False, channels=8))
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["iterations"] for r in records] == [3, 1]
    assert 0.0 <= report.metrics["test_accuracy_1_iteration"] <= 1.0
    assert "reconstructions" not in report.artifacts  # no decoder, no reconstructions
    assert len(report.text.splitlines()) == 4  # header, rule, two runs


def test_shift_moves_whole_pixels_with_zeros_from_the_edge() -> None:
    images = torch.rand(64, 1, 8, 8) + 0.1  # no zeros inside
    g = torch.Generator().manual_seed(0)
    assert torch.equal(lab.shift(images, 0, g), images)
    moved = lab.shift(images, 1, g)
    for image, out in zip(images, moved, strict=True):
        matches = [
            (dy, dx)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if torch.equal(
                out[0, max(dy, 0) : 8 + min(dy, 0), max(dx, 0) : 8 + min(dx, 0)],
                image[0, max(-dy, 0) : 8 + min(-dy, 0), max(-dx, 0) : 8 + min(-dx, 0)],
            )
        ]
        assert len(matches) == 1  # exactly one whole-pixel shift explains the output
        assert (out == 0).sum() == 8 * (abs(matches[0][0]) + abs(matches[0][1])) - abs(
            matches[0][0] * matches[0][1]
        )


def test_perturbing_a_dimension_changes_only_that_dimension() -> None:
    torch.manual_seed(0)
    model = CapsNet(channels=4, primary_types=2, primary_dim=4, class_dim=6).eval()
    capsule = torch.rand(6)
    deltas = torch.tensor([-0.25, 0.0, 0.25])
    pictures = lab.perturbed(model, capsule, 3, deltas)
    assert pictures.shape == (6, 3, 64)
    v = torch.zeros(1, 10, 6)
    v[0, 3] = capsule
    unchanged = model.reconstruct(v, torch.tensor([3]))[0].detach()
    for d in range(6):
        torch.testing.assert_close(pictures[d, 1], unchanged)  # delta 0 is the digit itself


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channels": 0}, "channels"),
        ({"iterations": 0}, "iterations"),
        ({"test_fraction": 0.9}, "test_fraction"),
        ({"reconstruction_weight": -1.0}, "reconstruction_weight"),
        ({"max_shift": 5}, "max_shift"),
        ({"data": "/nonexistent/digits.npz"}, "npz"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))
