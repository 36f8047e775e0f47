"""Regularization: dropout, the L2 penalty and early stopping.

- Dropout (Srivastava et al. 2014): in training, every activation is zeroed with probability
  p. This file uses *inverted* dropout, as torch does: the survivors are multiplied by
  1 / (1 - p) during training, so the expected activation is unchanged and inference is the
  identity, with no rescaling at test time.
- The L2 penalty (weight_decay / 2) * sum ||w||^2 adds weight_decay * w to every gradient. For
  plain SGD that is exactly torch.optim.SGD(weight_decay=...); for Adam it is not the same as
  AdamW's decoupled decay (Loshchilov & Hutter 2019).
- Early stopping (Goodfellow et al., "Deep Learning", section 7.8): watch the validation loss,
  stop after `patience` epochs without improvement, and go back to the best weights.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable

import torch
from torch import Tensor, nn

# ---------------------------------------------------------------- dropout


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, generator: torch.Generator | None = None
) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only).

    E[dropout(x)] = x elementwise; in eval mode (training=False) x comes back unchanged.
    A `generator` makes the mask reproducible.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0  # everything dropped; 1 / (1 - p) would be infinite
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p  # kept w.p. 1 - p
    return x * keep.to(x.dtype) / (1.0 - p)


class Dropout(nn.Module):
    """Inverted dropout as a layer: active in `train()` mode, the identity in `eval()` mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---------------------------------------------------------------- L2 penalty


def l2_penalty(parameters: Iterable[Tensor], weight_decay: float) -> Tensor:
    """(weight_decay / 2) * sum of squares of all `parameters`; its gradient is weight_decay * w.

    Add it to the loss. Which parameters to pass is a choice: biases and normalization gains
    are usually left out, since shrinking them does not make the function simpler.
    """
    parameters = list(parameters)
    if not parameters:
        raise ValueError("l2_penalty needs at least one parameter")
    total = sum((w.pow(2).sum() for w in parameters), torch.zeros((), device=parameters[0].device))
    return 0.5 * weight_decay * total


def decay_and_no_decay(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """The usual split: matrices (and filters) get weight decay; biases and norm gains do not."""
    decay, no_decay = [], []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (decay if parameter.dim() >= 2 else no_decay).append(parameter)
    return decay, no_decay


# ---------------------------------------------------------------- early stopping


class EarlyStopping:
    """Stop when a monitored value (default: validation loss, lower is better) stops improving.

    Call `step(value, model)` once per epoch. A value counts as an improvement if it beats the
    best so far by more than `min_delta`; after `patience` epochs in a row without one, `step`
    returns True. With restore_best=True the best model's state is kept (a copy) and
    `restore(model)` loads it back.
    """

    def __init__(
        self,
        patience: int = 10,
        min_delta: float = 0.0,
        mode: str = "min",
        restore_best: bool = True,
    ) -> None:
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.restore_best = restore_best
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1  # 0-based index of the step call with the best value
        self.epoch = -1
        self.bad_epochs = 0  # calls in a row without improvement
        self.stopped = False
        self.best_state: dict[str, Tensor] | None = None

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value: float, model: nn.Module | None = None) -> bool:
        """Record this epoch's value; True means: stop training now."""
        self.epoch += 1
        if self.improved(value):
            self.best, self.best_epoch, self.bad_epochs = value, self.epoch, 0
            if self.restore_best and model is not None:
                self.best_state = copy.deepcopy(model.state_dict())  # a snapshot, not a view
        else:
            self.bad_epochs += 1
        self.stopped = self.bad_epochs >= self.patience
        return self.stopped

    def restore(self, model: nn.Module) -> nn.Module:
        """Load the best weights seen so far back into `model` (if any were kept)."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
        return model
