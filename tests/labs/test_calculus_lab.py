"""The calculus lab at its micro preset: the V of finite-difference errors sits where the theory
puts it, the complex step stays exact, gradient descent finds the valley floor, and the chain
rule table agrees with torch.autograd."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from groundup.i18n import LAB_FIELDS
from groundup.labs import calculus as lab
from groundup.labs import runner


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_shows_the_error_trade_off_descent_and_chain_rule(tmp_path: Path) -> None:
    report = lab.run(micro(tmp_path))
    m = report.metrics
    eps = np.finfo(float).eps
    # (a) The bottom of each V lies within a factor 10 of the textbook optimum: sqrt(eps) ~ 1.5e-8
    # for forward and eps^(1/3) ~ 6e-6 for central differences (the constants |f|, |f''|,
    # |f'''| shift it a little). Central beats forward at its best by more than 100 times.
    assert math.sqrt(eps) / 10 < m["best_h_forward"] < math.sqrt(eps) * 10
    assert eps ** (1 / 3) / 10 < m["best_h_central"] < eps ** (1 / 3) * 10
    assert m["min_error_central"] < m["min_error_forward"] / 100
    # Measured orders on the truncation side: 1 and 2 within 0.1.
    assert abs(m["order_forward"] - 1) < 0.1 and abs(m["order_central"] - 2) < 0.1
    # The complex step: a few units of round-off for every h <= 1e-8 (f'(1.5) is about 4.1).
    assert m["max_error_complex_small_h"] < 4e-15
    # (b) Descent drops f from 8 by more than a factor 1000; numerical gradient = analytic.
    assert m["gd_start"] > 8 and m["gd_final"] < m["gd_start"] / 1000
    assert m["gradient_error"] < 1e-8
    # (c) Hand-made backward pass = dual numbers = torch.autograd to round-off.
    assert m["chain_rule_error"] < 1e-14
    assert "dL/dnode" in report.text and "tanh(w)" in report.text

    for name in ("errors", "gradient_field", "chain_rule"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    parts = [r["part"] for r in records]
    assert parts.count("steps") == 31 and parts.count("descent") == 60
    assert parts[-1] == "chain_rule"
    assert json.loads((tmp_path / "config.json").read_text())["gd_steps"] == 60


def test_chain_rule_table_by_hand() -> None:
    # L = tanh(x y + sin x) y at x = 0: u = 0, v = 0, w = 0, t = 0, L = 0.
    # dL/dy = t + y * (1 - t^2) * x = 0; dL/dx = y * (1 - t^2) * (y + cos 0) = y (y + 1).
    rows, adjoint = lab.chain_rule_table(0.0, 2.0)
    assert [r["node"] for r in rows] == ["x", "y", "u", "v", "w", "t", "L"]
    assert adjoint["x"] == pytest.approx(2.0 * 3.0) and adjoint["y"] == pytest.approx(0.0)
    assert adjoint["L"] == 1.0 and adjoint["t"] == 2.0


def test_valley_gradient_is_the_derivative_of_valley() -> None:
    from groundup.math.calculus import gradient

    for point in ([0.0, 0.0], [-1.5, 1.8], [1.0, 0.5], [0.3, -0.7]):
        p = np.array(point)
        np.testing.assert_allclose(gradient(lab.valley, p), lab.valley_gradient(p), atol=1e-8)
    assert lab.valley(np.array([1.0, 0.5])) == 0.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"function": "tan"}, "function"),
        ({"point": 2.5}, "point"),
        ({"n_steps": 3}, "n_steps"),
        ({"gd_steps": 0}, "gd_steps"),
        ({"lr": 0.5}, "lr"),
        ({"data": "some.txt"}, "--data"),
        ({"device": "cuda"}, "cpu"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))


def test_every_setting_is_explained() -> None:
    base = {f.name for f in dataclasses.fields(runner.LabConfig)}
    own = {f.name for f in dataclasses.fields(lab.Config)} - base
    assert own - set(LAB_FIELDS) <= set(lab.FIELD_HELP)
    assert all(msg.en != msg.de for msg in lab.FIELD_HELP.values())
