from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.train.schedule import WarmupCosine


def test_values_at_the_key_points() -> None:
    lr = WarmupCosine(max_lr=1e-3, min_lr=1e-4, warmup_iters=100, decay_iters=2000)
    assert lr(0) == pytest.approx(1e-3 / 101, rel=1e-12)  # never exactly 0: no wasted step
    assert lr(49) == pytest.approx(1e-3 * 50 / 101, rel=1e-12)
    assert lr(99) == pytest.approx(1e-3 * 100 / 101, rel=1e-12)
    assert lr(100) == pytest.approx(1e-3, rel=1e-12)  # the peak
    assert lr(1050) == pytest.approx((1e-3 + 1e-4) / 2, rel=1e-12)  # half way down the cosine
    quarter = 1e-4 + 0.5 * (1 + math.cos(math.pi / 4)) * 9e-4
    assert lr(100 + 1900 // 4) == pytest.approx(quarter, rel=1e-12)
    assert lr(2000) == pytest.approx(1e-4, rel=1e-12)
    assert lr(5000) == 1e-4  # flat after the decay


def test_no_warmup_starts_at_the_peak() -> None:
    lr = WarmupCosine(max_lr=0.5, min_lr=0.0, warmup_iters=0, decay_iters=10)
    assert lr(0) == 0.5 and lr(10) == 0.0 and lr(5) == pytest.approx(0.25)


def test_rejects_decay_before_warmup_ends() -> None:
    with pytest.raises(ValueError):
        WarmupCosine(1.0, 0.1, warmup_iters=10, decay_iters=5)


@pytest.mark.parametrize(("warmup", "decay"), [(100, 1000), (1, 50), (7, 7 + 33), (0, 64)])
def test_matches_torch_linearlr_then_cosineannealinglr(warmup: int, decay: int) -> None:
    """PyTorch's own schedulers, chained, give the same rate at every step up to the end of
    the decay (after it, CosineAnnealingLR would climb again; ours stays at min_lr)."""
    max_lr, min_lr = 1e-3, 1e-4
    ours = WarmupCosine(max_lr, min_lr, warmup, decay)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=max_lr)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=decay - warmup, eta_min=min_lr
    )
    if warmup > 0:
        # factor (it + 1) / (warmup + 1) for it = 0 .. warmup - 1
        linear = torch.optim.lr_scheduler.LinearLR(
            optimizer,
            start_factor=1 / (warmup + 1),
            end_factor=warmup / (warmup + 1),
            total_iters=max(warmup - 1, 1),
        )
        scheduler = torch.optim.lr_scheduler.SequentialLR(
            optimizer, [linear, cosine], milestones=[warmup]
        )
    else:
        scheduler = cosine
    for it in range(decay + 1):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(ours(it), abs=1e-9, rel=0), it
        optimizer.step()
        scheduler.step()


@settings(max_examples=50, deadline=None)
@given(
    warmup=st.integers(0, 50),
    span=st.integers(1, 500),
    max_lr=st.floats(1e-5, 1.0),
    ratio=st.floats(0.0, 1.0),
)
def test_rises_then_falls_and_stays_between_min_and_max(
    warmup: int, span: int, max_lr: float, ratio: float
) -> None:
    min_lr = ratio * max_lr
    lr = WarmupCosine(max_lr, min_lr, warmup, warmup + span)
    values = [lr(it) for it in range(warmup + span + 5)]
    assert all(0 < v <= max_lr * (1 + 1e-12) for v in values[:warmup])
    assert all(min_lr * (1 - 1e-12) <= v <= max_lr * (1 + 1e-12) for v in values[warmup:])
    assert all(a < b for a, b in zip(values[:warmup], values[1 : warmup + 1], strict=True))
    tail = values[warmup:]
    assert all(a >= b - 1e-15 for a, b in zip(tail, tail[1:], strict=False))
