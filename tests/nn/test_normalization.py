"""Batch norm and layer norm against torch.nn.BatchNorm1d/BatchNorm2d and torch.nn.LayerNorm.

Weights are copied into both modules with load_state_dict, then outputs, gradients (input,
weight, bias) and running statistics are compared after several training steps and in eval
mode. Tolerances: float64 atol 1e-10, rtol 1e-8 (the same arithmetic in another order);
float32 atol 1e-5, rtol 1e-4.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from groundup.nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    LayerNorm,
    batch_norm,
    layer_norm,
)

TOL = {torch.float64: {"atol": 1e-10, "rtol": 1e-8}, torch.float32: {"atol": 1e-5, "rtol": 1e-4}}
FAST = settings(max_examples=20, deadline=None)
MOMENTA = st.sampled_from([0.1, 0.5, 1.0, None])


def close(got: Tensor | None, expected: Tensor | None, dtype: torch.dtype = torch.float64):
    assert (got is None) == (expected is None)
    if got is not None:
        torch.testing.assert_close(got, expected, **TOL[dtype])


def forward_and_grads(module: nn.Module, x: Tensor, upstream_seed: int) -> list[Tensor | None]:
    """Output, x.grad, weight.grad and bias.grad of sum(module(x) * g) for a fixed random g."""
    module.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_()
    out = module(x)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(upstream_seed))
    (out * g.to(out.dtype)).sum().backward()
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    grads = [None if p is None else p.grad for p in (weight, bias)]
    return [out.detach(), x.grad, *grads]


def same_forward_and_grads(
    mine: nn.Module, theirs: nn.Module, x: Tensor, seed: int, dtype: torch.dtype
) -> None:
    got, expected = forward_and_grads(mine, x, seed), forward_and_grads(theirs, x, seed)
    for a, b in zip(got, expected, strict=True):
        close(a, b, dtype)


def twins(mine: nn.Module, theirs: nn.Module, seed: int, dtype: torch.dtype):
    """Both modules in `dtype`, with the same random affine parameters (torch's copied to mine)."""
    theirs = theirs.to(dtype)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=dtype))
    mine = mine.to(dtype)
    mine.load_state_dict(theirs.state_dict())
    return mine, theirs


def run_batch_norm_oracle(mine, theirs, shapes: list[tuple[int, ...]], seed: int, dtype) -> None:
    g = torch.Generator().manual_seed(seed)
    batches = [torch.randn(s, generator=g, dtype=dtype) * 3 + 1 for s in shapes]
    for step, x in enumerate(batches):  # training: batch statistics, running stats move
        mine.train(), theirs.train()
        same_forward_and_grads(mine, theirs, x, step, dtype)
        close(mine.running_mean, theirs.running_mean, dtype)
        close(mine.running_var, theirs.running_var, dtype)
        assert int(mine.num_batches_tracked) == int(theirs.num_batches_tracked) == step + 1
    mine.eval(), theirs.eval()  # inference: the running statistics
    same_forward_and_grads(mine, theirs, batches[0], 99, dtype)
    close(mine.running_mean, theirs.running_mean, dtype)  # eval leaves them alone


# ---------------------------------------------------------------- oracle: BatchNorm1d/2d


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@FAST
@given(
    n=st.integers(2, 6),
    c=st.integers(1, 5),
    length=st.sampled_from([None, 1, 4]),
    affine=st.booleans(),
    momentum=MOMENTA,
    steps=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_matches_torch_batchnorm1d(n, c, length, affine, momentum, steps, seed, dtype) -> None:
    shape = (n, c) if length is None else (n, c, length)
    mine, theirs = twins(
        BatchNorm1d(c, momentum=momentum, affine=affine),
        nn.BatchNorm1d(c, momentum=momentum, affine=affine),
        seed,
        dtype,
    )
    run_batch_norm_oracle(mine, theirs, [shape] * steps, seed, dtype)


@FAST
@given(
    n=st.integers(1, 4),
    c=st.integers(1, 4),
    h=st.integers(1, 4),
    w=st.integers(2, 4),
    affine=st.booleans(),
    momentum=MOMENTA,
    eps=st.sampled_from([1e-5, 1e-3, 0.5]),
    seed=st.integers(0, 2**16),
)
def test_matches_torch_batchnorm2d(n, c, h, w, affine, momentum, eps, seed) -> None:
    mine, theirs = twins(
        BatchNorm2d(c, eps=eps, momentum=momentum, affine=affine),
        nn.BatchNorm2d(c, eps=eps, momentum=momentum, affine=affine),
        seed,
        torch.float64,
    )
    # batch sizes change from step to step, as on the last batch of an epoch
    shapes = [(n, c, h, w), (n + 2, c, h, w), (n + 1, c, h, w)]
    run_batch_norm_oracle(mine, theirs, shapes, seed, torch.float64)


@pytest.mark.parametrize("cls, theirs_cls, shape", [
    (BatchNorm1d, nn.BatchNorm1d, (5, 3)),
    (BatchNorm2d, nn.BatchNorm2d, (2, 3, 2, 2)),
])  # fmt: skip
def test_matches_torch_batchnorm_without_running_stats(cls, theirs_cls, shape) -> None:
    mine, theirs = twins(
        cls(3, track_running_stats=False), theirs_cls(3, track_running_stats=False), 0,
        torch.float64,
    )  # fmt: skip
    x = torch.randn(shape, dtype=torch.float64)
    for mode in (True, False):  # batch statistics in both modes
        mine.train(mode), theirs.train(mode)
        same_forward_and_grads(mine, theirs, x, 1, torch.float64)
    assert mine.running_mean is None and set(mine.state_dict()) == set(theirs.state_dict())


@FAST
@given(
    shape=st.lists(st.integers(1, 4), min_size=2, max_size=4).filter(lambda s: s[0] > 1),
    training=st.booleans(),
    momentum=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_matches_torch_functional_batch_norm(shape, training, momentum, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    c = shape[1]
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    weight, bias = torch.randn(2, c, generator=g, dtype=torch.float64)
    mean, var = torch.randn(c, generator=g, dtype=torch.float64), torch.rand(c, generator=g) + 0.5
    mine_stats = [mean.clone(), var.double()]
    theirs_stats = [mean.clone(), var.double()]
    got = batch_norm(x, *mine_stats, weight, bias, training, momentum, 1e-5)
    expected = F.batch_norm(x, *theirs_stats, weight, bias, training, momentum, 1e-5)
    close(got, expected)
    close(mine_stats[0], theirs_stats[0])
    close(mine_stats[1], theirs_stats[1])


# ---------------------------------------------------------------- batch norm properties


def test_training_output_is_standardised_per_channel() -> None:
    x = (
        torch.randn(64, 3, 5, 5, dtype=torch.float64)
        * torch.tensor([1.0, 10.0, 0.1]).view(1, 3, 1, 1)
        + 7
    )
    y = BatchNorm2d(3, affine=False).double()(x)
    per_channel = y.transpose(0, 1).reshape(3, -1)
    torch.testing.assert_close(per_channel.mean(1), torch.zeros(3, dtype=torch.float64),
                               atol=1e-12, rtol=0)  # fmt: skip
    # biased variance, shrunk slightly by eps (visible for the 0.1-scale channel)
    expected_var = x.transpose(0, 1).reshape(3, -1).var(1, unbiased=False)
    torch.testing.assert_close(
        per_channel.var(1, unbiased=False), expected_var / (expected_var + 1e-5)
    )


def test_running_variance_is_the_unbiased_estimate() -> None:
    x = torch.tensor([[1.0], [2.0], [6.0]], dtype=torch.float64)  # biased var 14/3, unbiased 7
    bn = BatchNorm1d(1, momentum=1.0).double()  # momentum 1: running stats = this batch's
    bn(x)
    assert bn.running_mean.item() == pytest.approx(3.0)
    assert bn.running_var.item() == pytest.approx(7.0)
    assert bn.running_mean.grad_fn is None and not bn.running_var.requires_grad


def test_momentum_weighs_the_new_batch() -> None:
    bn = BatchNorm1d(1, momentum=0.25)
    bn(torch.tensor([[4.0], [4.0]]))  # mean 4: 0.75 * 0 + 0.25 * 4
    assert bn.running_mean.item() == pytest.approx(1.0)
    bn(torch.tensor([[4.0], [4.0]]))
    assert bn.running_mean.item() == pytest.approx(0.75 * 1.0 + 0.25 * 4.0)


def test_eval_output_does_not_depend_on_the_rest_of_the_batch() -> None:
    bn = BatchNorm1d(4)
    for _ in range(3):
        bn(torch.randn(8, 4))
    bn.eval()
    x = torch.randn(5, 4)
    torch.testing.assert_close(bn(x)[:2], bn(x[:2]))
    torch.testing.assert_close(bn(x[:1]), bn(x)[:1])  # a single example is fine in eval


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="more than one value"):
        BatchNorm1d(3)(torch.randn(1, 3))
    with pytest.raises(ValueError, match="4-D"):
        BatchNorm2d(3)(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="2 or 3-D"):
        BatchNorm1d(3)(torch.randn(2, 3, 4, 4))


# ---------------------------------------------------------------- oracle: LayerNorm


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@FAST
@given(
    lead=st.lists(st.integers(1, 3), max_size=2),
    normalized=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    affine=st.booleans(),
    bias=st.booleans(),
    eps=st.sampled_from([1e-5, 1e-2]),
    seed=st.integers(0, 2**16),
)
def test_matches_torch_layernorm(lead, normalized, affine, bias, eps, seed, dtype) -> None:
    # With one or two normalized elements the output is fixed (0, or -1 and +1) and the
    # true input gradient is ~0, so both sides return float32 round-off that no relative
    # tolerance can compare; float64 still covers those cases.
    assume(dtype == torch.float64 or math.prod(normalized) > 2)
    shape = tuple(normalized)
    mine, theirs = twins(
        LayerNorm(shape, eps=eps, elementwise_affine=affine, bias=bias),
        nn.LayerNorm(shape, eps=eps, elementwise_affine=affine, bias=bias),
        seed,
        dtype,
    )
    x = torch.randn(*lead, *shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    x = x * 2 - 1
    for mode in (True, False):  # no difference between training and inference
        mine.train(mode), theirs.train(mode)
        same_forward_and_grads(mine, theirs, x, seed, dtype)


def test_layer_norm_int_shape_and_functional_form() -> None:
    x = torch.randn(3, 7, dtype=torch.float64)
    weight, bias = torch.randn(7, dtype=torch.float64), torch.randn(7, dtype=torch.float64)
    close(layer_norm(x, (7,), weight, bias), F.layer_norm(x, (7,), weight, bias))
    assert LayerNorm(7).normalized_shape == (7,)
    with pytest.raises(ValueError, match="end in that shape"):
        layer_norm(x, (3,))


def test_layer_norm_is_per_example() -> None:
    x = torch.randn(4, 6, dtype=torch.float64) * 5 + 3
    y = LayerNorm(6, elementwise_affine=False).double()(x)
    torch.testing.assert_close(y.mean(-1), torch.zeros(4, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(y[1:2], LayerNorm(6, elementwise_affine=False).double()(x[1:2]))
