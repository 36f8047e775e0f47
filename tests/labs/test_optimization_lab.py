"""The optimization lab at its micro preset: the figures it reports follow the theory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundup.labs import optimization as lab
from groundup.labs import runner


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_shows_what_the_lesson_claims(tmp_path: Path) -> None:
    report = lab.run(micro(tmp_path))
    m = report.metrics
    # Two dimensions, step 2/(L+mu): both error components shrink by exactly (k-1)/(k+1).
    assert m["gd_rate_measured"] == pytest.approx(m["gd_rate_theory"], rel=1e-6)
    # Newton solves a quadratic in one step; Polyak's momentum beats plain GD by 10^4 after
    # 60 steps (rate 0.63 against 0.90), Nesterov by 10^2.
    assert m["quad_steps_to_1e-6_newton"] == 1 and m["quad_error_newton"] < 1e-12
    assert m["quad_error_momentum"] < m["quad_error_gd"] / 1e4
    assert m["quad_error_nesterov"] < m["quad_error_gd"] / 1e2
    # Rosenbrock from f = 12.5: Newton arrives, momentum is 100x ahead of GD at the same lr.
    assert m["rosenbrock_newton"] < 1e-20
    for name in ("momentum", "nesterov"):
        assert m[f"rosenbrock_{name}"] < m["rosenbrock_gd"] / 100
    for name in lab.METHODS:
        assert m[f"rosenbrock_{name}"] < m["rosenbrock_start"] / 2
    # Step sizes: too small crawls, 1/L is slower than optimal, above 2/L diverges.
    start = m["lr_start_gap"]
    assert m["lr_2.05/L_final_gap"] > 100 * start
    assert m["lr_2/(L+mu)_final_gap"] < 1e-6 < m["lr_1/L_final_gap"] < m["lr_0.05/L_final_gap"]
    assert m["lr_0.05/L_final_gap"] < start
    # SGD: larger batches, less noise; every batch size gets within 1 % of the start.
    excess = [m[f"sgd_excess_batch_{s}"] for s in (1, 10, 100)]
    assert excess[0] > excess[1] > excess[2] > 0
    assert excess[0] < m["sgd_start_excess"] / 100

    for name in ("paths", "learning_rates", "sgd_batch_size"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    assert len(records) == 2 * len(lab.METHODS) + 4 + 3
    assert report.text.splitlines()[1].startswith("gd")


def test_every_field_without_shared_help_is_explained() -> None:
    from dataclasses import fields

    from groundup.i18n import LAB_FIELDS

    own = {f.name for f in fields(lab.Config)} - {f.name for f in fields(runner.LabConfig)}
    assert own - set(LAB_FIELDS) <= set(lab.FIELD_HELP)
    for msg in lab.FIELD_HELP.values():
        assert msg.en and msg.de and msg.en != msg.de


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch_sizes": "1,x"}, "batch_sizes"),
        ({"batch_sizes": "5000"}, "batch_sizes"),
        ({"condition": 0.5}, "condition"),
        ({"sgd_lr": 0.0}, "sgd_lr"),
        ({"data": "points.csv"}, "--data"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))
