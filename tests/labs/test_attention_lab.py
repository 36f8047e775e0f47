"""The attention lab at its micro preset learns to reverse, and its attention shows how."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.labs import attention as lab
from groundup.labs import runner


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


@pytest.mark.parametrize("task", ["reverse", "copy"])
def test_micro_learns_to_look_back(tmp_path: Path, task: str) -> None:
    threads = torch.get_num_threads()
    report = lab.run(micro(tmp_path, task=task))
    m = report.metrics
    # Chance is 1/16 and the untrained loss about ln(16) = 2.77. In 100 steps the loss must
    # drop by at least 1.5 nats and the answers must be right far more often than chance.
    assert m["first_loss"] - m["final_eval_loss"] > 1.5
    assert m["token_accuracy"] > m["chance_accuracy"] + 0.6
    assert m["sequence_accuracy"] > 0.3
    # The answer queries must look at the input token they copy (the (anti-)diagonal).
    assert m["attention_to_source"] > 0.6
    assert torch.get_num_threads() == threads  # the lab gives its thread setting back

    for name in ("loss", "attention_map", "metrics"):
        assert report.artifacts[name].stat().st_size > 0
    assert report.artifacts["attention_map"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    assert len(records) == lab.PRESETS["micro"]["steps"]
    assert json.loads((tmp_path / "config.json").read_text())["task"] == task
    assert len(report.text.splitlines()) == 4


def test_data_follows_the_task() -> None:
    cfg = lab.Config(seq_len=4, vocab=5)
    batch = lab.make_batch(cfg, 3, torch.Generator().manual_seed(0))
    source, delimiter, answer = batch[:, :4], batch[:, 4], batch[:, 5:]
    assert torch.equal(answer, source.flip(1)) and (delimiter == 5).all()
    assert (source < 5).all()
    assert torch.equal(lab.source_positions(cfg), torch.tensor([3, 2, 1, 0]))


def test_attention_to_source_is_one_for_a_perfect_anti_diagonal() -> None:
    cfg = lab.Config(seq_len=3)
    weights = torch.zeros(2, 1, 6, 6)
    for j, source in enumerate([2, 1, 0]):
        weights[:, :, 3 + j, source] = 1.0
    assert lab.attention_to_source([weights], cfg) == 1.0
    assert lab.attention_to_source([weights], lab.Config(seq_len=3, task="copy")) < 1.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"task": "sort"}, "unknown task"),
        ({"seq_len": 1}, "seq_len"),
        ({"d_model": 30, "n_heads": 4}, "divisible"),
        ({"data": "some.txt"}, "--data"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(runner.LabError, match=message):
        lab.run(micro(tmp_path, **overrides))
