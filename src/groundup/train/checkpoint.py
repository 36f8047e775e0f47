"""Checkpoints that resume training exactly where it stopped.

Besides the weights, exact resumption needs the optimizer state (Adam's moments and step
counts), the step number, and every random number generator in play: Python's, NumPy's,
torch's global one (dropout) and the generators that draw the batches. The file is written
to a temporary name and renamed into place, so a crash mid-write leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from groundup.files import atomic_write


def rng_state() -> dict[str, Any]:
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    return {
        "python": random.getstate(),
        # plain ints and a tensor, so the file loads with weights_only=True
        "numpy": (
            np_name,
            torch.from_numpy(np_keys.astype(np.int64)),
            np_pos,
            np_has_gauss,
            np_gauss,
        ),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    name, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    step: int,
    config: dict[str, Any],
    generators: dict[str, torch.Generator] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write everything needed to continue training after `step` optimizer steps."""
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "config": config,
        "rng": rng_state(),
        "generators": {name: g.get_state() for name, g in (generators or {}).items()},
        "extra": extra or {},
    }
    return atomic_write(path, lambda tmp: torch.save(checkpoint, tmp))


def load_checkpoint(
    path: str | Path,
    model: nn.Module | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    generators: dict[str, torch.Generator] | None = None,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Read a checkpoint, load it into whatever is given, and return the whole dict.

    Everything is read onto the CPU (random states must live there); load_state_dict then
    copies the weights and optimizer moments to wherever the model already is."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if model is not None:
        model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    for name, generator in (generators or {}).items():
        generator.set_state(checkpoint["generators"][name])
    if restore_rng:
        set_rng_state(checkpoint["rng"])
    return checkpoint
