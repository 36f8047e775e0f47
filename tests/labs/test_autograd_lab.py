"""The autograd lab at the micro preset learns to read digits.

Thresholds (chance is 10 % on ten balanced classes): test accuracy >= 80 % after three
epochs, and the training loss ends below 40 % of the loss of the untrained network
(measured: about 89-93 % accuracy, loss 2.3 -> 0.55-0.65).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from groundup.labs import runner
from groundup.labs.autograd import PRESETS, Config, load_data, run, split
from groundup.labs.runner import LabError


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_learns_digits_well_above_chance(tmp_path) -> None:
    report = run(micro(tmp_path))
    m = report.metrics
    assert m["test_accuracy"] >= 0.80
    assert m["final_loss"] < 0.4 * m["initial_loss"]
    assert m["train_examples"] + m["test_examples"] == 1797
    assert m["test_examples"] == 360  # 20 % held out

    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert records[-1]["test_accuracy"] == m["test_accuracy"]
    for name in ("loss_plot", "accuracy_plot"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    weights = np.load(report.artifacts["weights"])
    assert len(weights.files) == 4  # two Linear layers, weight and bias each


def test_split_is_stratified() -> None:
    """Every digit keeps its share of the data in the held-out set (within one example)."""
    x, y = load_data(Config())
    _, x_test, y_train, y_test = split(x, y, 0.2, seed=0)
    assert len(x_test) == len(y_test) == 360
    expected = np.bincount(y) * 0.2
    assert np.abs(np.bincount(y_test, minlength=10) - expected).max() <= 1
    assert len(y_train) + len(y_test) == len(y)


def test_runs_on_a_user_npz_file(tmp_path) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=200)
    x = rng.standard_normal((200, 3)) + 3.0 * y[:, None]  # two well-separated blobs
    np.savez(tmp_path / "blobs.npz", X=x, y=y)
    report = run(micro(tmp_path / "out", data=str(tmp_path / "blobs.npz"), epochs=20))
    assert report.metrics["test_accuracy"] >= 0.95


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"device": "cuda"}, "CPU"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"activation": "gelu"}, "activation"),
        ({"test_fraction": 1.5}, "test_fraction"),
        ({"data": "/nonexistent/file.npz"}, ".npz"),
    ],
)
def test_bad_settings_raise_lab_errors(tmp_path, overrides, words: str) -> None:
    with pytest.raises(LabError, match=words):
        run(micro(tmp_path, **overrides))
