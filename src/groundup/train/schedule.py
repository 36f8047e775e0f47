"""Learning rate: a linear warm-up, then a cosine decay down to a floor (nanoGPT's `get_lr`).

Warm-up keeps the first updates small while Adam's moment estimates are still noise; the
cosine then lowers the rate smoothly so the last steps settle into a minimum.

    it < warmup:              lr = max_lr * (it + 1) / (warmup + 1)
    warmup <= it <= decay:    lr = min_lr + (max_lr - min_lr) * (1 + cos(pi * r)) / 2,
                              r = (it - warmup) / (decay - warmup)
    it > decay:               lr = min_lr
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class WarmupCosine:
    max_lr: float
    min_lr: float
    warmup_iters: int
    decay_iters: int  # the step at which the cosine reaches min_lr

    def __post_init__(self) -> None:
        if self.warmup_iters < 0 or self.decay_iters < self.warmup_iters:
            raise ValueError("need 0 <= warmup_iters <= decay_iters")

    def __call__(self, it: int) -> float:
        if it < self.warmup_iters:
            return self.max_lr * (it + 1) / (self.warmup_iters + 1)
        if it >= self.decay_iters:
            return self.min_lr
        ratio = (it - self.warmup_iters) / (self.decay_iters - self.warmup_iters)
        coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))  # from 1 down to 0
        return self.min_lr + coeff * (self.max_lr - self.min_lr)
