"""The reinforcement-learning lab at its micro preset: 160 episodes of REINFORCE with a
baseline already balance the pole far longer than a random policy does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from groundup.labs import reinforcement_learning as lab
from groundup.labs import runner


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_learns_to_balance(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = lab.run(micro(tmp_path))
    m = report.metrics
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back
    # A random policy lasts ~22 steps, and so does the untrained one in its first batch.
    assert 19 < m["random_return"] < 25
    assert m["first_batch_return"] < 35
    # After 20 updates (160 episodes) the sampled policy averages at least 40 steps more than
    # random over 50 fresh episodes (measured: 128), and greedy play is no worse than 60.
    assert m["eval_return"] > m["random_return"] + 40
    assert m["eval_return_greedy"] > 60
    assert m["final_moving_average"] > m["first_batch_return"] + 20
    # On the same batches, the baseline makes the per-episode gradient less noisy.
    assert m["variance_ratio_median"] > 1.3
    assert "eval_return_no_baseline" not in m  # micro trains one variant only

    for name in ("returns", "gradient_variance", "behaviour"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    updates = [r for r in records if "batch_return" in r]
    assert len(updates) == lab.PRESETS["micro"]["updates"]
    assert [r["episodes"] for r in updates][-1] == m["training_episodes"] == 160
    assert report.artifacts["results"].read_text().startswith("evaluation over 50 episodes")


def test_both_variants_start_from_the_same_policy(tmp_path: Path) -> None:
    """With and without the baseline, the first batch is played by the same initial policy
    with the same random numbers, so the two runs' first returns are identical."""
    report = lab.run(micro(tmp_path, updates=1, compare=True, eval_episodes=5))
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    first = {r["baseline"]: r["batch_return"] for r in records if r.get("update") == 1
             and "batch_return" in r}  # fmt: skip
    assert set(first) == {True, False} and first[True] == first[False]
    assert "eval_return_no_baseline" in report.metrics


def test_moving_average() -> None:
    assert lab.moving_average([1, 2, 3, 4], 2).tolist() == [1.0, 1.5, 2.5, 3.5]
    assert lab.moving_average([5.0], 100).tolist() == [5.0]
    totals = [0.0] * 100 + [300.0] * 100  # the average over 100 reaches 195 at episode 165
    assert lab.episodes_to_reach(totals, 195) == 165
    assert np.isnan(lab.episodes_to_reach(totals[:150], 195))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gamma": 1.5}, "gamma"),
        ({"episodes_per_update": 1}, "episodes_per_update"),
        ({"device": "cuda"}, "CPU only"),
        ({"data": "episodes.npz"}, "--data"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))
