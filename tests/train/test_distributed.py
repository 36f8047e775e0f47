"""Two processes on the CPU (gloo) must take the same steps as one process at the same
global batch: each rank trains on half of every batch and the gradients are averaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.train import distributed
from groundup.train.trainer import read_metrics

SETTINGS = [
    "--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--block-size", "16",
    "--batch-size", "8", "--grad-accum-steps", "2", "--max-iters", "6",
    "--warmup-iters", "2", "--eval-interval", "3", "--eval-iters", "2", "--log-interval", "1", "--lr", "3e-3",
    "--quiet",
]  # fmt: skip
WORLD_SIZE = 2


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("distributed")
    data = root / "text.txt"
    data.write_text("It was the best of times, it was the worst of times. " * 60)
    common = [*SETTINGS, "--data", str(data)]
    # both strategies in one start-up of the two processes: importing torch costs seconds
    distributed.launch(
        WORLD_SIZE,
        [*common, "--out", str(root / "ddp")],
        [*common, "--fsdp", "--out", str(root / "fsdp")],
    )
    distributed.main([*SETTINGS, "--data", str(data), "--out", str(root / "single")])
    return root


def summary(run: Path) -> dict[str, object]:
    return json.loads((run / "summary.json").read_text())


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_two_ranks_match_one_process_at_the_same_global_batch(runs: Path, strategy: str) -> None:
    single, multi = summary(runs / "single"), summary(runs / strategy)
    assert single["strategy"] == "single" and single["world_size"] == 1
    assert multi["strategy"] == strategy and multi["world_size"] == WORLD_SIZE
    assert multi["backend"] == "gloo" and multi["global_batch"] == single["global_batch"] == 16
    # fp32 gradients summed in another order (two halves, then an all-reduce): equal to
    # rounding. Tolerance: 1e-5 on losses of about 3, 1e-5 on weights after 6 AdamW steps.
    assert multi["val_loss"] == pytest.approx(single["val_loss"], abs=1e-5)
    want = torch.load(runs / "single" / "model.pt", weights_only=True)
    got = torch.load(runs / strategy / "model.pt", weights_only=True)
    assert got.keys() == want.keys()
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-5, msg=name)
    # the logged training losses are the means over all ranks, step by step
    losses = [
        [r["loss"] for r in read_metrics(runs / run / "metrics.jsonl") if r["kind"] == "train"]
        for run in ("single", strategy)
    ]
    assert len(losses[0]) == 6 and losses[1] == pytest.approx(losses[0], abs=1e-5)
    # the weights moved: the comparison is not between two untrained models
    assert (
        multi["val_loss"]
        < json.loads((runs / strategy / "metrics.jsonl").read_text().splitlines()[0])["val_loss"]
    )


def test_ddp_writes_a_checkpoint_and_fsdp_does_not(runs: Path) -> None:
    assert torch.load(runs / "ddp" / "ckpt.pt", weights_only=True)["step"] == 6
    assert not (runs / "fsdp" / "ckpt.pt").exists()
