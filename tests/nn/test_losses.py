"""Every loss against its torch.nn.functional twin: values AND gradients on random inputs.

Tolerances: float64 compares with atol 1e-12, rtol 1e-10 (the same mathematics in a different
order, so only rounding differs); float32 with atol 1e-5, rtol 1e-4. The stable forms are
also fed logits of +-100 (and +-1000 in float64), where a naive formula gives inf or NaN.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from groundup.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    log_softmax,
    logsumexp,
    mse_loss,
    softplus,
)

TOL = {torch.float64: {"atol": 1e-12, "rtol": 1e-10}, torch.float32: {"atol": 1e-5, "rtol": 1e-4}}
FAST = settings(max_examples=20, deadline=None)
REDUCTIONS = st.sampled_from(["none", "mean", "sum"])


def close(got: Tensor, expected: Tensor, dtype: torch.dtype = torch.float64) -> None:
    assert torch.isfinite(got).all(), got
    torch.testing.assert_close(got, expected, **TOL[dtype])


def value_and_grads(fn, inputs: list[Tensor], **kwargs) -> list[Tensor]:
    """fn's value and the gradients of sum(value * g), g a fixed random tensor, w.r.t. inputs."""
    leaves = [x.detach().clone().requires_grad_() for x in inputs]
    out = fn(*leaves, **kwargs)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=out.dtype)
    grads = torch.autograd.grad((out * upstream).sum(), leaves)
    return [out.detach(), *grads]


def compare(mine, theirs, inputs: list[Tensor], dtype=torch.float64, **kwargs) -> None:
    got = value_and_grads(mine, inputs, **kwargs)
    expected = value_and_grads(theirs, inputs, **kwargs)
    for a, b in zip(got, expected, strict=True):
        close(a, b, dtype)


@st.composite
def shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], int]:
    return tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))), draw(
        st.integers(0, 2**16)
    )


def randn(shape, seed: int, scale: float = 1.0, dtype=torch.float64) -> Tensor:
    return scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# ---------------------------------------------------------------- regression losses


@FAST
@given(shape_seed=shapes(), reduction=REDUCTIONS)
def test_matches_torch_mse_and_l1(shape_seed, reduction: str) -> None:
    shape, seed = shape_seed
    x, y = randn(shape, seed, 3.0), randn(shape, seed + 1)
    compare(mse_loss, F.mse_loss, [x, y], reduction=reduction)
    compare(l1_loss, F.l1_loss, [x, y], reduction=reduction)


@FAST
@given(
    shape_seed=shapes(),
    reduction=REDUCTIONS,
    delta=st.sampled_from([0.1, 0.5, 1.0, 2.5]),
)
def test_matches_torch_huber(shape_seed, reduction: str, delta: float) -> None:
    shape, seed = shape_seed
    # Residuals of scale 2 land on both sides of every delta tried.
    x, y = randn(shape, seed, 2.0), randn(shape, seed + 1)
    compare(huber_loss, F.huber_loss, [x, y], reduction=reduction, delta=delta)


def test_huber_is_quadratic_inside_and_linear_outside() -> None:
    r = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0], dtype=torch.float64)
    loss = huber_loss(r, torch.zeros_like(r), reduction="none", delta=1.0)
    assert torch.equal(loss, torch.tensor([2.5, 0.5, 0.125, 0.0, 0.125, 0.5, 2.5]).double())
    with pytest.raises(ValueError, match="delta"):
        huber_loss(r, r, delta=0.0)


def test_mse_is_minimised_by_the_mean_and_l1_by_the_median() -> None:
    data = torch.tensor([0.0, 1.0, 2.0, 3.0, 100.0], dtype=torch.float64)  # one outlier
    c = torch.linspace(-5, 105, 11001, dtype=torch.float64)[:, None]
    best_mse = c[mse_loss(c.expand(-1, 5), data.expand(len(c), -1), "none").mean(1).argmin()]
    best_l1 = c[l1_loss(c.expand(-1, 5), data.expand(len(c), -1), "none").mean(1).argmin()]
    assert abs(best_mse.item() - data.mean().item()) < 0.01  # 21.2: dragged by the outlier
    assert abs(best_l1.item() - data.median().item()) < 0.01  # 2.0: not moved by it


# ---------------------------------------------------------------- binary cross-entropy


@FAST
@given(shape_seed=shapes(), reduction=REDUCTIONS, weighted=st.booleans())
def test_matches_torch_binary_cross_entropy(shape_seed, reduction: str, weighted: bool) -> None:
    shape, seed = shape_seed
    g = torch.Generator().manual_seed(seed)
    probs = 0.01 + 0.98 * torch.rand(shape, generator=g, dtype=torch.float64)
    target = torch.rand(shape, generator=g, dtype=torch.float64)  # soft targets are allowed
    weight = torch.rand(shape, generator=g, dtype=torch.float64) if weighted else None
    compare(
        binary_cross_entropy, F.binary_cross_entropy, [probs, target],
        weight=weight, reduction=reduction,
    )  # fmt: skip


def test_binary_cross_entropy_clamps_log_at_minus_100_like_torch() -> None:
    # At p = 0 or 1 only the values are compared: torch's backward is a closed formula
    # divided by max(p (1 - p), 1e-12), which autograd through a clamp does not reproduce.
    probs = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-50], dtype=torch.float64)
    target = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    got = binary_cross_entropy(probs, target, reduction="none")
    close(got, F.binary_cross_entropy(probs, target, reduction="none"))
    assert got.tolist() == [100.0, 100.0, 0.0, 0.0, 100.0]


@st.composite
def logits_and_targets(draw: st.DrawFn) -> tuple[Tensor, Tensor]:
    shape, seed = draw(shapes())
    g = torch.Generator().manual_seed(seed)
    scale = draw(st.sampled_from([0.5, 3.0, 30.0]))
    logits = scale * torch.randn(shape, generator=g, dtype=torch.float64)
    # Plant extreme and exactly-zero logits: the stable form must be exact there too.
    special = torch.tensor([100.0, -100.0, 1000.0, -1000.0, 0.0], dtype=torch.float64)
    pick = torch.randint(0, 3, shape, generator=g) == 0
    logits[pick] = special[torch.randint(0, 5, shape, generator=g)][pick]
    if draw(st.booleans()):
        target = torch.randint(0, 2, shape, generator=g).double()
    else:
        target = torch.rand(shape, generator=g, dtype=torch.float64)
    return logits, target


@settings(max_examples=40, deadline=None)
@given(
    data=logits_and_targets(),
    reduction=REDUCTIONS,
    weighted=st.booleans(),
    use_pos_weight=st.booleans(),
)
def test_matches_torch_bce_with_logits(
    data, reduction: str, weighted: bool, use_pos_weight: bool
) -> None:
    logits, target = data
    g = torch.Generator().manual_seed(7)
    weight = torch.rand(logits.shape, generator=g, dtype=torch.float64) if weighted else None
    pos_weight = (
        0.2 + 3 * torch.rand(logits.shape[-1], generator=g, dtype=torch.float64)
        if use_pos_weight
        else None
    )
    compare(
        binary_cross_entropy_with_logits,
        F.binary_cross_entropy_with_logits,
        [logits, target],
        weight=weight,
        pos_weight=pos_weight,
        reduction=reduction,
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_matches_torch_bce_with_logits_at_extreme_logits(dtype: torch.dtype) -> None:
    logits = torch.tensor([-100.0, -100.0, 100.0, 100.0, -30.0, 30.0, 0.0], dtype=dtype)
    target = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0], dtype=dtype)
    compare(
        binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, [logits, target],
        dtype=dtype, reduction="none",
    )  # fmt: skip
    loss = binary_cross_entropy_with_logits(logits, target, reduction="none")
    assert loss[1].item() == pytest.approx(100.0) and loss[2].item() == pytest.approx(100.0)
    # The naive route rounds sigmoid(100) to exactly 1 and then takes log(0).
    p = torch.sigmoid(logits)
    naive = -(target * torch.log(p) + (1 - target) * torch.log(1 - p))
    assert not torch.isfinite(naive).all()


def test_softplus_matches_torch_including_the_slope_at_zero() -> None:
    x = torch.tensor([-1000.0, -100.0, -1.0, 0.0, 1e-300, 1.0, 100.0, 1000.0], dtype=torch.float64)
    compare(softplus, F.softplus, [x])
    zero = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(softplus(zero).sum(), [zero])
    assert grad.item() == 0.5  # sigmoid(0); a one-sided slope would give 0 or 1


# ---------------------------------------------------------------- cross-entropy


@st.composite
def classification(draw: st.DrawFn) -> dict:
    n, c = draw(st.integers(1, 6)), draw(st.integers(2, 7))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    scale = draw(st.sampled_from([0.5, 3.0, 100.0]))
    logits = scale * torch.randn(n, c, *extra, generator=g, dtype=torch.float64)
    target = torch.randint(0, c, (n, *extra), generator=g)
    if draw(st.booleans()):  # ignore about a third, but keep one position counted
        ignored = torch.rand(target.shape, generator=g) < 0.3
        ignored.view(-1)[0] = False
        target = target.masked_fill(ignored, -100)
    weighted = draw(st.booleans())
    weight = 0.1 + torch.rand(c, generator=g, dtype=torch.float64) if weighted else None
    return {
        "logits": logits,
        "target": target,
        "weight": weight,
        "label_smoothing": draw(st.sampled_from([0.0, 0.1, 0.37, 1.0])),
        "reduction": draw(REDUCTIONS),
    }


@settings(max_examples=60, deadline=None)
@given(case=classification())
def test_matches_torch_cross_entropy(case: dict) -> None:
    logits, target = case.pop("logits"), case.pop("target")
    compare(
        lambda x: cross_entropy(x, target, **case),
        lambda x: F.cross_entropy(x, target, **case),
        [logits],
    )


@pytest.mark.parametrize(
    ("dtype", "scale"), [(torch.float32, 100.0), (torch.float64, 1000.0)], ids=["f32", "f64"]
)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_matches_torch_cross_entropy_at_extreme_logits(
    dtype: torch.dtype, scale: float, smoothing: float
) -> None:
    # exp(100) overflows float32 and exp(1000) float64: without the max-shift both give inf.
    g = torch.Generator().manual_seed(0)
    logits = (scale * torch.randn(8, 5, generator=g)).to(dtype)
    logits[:, 0] = scale
    target = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])
    for reduction in ("none", "mean"):
        compare(
            lambda x, r=reduction: cross_entropy(x, target, reduction=r, label_smoothing=smoothing),
            lambda x, r=reduction: F.cross_entropy(
                x, target, reduction=r, label_smoothing=smoothing
            ),
            [logits],
            dtype=dtype,
        )
    naive = -(logits.gather(1, target[:, None]) - logits.exp().sum(1, keepdim=True).log())
    assert not torch.isfinite(naive).all()


def test_matches_torch_cross_entropy_for_one_unbatched_example() -> None:
    logits = randn((6,), 3)
    for reduction in ("none", "mean", "sum"):
        kw = {"reduction": reduction, "label_smoothing": 0.2}
        compare(
            lambda x, kw=kw: cross_entropy(x, torch.tensor(4), **kw),
            lambda x, kw=kw: F.cross_entropy(x, torch.tensor(4), **kw),
            [logits],
        )


@FAST
@given(shape_seed=shapes(), dim=st.integers(-1, 0))
def test_matches_torch_logsumexp_and_log_softmax(shape_seed, dim: int) -> None:
    shape, seed = shape_seed
    x = randn(shape, seed, 50.0)
    compare(lambda t: logsumexp(t, dim=dim), lambda t: torch.logsumexp(t, dim=dim), [x])
    compare(lambda t: log_softmax(t, dim=dim), lambda t: F.log_softmax(t, dim=dim), [x])


def test_logsumexp_of_minus_infinity_rows() -> None:
    x = torch.tensor([[-math.inf, -math.inf], [-math.inf, 0.0]], dtype=torch.float64)
    assert torch.equal(logsumexp(x), torch.logsumexp(x, dim=-1))


def test_cross_entropy_properties() -> None:
    # Uniform logits give log C; the best possible loss under smoothing is the entropy of the
    # smoothed target, reached exactly when the logits are its log-probabilities.
    c, eps = 10, 0.1
    target = torch.arange(c)
    uniform = torch.zeros(c, c, dtype=torch.float64)
    assert cross_entropy(uniform, target).item() == pytest.approx(math.log(c), abs=1e-12)
    q = torch.full((c, c), eps / c, dtype=torch.float64) + (1 - eps) * torch.eye(c).double()
    entropy = -(q * q.log()).sum(1).mean()
    best = cross_entropy(q.log(), target, label_smoothing=eps)
    assert best.item() == pytest.approx(entropy.item(), abs=1e-12)
    nudged = cross_entropy(q.log() + 0.01 * randn((c, c), 0), target, label_smoothing=eps)
    assert nudged > best


def test_cross_entropy_edge_cases_match_torch() -> None:
    logits, target = randn((3, 4), 0), torch.tensor([-100, -100, -100])
    assert cross_entropy(logits, target).isnan() and F.cross_entropy(logits, target).isnan()
    assert cross_entropy(logits, target, reduction="sum").item() == 0.0
    with pytest.raises(TypeError, match="integer"):
        cross_entropy(logits, torch.zeros(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        cross_entropy(logits, torch.zeros(3, dtype=torch.long), label_smoothing=1.5)
    for loss in (mse_loss, l1_loss, binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match="reduction"):
            loss(logits.sigmoid(), logits.sigmoid(), reduction="average")
    with pytest.raises(ValueError, match="reduction"):
        cross_entropy(logits, torch.zeros(3, dtype=torch.long), reduction="average")
