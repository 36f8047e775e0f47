"""The CNN lab at the micro preset learns digits; augmentation moves pixels as it says.

Micro thresholds (chance is 10 %): test accuracy >= 75 % after five epochs and the training
loss ends below half of its first-epoch value (measured: 84-93 % accuracy, loss about
2.0 -> 0.5). The tiny preset is measured in the lesson, not here (about 40 s of CPU).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.labs import cnn, runner


def micro(tmp_path: Path, **overrides) -> cnn.Config:
    return runner.make_config(
        cnn.Config, cnn.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_learns_digits_well_above_chance(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = cnn.run(micro(tmp_path))
    m = report.metrics
    assert m["test_accuracy"] >= 0.75
    assert m["final_loss"] < 0.5 * m["initial_loss"]
    assert m["train_examples"] + m["test_examples"] == 1797
    assert m["test_examples"] == 450  # 25 % held out
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back

    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3, 4, 5]
    assert {r["run"] for r in records} == {"augmented"}
    for name in ("curves", "augmentation", "filters"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "with augmentation" in report.text


def test_comparison_trains_both_variants_from_the_same_start(tmp_path: Path) -> None:
    report = cnn.run(micro(tmp_path, epochs=1, compare=True))
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["run"] for r in records] == ["augmented", "plain"]
    assert 0.0 <= report.metrics["test_accuracy_without_augmentation"] <= 1.0
    assert len(report.text.splitlines()) == 4  # header, rule, two runs


def test_lenet_shapes_and_feature_maps() -> None:
    model = cnn.LeNet(channels=4, hidden=20)
    x = torch.rand(3, 1, 8, 8)
    a1, a2 = model.features(x)
    assert a1.shape == (3, 4, 8, 8) and a2.shape == (3, 8, 4, 4)
    assert model(x).shape == (3, 10)


def test_augment_identity_and_whole_pixel_shift() -> None:
    g = torch.Generator().manual_seed(0)
    images = torch.rand(5, 1, 8, 8)
    torch.testing.assert_close(cnn.augment(images, 0.0, 0.0, g), images, atol=1e-6, rtol=0)
    assert torch.equal(cnn.augment(images, 1.0, 10.0, g, share=0.0), images)
    changed = cnn.augment(images, 1.0, 10.0, g, share=1.0)
    assert ((changed - images).abs().amax(dim=(1, 2, 3)) > 1e-3).all()
    # One whole pixel along x, no rotation: bilinear sampling is an exact shift.
    moved = cnn.transform(images, torch.zeros(5), torch.tensor([[1.0, 0.0]] * 5))
    torch.testing.assert_close(moved[..., :-1], images[..., 1:], atol=1e-6, rtol=0)
    assert moved[..., -1].abs().max() < 1e-6  # zeros come in from the edge
    # A quarter turn is exact, too, on a square image.
    turned = cnn.transform(images, torch.full((5,), torch.pi / 2), torch.zeros(5, 2))
    assert torch.allclose(turned.rot90(1, dims=(2, 3)), images, atol=1e-5) or torch.allclose(
        turned.rot90(-1, dims=(2, 3)), images, atol=1e-5
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channels": 0}, "channels"),
        ({"test_fraction": 0.9}, "test_fraction"),
        ({"augment_share": 1.5}, "augment_share"),
        ({"max_rotation": -1.0}, "max_rotation"),
        ({"data": "/nonexistent/digits.npz"}, "npz"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        cnn.run(micro(tmp_path, **overrides))
