"""The interpretation lab at the micro preset: the attributions point at pixels that matter.

Micro thresholds, measured over seeds 0-4 (test accuracy 88-97 %, about 5-8 s of CPU): the
area under the deletion curve of integrated gradients (black baseline) is below half of the
random order's and at least 0.1 below it (measured: 0.04-0.06 against 0.32-0.45); gradient x
input beats random deletion by 0.1 as well (0.04-0.06); insertion with IG from the blurred
baseline beats random by at least 0.1 (0.85-0.90 against 0.56-0.67); the mean completeness
gap of IG with 16 Gauss-Legendre steps is below 5 % of the mean |f(x) - f(x0)| (measured
0.9-2.1 %), and in the completeness study the gap at 64 steps is under a fifth of the gap at
2 steps for every quadrature (measured: 1/9.5 to 1/145).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.labs import interpretation as lab
from groundup.labs import runner
from groundup.nn.attribution import METHODS


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_attributions_beat_random_and_ig_is_nearly_complete(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = lab.run(micro(tmp_path))
    m = report.metrics
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back
    assert m["test_accuracy"] >= 0.8
    assert m["explained_digits"] == 60

    random_deletion = m["deletion_auc_random"]
    assert m["deletion_auc_ig_black"] < min(0.5 * random_deletion, random_deletion - 0.1)
    assert m["deletion_auc_gradient_x_input"] < random_deletion - 0.1
    assert m["insertion_auc_ig_blur"] > m["insertion_auc_random"] + 0.1
    assert 0 <= m["ig_relative_gap"] < 0.05

    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records if r["stage"] == "training"] == [1, 2, 3, 4, 5]
    study = [r for r in records if r["stage"] == "completeness"]
    for method in METHODS:
        gaps = {r["steps"]: r["relative_gap"] for r in study if r["method"] == method}
        assert sorted(gaps) == [2, 4, 8, 16, 32, 64]  # up to 4 * ig_steps
        assert gaps[64] < 0.2 * gaps[2]
    assert {r["attribution"] for r in records if r["stage"] == "deletion_insertion"} == {
        "random",
        *lab.ATTRIBUTIONS,
    }
    for name in ("attribution_maps", "deletion_insertion", "completeness"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(report.text.splitlines()) == 2 + 1 + len(lab.ATTRIBUTIONS)


def test_probability_curve_follows_the_pixels_in_the_given_order() -> None:
    """A 'model' whose logit for class 0 is 4 * pixel 0: only changing pixel 0 moves the curve,
    so the curve jumps at the position of pixel 0 in the order."""

    def model(x: torch.Tensor) -> torch.Tensor:
        first = x.flatten(1)[:, :1]
        return torch.cat([4 * first, torch.zeros_like(first)], dim=1)

    x = torch.ones(2, 1, 2, 2, dtype=torch.float64)
    order = torch.tensor([[0, 1, 2, 3], [3, 2, 0, 1]])
    curve = lab.probability_curve(model, x, torch.zeros_like(x), order, torch.tensor([0, 0]))
    high, low = torch.sigmoid(torch.tensor(4.0)).item(), 0.5
    expected = [high, (low + high) / 2, (low + high) / 2, low, low]
    torch.testing.assert_close(curve, torch.tensor(expected, dtype=torch.float64))
    assert lab.area_under(torch.tensor([1.0, 1.0, 0.0])) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channels": 0}, "channels"),
        ({"ig_steps": 1}, "ig_steps"),
        ({"ig_method": "simpson"}, "ig_method"),
        ({"explain": 0}, "explain"),
        ({"test_fraction": 0.9}, "test_fraction"),
        ({"blur_sigma": 0.0}, "blur_sigma"),
    ],
)
def test_bad_settings_raise_lab_error(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))


def test_every_setting_is_explained_in_both_languages() -> None:
    from dataclasses import fields

    from groundup.i18n import LAB_FIELDS

    own = {f.name for f in fields(lab.Config)} - {f.name for f in fields(runner.LabConfig)}
    for name in own - set(LAB_FIELDS):
        help_text = lab.FIELD_HELP[name]
        assert help_text.en and help_text.de and help_text.en != help_text.de
