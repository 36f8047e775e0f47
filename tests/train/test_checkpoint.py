from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from groundup.train.checkpoint import load_checkpoint, save_checkpoint


def model_and_optimizer(seed: int) -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2)


def train_a_little(model: nn.Module, optimizer: torch.optim.Optimizer, steps: int) -> None:
    for _ in range(steps):
        loss = model(torch.randn(16, 4)).pow(2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


def draws(generator: torch.Generator) -> tuple[object, ...]:
    """One number from every random source a training run uses."""
    return (
        random.random(),
        float(np.random.rand()),
        torch.rand(3).tolist(),
        torch.rand(3, generator=generator).tolist(),
    )


def test_round_trip_restores_weights_optimizer_step_config_and_every_rng(tmp_path: Path) -> None:
    model, optimizer = model_and_optimizer(seed=0)
    train_a_little(model, optimizer, steps=3)
    batches = torch.Generator().manual_seed(5)
    torch.rand(7, generator=batches)
    path = save_checkpoint(
        tmp_path / "ckpt.pt",
        model,
        optimizer,
        step=3,
        config={"lr": 1e-2, "name": "test", "decay": None},
        generators={"batches": batches},
        extra={"history": [{"step": 3, "val_loss": 1.5}]},
    )
    expected_draws = draws(batches)
    train_a_little(model, optimizer, steps=2)
    expected_weights = [p.detach().clone() for p in model.parameters()]

    fresh, fresh_optimizer = model_and_optimizer(seed=1)  # different weights to start with
    fresh_batches = torch.Generator()
    torch.rand(100)  # move the global generators away from the saved state
    np.random.rand(100)
    random.random()
    ckpt = load_checkpoint(path, fresh, fresh_optimizer, generators={"batches": fresh_batches})
    assert ckpt["step"] == 3 and ckpt["config"] == {"lr": 1e-2, "name": "test", "decay": None}
    assert ckpt["extra"] == {"history": [{"step": 3, "val_loss": 1.5}]}
    assert draws(fresh_batches) == expected_draws
    # continuing from the checkpoint repeats the two steps exactly, dropout masks included
    load_checkpoint(path, fresh, fresh_optimizer, generators={"batches": fresh_batches})
    draws(fresh_batches)
    train_a_little(fresh, fresh_optimizer, steps=2)
    for got, want in zip(fresh.parameters(), expected_weights, strict=True):
        assert torch.equal(got, want)


def test_a_crash_while_writing_leaves_the_old_checkpoint_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, optimizer = model_and_optimizer(seed=0)
    path = save_checkpoint(tmp_path / "ckpt.pt", model, optimizer, step=1, config={})
    old_weights = [p.detach().clone() for p in model.parameters()]
    train_a_little(model, optimizer, steps=2)

    real_save = torch.save

    def crash_half_way(obj: object, f: str | Path) -> None:
        real_save(obj, f)
        data = Path(f).read_bytes()
        Path(f).write_bytes(data[: len(data) // 2])  # half a file on disk, then the crash
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", crash_half_way)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(path, model, optimizer, step=3, config={})
    monkeypatch.undo()

    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left over
    fresh, fresh_optimizer = model_and_optimizer(seed=1)
    ckpt = load_checkpoint(path, fresh, fresh_optimizer)
    assert ckpt["step"] == 1
    for got, want in zip(fresh.parameters(), old_weights, strict=True):
        assert torch.equal(got, want)


def test_checkpoints_load_with_weights_only(tmp_path: Path) -> None:
    """Nothing but tensors and plain Python values inside: safe to open from anywhere."""
    model, optimizer = model_and_optimizer(seed=0)
    train_a_little(model, optimizer, steps=1)
    path = save_checkpoint(
        tmp_path / "c.pt", model, optimizer, 1, {"a": 1}, {"g": torch.Generator()}
    )
    ckpt = torch.load(path, weights_only=True)
    assert set(ckpt) == {"model", "optimizer", "step", "config", "rng", "generators", "extra"}
