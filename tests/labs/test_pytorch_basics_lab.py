"""The pytorch_basics lab at the micro preset.

What it must show (measured at micro, seed 0: gap 6e-17, final loss 0.215, test accuracy
0.936, sine test MSE 0.0026 against 0.0117 for repeating the last value):
- the NumPy engine and PyTorch, same init and batches in float64, give the same loss curve
  (every epoch within 1e-10);
- the digits MLP learned: mean training loss of the last epoch below 0.5 (chance level is
  ln 10 = 2.30) and test accuracy >= 85 %;
- the sliding-window regression beats the naive forecast "next value = last value" by at
  least a factor of two on the held-out end of the series.
"""

from __future__ import annotations

import json

import pytest

from groundup.labs import runner
from groundup.labs.pytorch_basics import FIELD_HELP, PRESETS, Config, run
from groundup.labs.runner import LabError


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_engine_and_torch_coincide_and_both_parts_learn(tmp_path) -> None:
    m = run(micro(tmp_path)).metrics
    assert m["max_loss_gap"] < 1e-10
    assert m["torch_final_loss"] < 0.5
    assert m["test_accuracy"] >= 0.85
    assert m["series_final_mse"] < 0.2 * m["series_first_mse"]
    assert m["series_test_mse"] < 0.5 * m["last_value_test_mse"]
    assert m["numpy_seconds_per_epoch"] > 0 and m["torch_seconds_per_epoch"] > 0

    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    for r in records:
        assert r["numpy_loss"] == pytest.approx(r["torch_loss"], abs=1e-10)
    for name in ("loss_overlay.png", "sine_prediction.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "overrides",
    [{"window": 0}, {"series_length": 30, "window": 20}, {"lr": 0.0}, {"device": "cuda"}],
)
def test_bad_settings_are_refused_clearly(tmp_path, overrides) -> None:
    with pytest.raises(LabError):
        run(micro(tmp_path, **overrides))


def test_every_extra_field_is_explained() -> None:
    from dataclasses import fields

    from groundup.i18n import LAB_FIELDS

    for f in fields(Config):
        if f.name not in ("preset", "seed", "device", "out", "data", "quiet"):
            assert f.name in LAB_FIELDS or f.name in FIELD_HELP, f.name
    for msg in FIELD_HELP.values():
        assert msg.en != msg.de
