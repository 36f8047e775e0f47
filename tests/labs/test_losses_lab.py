"""The losses lab at its micro preset: L1 and Huber shrug off outliers that drag MSE, and label
smoothing lowers the digit classifier's confidence; the calibration helpers are exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.labs import losses as lab
from groundup.labs import runner


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_robust_losses_and_label_smoothing(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = lab.run(micro(tmp_path))
    m = report.metrics
    # (a) The outliers sit above the right half: they tilt the MSE line by more than 0.3,
    # while the L1 and Huber slopes stay within 0.15 of the true 2, and their lines are at
    # least five times closer to the true one.
    assert m["outliers"] >= 5
    assert m["slope_mse"] - lab.TRUE_SLOPE > 0.3
    assert abs(m["slope_l1"] - lab.TRUE_SLOPE) < 0.15
    assert abs(m["slope_huber"] - lab.TRUE_SLOPE) < 0.15
    assert m["line_error_mse"] > 5 * max(m["line_error_l1"], m["line_error_huber"])
    # (b) Both classifiers learn the digits (chance 0.1). Label smoothing caps the confidence:
    # it ends well below the accuracy (under-confident), and one fitted temperature below 1
    # sharpens it back and removes most of the calibration error.
    assert m["plain_accuracy"] > 0.9 and m["smooth_accuracy"] > 0.9
    assert m["smooth_confidence"] < m["plain_confidence"] - 0.08
    assert m["smooth_confidence"] < m["smooth_accuracy"] - 0.05
    assert m["smooth_temperature"] < 1.0
    assert m["smooth_ece_scaled"] < m["smooth_ece"] / 3
    assert m["smooth_nll"] > m["plain_nll"]  # the smoothed target is never one-hot
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back

    for name in ("regression", "reliability", "test_nll"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    assert [r.get("loss", r.get("run")) for r in records] == [
        "mse",
        "l1",
        "huber",
        "plain",
        "smooth",
    ]
    assert json.loads((tmp_path / "config.json").read_text())["epochs"] == 60
    assert "MSE" in report.text


def test_each_loss_fits_clean_points_exactly() -> None:
    x = torch.linspace(-3, 3, 30)
    y = 2.0 * x + 1.0
    for loss_fn in (lab.mse_loss, lab.l1_loss, lab.huber_loss):
        with runner.progress(400, "fit", quiet=True) as bar:
            slope, intercept = lab.fit_line(x, y, loss_fn, 400, bar)
        assert slope == pytest.approx(2.0, abs=0.02) and intercept == pytest.approx(1.0, abs=0.02)


def test_calibration_bins_and_ece_by_hand() -> None:
    # Confidences 0.4 | 0.7, 0.8, 1.0 in two bins (0, 0.5] and (0.5, 1]; the 0.8 one is wrong.
    probs = torch.tensor([[0.4, 0.3, 0.3], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.0, 0.0, 1.0]])
    labels = torch.tensor([0, 1, 0, 2])
    stats = lab.calibration_bins(probs, labels, bins=2)
    assert stats["count"].tolist() == [1.0, 3.0]
    assert stats["confidence"].tolist() == pytest.approx([0.4, 2.5 / 3])
    assert stats["accuracy"].tolist() == pytest.approx([1.0, 2 / 3])
    expected = 0.25 * abs(1.0 - 0.4) + 0.75 * abs(2 / 3 - 2.5 / 3)
    assert lab.expected_calibration_error(probs, labels, bins=2) == pytest.approx(expected)
    # A confidence on a bin edge belongs to the bin it closes: 0.5 to (0, 0.5].
    edge = lab.calibration_bins(torch.tensor([[0.5, 0.25, 0.25]]), torch.tensor([0]), bins=2)
    assert edge["count"].tolist() == [1.0, 0.0]


def test_fit_temperature_recovers_the_temperature_of_the_data() -> None:
    g = torch.Generator().manual_seed(0)
    true_logits = 2.0 * torch.randn(4000, 5, generator=g)
    labels = torch.multinomial(true_logits.softmax(dim=1), 1, generator=g).squeeze(1)
    # A model that reports three times the true logits is over-confident by T = 3.
    assert lab.fit_temperature(3.0 * true_logits, labels) == pytest.approx(3.0, rel=0.1)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"label_smoothing": 0.0}, "label_smoothing"),
        ({"outlier_fraction": 1.0}, "outlier_fraction"),
        ({"train_size": 5}, "train_size"),
        ({"epochs": 0}, "epochs"),
        ({"data": "some.txt"}, "--data"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))


def test_every_setting_is_explained() -> None:
    import dataclasses

    from groundup.i18n import LAB_FIELDS

    base = {f.name for f in dataclasses.fields(runner.LabConfig)}
    own = {f.name for f in dataclasses.fields(lab.Config)} - base
    assert own - set(LAB_FIELDS) <= set(lab.FIELD_HELP)
    assert all(msg.en != msg.de for msg in lab.FIELD_HELP.values())
