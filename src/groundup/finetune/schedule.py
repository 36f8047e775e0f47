"""How fast each weight moves while fine-tuning, and when to stop.

Three small tools that every fine-tuning loop here uses:

    linear_warmup_decay   the learning-rate factor of BERT's recipe: 0 -> 1 linearly over the
                          warm-up steps, then linearly back to 0 at the last step
                          (= transformers.get_linear_schedule_with_warmup)
    layerwise_lr_groups   optimizer parameter groups with layer-wise learning-rate decay
                          (Howard & Ruder 2018 "discriminative fine-tuning"; Clark et al. 2020):
                          the head and the top layer get base_lr, every layer below is
                          multiplied by `decay` once more, the embeddings get the smallest rate
    EarlyStopping         stop when the dev score has not improved for `patience` evaluations

Why warm-up: the new head starts random, so its first gradients are large and would wreck
the pretrained weights before Adam's moment estimates mean anything. Why layer-wise decay:
lower layers hold general features (words, syntax) worth keeping; upper layers are the most
task-specific and may move the most.
"""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from groundup.models.bert import Bert


def linear_warmup_decay(step: int, warmup_steps: int, total_steps: int) -> float:
    """Factor on the peak learning rate at optimizer step `step` (0-based).

    step < warmup:  step / warmup                          (0 at the very first step)
    otherwise:      (total - step) / (total - warmup), never below 0
    """
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def find_encoder(model: nn.Module) -> Bert:
    """The BERT encoder inside `model` (the model itself, or e.g. a classifier's `.bert`)."""
    for module in model.modules():
        if isinstance(module, Bert):
            return module
    raise TypeError(f"{type(model).__name__} contains no groundup.models.bert.Bert")


def takes_weight_decay(module: nn.Module, parameter_name: str) -> bool:
    """Weight decay shrinks matrices only: biases and LayerNorm gains/shifts are exempt
    (pulling a LayerNorm gain towards 0 would switch the feature off, not regularise it)."""
    return parameter_name != "bias" and not isinstance(module, nn.LayerNorm)


def layerwise_lr_groups(
    model: nn.Module, base_lr: float, decay: float = 1.0, weight_decay: float = 0.0
) -> list[dict[str, Any]]:
    """Parameter groups for torch.optim.AdamW with layer-wise learning-rate decay.

    With L encoder layers, numbered 0 (bottom) to L - 1 (top):
        head, pooler, top layer:  base_lr                  (everything outside the encoder
                                                            counts as head)
        layer i:                  base_lr * decay ** (L - 1 - i)
        embeddings:               base_lr * decay ** L     (the lowest rate)
    decay = 1 gives every parameter base_lr. Biases and LayerNorm parameters get weight
    decay 0, all others `weight_decay`. Every trainable parameter is in exactly one group;
    frozen ones (requires_grad False) are left out. Each group carries "names" (the
    parameter names) besides "params", "lr" and "weight_decay".
    """
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
    encoder = find_encoder(model)
    num_layers = len(encoder.layers)
    depth: dict[int, int] = {}  # id(parameter) -> how many layers below the top
    for parameter in encoder.embeddings.parameters():
        depth[id(parameter)] = num_layers
    for index, layer in enumerate(encoder.layers):
        for parameter in layer.parameters():
            depth[id(parameter)] = num_layers - 1 - index

    groups: dict[tuple[int, bool], dict[str, Any]] = {}
    for module_name, module in model.named_modules():
        for name, parameter in module.named_parameters(recurse=False):
            if not parameter.requires_grad:
                continue
            below_top = depth.get(id(parameter), 0)  # pooler and head: the top rate
            decays = takes_weight_decay(module, name)
            key = (below_top, decays)
            if key not in groups:
                groups[key] = {
                    "params": [],
                    "names": [],
                    "lr": base_lr * decay**below_top,
                    "weight_decay": weight_decay if decays else 0.0,
                }
            groups[key]["params"].append(parameter)
            groups[key]["names"].append(f"{module_name}.{name}" if module_name else name)
    # top of the network first, both weight-decay variants next to each other
    return [groups[key] for key in sorted(groups)]


class EarlyStopping:
    """Stop when the monitored score has not improved for `patience` evaluations in a row.

    mode "max" for scores (accuracy, F1), "min" for losses. Only a strict improvement counts:
    a tie with the best value is not progress (and does not move best_step), so a plateau
    ends training. NaN never improves.

        stopper = EarlyStopping(patience=2, mode="max")
        for epoch in ...:
            if stopper.step(dev_accuracy):
                break
        stopper.best, stopper.best_step  # the best value and the step (0-based) it came at
    """

    def __init__(self, patience: int, mode: str = "max") -> None:
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.patience, self.mode = patience, mode
        self.best: float | None = None
        self.best_step: int | None = None
        self.improved = False  # whether the last step() set a new best (time to save weights)
        self.steps = 0
        self.bad_steps = 0  # evaluations since the last improvement

    def is_better(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def step(self, value: float) -> bool:
        """Record one evaluation; True when training should stop now."""
        value = float(value)
        self.improved = self.is_better(value)
        if self.improved:
            self.best, self.best_step, self.bad_steps = value, self.steps, 0
        else:
            self.bad_steps += 1
        self.steps += 1
        # patience 2: improve, worse, worse -> stop (as Keras' EarlyStopping)
        return not self.improved and self.bad_steps >= self.patience
