"""Dropout, the L2 penalty and early stopping.

Dropout masks are random, so dropout is compared with torch.nn.functional.dropout by its
behaviour, not its mask: the keep rate (within 5 standard errors of 1 - p), the exact
1 / (1 - p) scaling of the survivors, the unchanged mean, identity in eval mode, and a
gradient that is the mask times 1 / (1 - p). The L2 penalty is compared with the
weight_decay of torch.optim.SGD and torch.optim.Adam (atol 1e-12 in float64).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from groundup.nn.regularization import (
    Dropout,
    EarlyStopping,
    decay_and_no_decay,
    dropout,
    l2_penalty,
)

FAST = settings(max_examples=20, deadline=None)

# ---------------------------------------------------------------- dropout


def keep_rate_bound(p: float, n: int) -> float:
    """Five standard errors of the kept fraction of n independent coin flips."""
    return 5 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_matches_torch_dropout_statistics(p: float) -> None:
    x = torch.rand(200, 500, dtype=torch.float64) + 0.5  # no exact zeros in the input
    mine = dropout(x, p, training=True, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    theirs = F.dropout(x, p, training=True)
    for out in (mine, theirs):
        kept = out != 0
        assert abs(kept.double().mean().item() - (1 - p)) < keep_rate_bound(p, x.numel())
        # survivors are scaled by exactly 1 / (1 - p), so the expectation stays x
        torch.testing.assert_close(out[kept], x[kept] / (1 - p), atol=1e-12, rtol=1e-12)
        assert abs(out.mean().item() - x.mean().item()) < 0.01
    assert not torch.equal(mine != 0, theirs != 0)  # different masks, same behaviour


def test_matches_torch_dropout_gradient() -> None:
    p = 0.3
    x = (torch.rand(50, 40, dtype=torch.float64) + 0.5).requires_grad_()
    out = dropout(x, p, generator=torch.Generator().manual_seed(1))
    upstream = torch.randn_like(out)
    (out * upstream).sum().backward()
    mask = (out != 0).double()
    torch.testing.assert_close(x.grad, upstream * mask / (1 - p), atol=1e-12, rtol=1e-12)
    # torch's gradient has the same form for its own mask
    x2 = x.detach().clone().requires_grad_()
    theirs = F.dropout(x2, p, training=True)
    (theirs * upstream).sum().backward()
    torch.testing.assert_close(
        x2.grad, upstream * (theirs != 0).double() / (1 - p), atol=1e-12, rtol=1e-12
    )


@FAST
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    p=st.floats(0.0, 0.95),
    seed=st.integers(0, 2**16),
)
def test_dropout_keeps_or_scales_each_element(shape: list[int], p: float, seed: int) -> None:
    x = torch.randn(shape, dtype=torch.float64)
    out = dropout(x, p, generator=torch.Generator().manual_seed(seed))
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] / (1 - p), atol=1e-12, rtol=1e-12)
    again = dropout(x, p, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(out, again)  # the same generator state gives the same mask
    assert dropout(x, p, training=False) is x
    assert torch.equal(F.dropout(x, p, training=False), x)


def test_dropout_edge_probabilities_and_errors() -> None:
    x = torch.randn(3, 4)
    assert torch.equal(dropout(x, 0.0), x)
    assert torch.equal(dropout(x, 1.0), torch.zeros(3, 4))
    assert torch.equal(F.dropout(x, 1.0), torch.zeros(3, 4))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="probability"):
            dropout(x, bad)
        with pytest.raises(ValueError, match="probability"):
            Dropout(bad)


def test_dropout_module_follows_train_and_eval() -> None:
    layer = Dropout(0.5)
    x = torch.ones(1000)
    out = layer(x)
    assert (out == 0).any() and ((out == 0) | (out == 2.0)).all()
    layer.eval()
    assert torch.equal(layer(x), x)
    assert "p=0.5" in repr(layer)


# ---------------------------------------------------------------- L2 penalty and weight decay


def test_l2_penalty_value_and_gradient() -> None:
    w = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    penalty = l2_penalty([w, b], 0.3)
    assert penalty.item() == pytest.approx(0.15 * (w.pow(2).sum() + b.pow(2).sum()).item())
    penalty.backward()
    torch.testing.assert_close(w.grad, 0.3 * w.detach())
    with pytest.raises(ValueError, match="at least one"):
        l2_penalty([], 0.1)


def train_steps(optimizer_cls, penalty: float, steps: int = 5, **kwargs) -> list[torch.Tensor]:
    """A linear model after `steps` optimizer steps on a fixed regression problem."""
    torch.manual_seed(0)
    model = nn.Linear(4, 2).double()
    x, y = torch.randn(16, 4, dtype=torch.float64), torch.randn(16, 2, dtype=torch.float64)
    optimizer = optimizer_cls(model.parameters(), lr=0.1, **kwargs)
    for _ in range(steps):
        loss = F.mse_loss(model(x), y)
        if penalty:
            loss = loss + l2_penalty(model.parameters(), penalty)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_matches_torch_sgd_weight_decay(momentum: float) -> None:
    # For SGD, L2 in the loss and weight decay in the optimizer are the same thing.
    with_penalty = train_steps(torch.optim.SGD, 0.2, momentum=momentum)
    with_decay = train_steps(torch.optim.SGD, 0.0, momentum=momentum, weight_decay=0.2)
    for a, b in zip(with_penalty, with_decay, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)


def test_matches_torch_adam_weight_decay_but_not_adamw() -> None:
    # torch.optim.Adam's weight_decay is the coupled L2 penalty; AdamW decouples it.
    with_penalty = train_steps(torch.optim.Adam, 0.2)
    adam = train_steps(torch.optim.Adam, 0.0, weight_decay=0.2)
    adamw = train_steps(torch.optim.AdamW, 0.0, weight_decay=0.2)
    for a, b in zip(with_penalty, adam, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)
    assert max((a - b).abs().max().item() for a, b in zip(with_penalty, adamw, strict=True)) > 1e-3


def test_decay_split_leaves_biases_and_norm_gains_out() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    decay, no_decay = decay_and_no_decay(model)
    assert [tuple(p.shape) for p in decay] == [(4, 3), (2, 4)]
    assert len(no_decay) == 4  # two biases, the norm's weight and bias


# ---------------------------------------------------------------- early stopping


def test_early_stopping_on_a_scripted_loss_sequence() -> None:
    losses = [1.0, 0.8, 0.7, 0.71, 0.6995, 0.72, 0.73, 0.5]
    stopper = EarlyStopping(patience=3, min_delta=0.001)
    decisions = [stopper.step(loss) for loss in losses[:6]]
    # 0.6995 beats 0.7 by less than min_delta: not an improvement
    assert decisions == [False, False, False, False, False, True]
    assert stopper.best == 0.7 and stopper.best_epoch == 2 and stopper.bad_epochs == 3
    assert stopper.stopped


def test_early_stopping_patience_resets_on_improvement() -> None:
    stopper = EarlyStopping(patience=2)
    assert [stopper.step(v) for v in [5, 6, 4, 6, 3, 7, 7]] == [
        False, False, False, False, False, False, True,
    ]  # fmt: skip
    assert (stopper.best, stopper.best_epoch) == (3, 4)


def test_early_stopping_max_mode_and_nan() -> None:
    stopper = EarlyStopping(patience=2, mode="max")
    assert [stopper.step(v) for v in [0.5, 0.9, float("nan"), 0.8]] == [False, False, False, True]
    assert stopper.best == 0.9 and stopper.best_epoch == 1


def test_early_stopping_restores_the_best_weights() -> None:
    model = nn.Linear(2, 1)
    stopper = EarlyStopping(patience=2)
    snapshots = []
    for epoch, loss in enumerate([3.0, 1.0, 2.0, 2.5]):
        with torch.no_grad():
            model.weight.fill_(float(epoch))  # "training" changes the weights every epoch
        snapshots.append(model.weight.detach().clone())
        if stopper.step(loss, model):
            break
    assert stopper.best_epoch == 1 and epoch == 3
    stopper.restore(model)
    assert torch.equal(model.weight, snapshots[1])  # a copy was kept, not a view


def test_early_stopping_without_restore_keeps_nothing() -> None:
    model = nn.Linear(2, 1)
    stopper = EarlyStopping(patience=1, restore_best=False)
    stopper.step(1.0, model)
    assert stopper.best_state is None
    before = model.weight.detach().clone()
    assert torch.equal(stopper.restore(model).weight, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"patience": 0}, "patience"), ({"min_delta": -1}, "min_delta"), ({"mode": "up"}, "mode")],
)
def test_early_stopping_rejects_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)
