"""Convolution and max pooling against PyTorch's: F.conv2d, F.max_pool2d, F.unfold, nn.Conv2d.

Tolerances: float64, atol 1e-12 and rtol 1e-10 for values and gradients (both sides sum the
same products in a different order, so only rounding differs); float32 atol 1e-5, rtol 1e-4.
Max pooling is compared on inputs without ties (a random permutation of distinct values), so
that the one maximal element of every window, which receives the gradient, is unique.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from groundup.nn.conv import Conv2d, MaxPool2d, conv2d, im2col, max_pool2d, output_size

F64 = {"atol": 1e-12, "rtol": 1e-10}
F32 = {"atol": 1e-5, "rtol": 1e-4}
FAST = settings(max_examples=30, deadline=None)


@st.composite
def conv_cases(draw: st.DrawFn) -> dict:
    """Random shapes, strides, paddings and dilations for which the output is not empty."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    # input at least as large as the dilated kernel minus the padding on both sides
    size = [
        draw(st.integers(max(1, dilation[a] * (kernel[a] - 1) + 1 - 2 * padding[a]), 10))
        for a in range(2)
    ]
    return {
        "n": draw(st.integers(1, 3)),
        "c": draw(st.integers(1, 4)),
        "o": draw(st.integers(1, 5)),
        "size": tuple(size),
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def conv_inputs(case: dict, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor | None]:
    g = torch.Generator().manual_seed(case["seed"])
    x = torch.randn(case["n"], case["c"], *case["size"], generator=g, dtype=dtype)
    w = torch.randn(case["o"], case["c"], *case["kernel"], generator=g, dtype=dtype)
    b = torch.randn(case["o"], generator=g, dtype=dtype) if case["bias"] else None
    return x, w, b


def value_and_grads(fn, inputs: list[Tensor | None], **kwargs) -> list[Tensor | None]:
    """fn's output and the gradients of sum(output * g) for every input, g fixed and random."""
    leaves = [None if t is None else t.clone().requires_grad_() for t in inputs]
    out = fn(*leaves, **kwargs)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(7), dtype=out.dtype)
    present = [t for t in leaves if t is not None]
    grads = iter(torch.autograd.grad(out, present, g))
    return [out.detach()] + [None if t is None else next(grads) for t in leaves]


def assert_all_close(got: list, expected: list, tol: dict) -> None:
    names = ["output", "x.grad", "weight.grad", "bias.grad"][: len(got)]
    for name, a, b in zip(names, got, expected, strict=True):
        if b is None:
            assert a is None, name
            continue
        torch.testing.assert_close(a, b, **tol, msg=lambda m, name=name: f"{name}: {m}")


def conv_kwargs(case: dict) -> dict:
    return {k: case[k] for k in ("stride", "padding", "dilation")}


# ---------------------------------------------------------------- oracle: F.conv2d


@FAST
@given(case=conv_cases())
def test_matches_torch_conv2d_values_and_gradients_float64(case: dict) -> None:
    inputs = list(conv_inputs(case, torch.float64))
    got = value_and_grads(conv2d, inputs, **conv_kwargs(case))
    expected = value_and_grads(F.conv2d, inputs, **conv_kwargs(case))
    assert got[0].shape == expected[0].shape
    assert_all_close(got, expected, F64)


@settings(max_examples=15, deadline=None)
@given(case=conv_cases())
def test_matches_torch_conv2d_float32(case: dict) -> None:
    inputs = list(conv_inputs(case, torch.float32))
    got = value_and_grads(conv2d, inputs, **conv_kwargs(case))
    expected = value_and_grads(F.conv2d, inputs, **conv_kwargs(case))
    assert_all_close(got, expected, F32)


def test_matches_torch_conv2d_int_arguments_and_a_larger_layer() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, 15, 12, generator=g, dtype=torch.float64)
    w = torch.randn(8, 6, 5, 3, generator=g, dtype=torch.float64)
    b = torch.randn(8, generator=g, dtype=torch.float64)
    kwargs = {"stride": 2, "padding": 2, "dilation": 1}
    got = value_and_grads(conv2d, [x, w, b], **kwargs)
    assert_all_close(got, value_and_grads(F.conv2d, [x, w, b], **kwargs), F64)


def test_matches_torch_unfold_layout() -> None:
    """im2col orders rows (channel, kernel row, kernel column) like F.unfold."""
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    kwargs = {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)}
    got = im2col(x, (2, 3), **kwargs)
    torch.testing.assert_close(got, F.unfold(x, (2, 3), **kwargs), atol=0, rtol=0)


def test_cross_correlation_does_not_flip_the_kernel() -> None:
    """A kernel with a single 1 at (0, 0) reads the top-left pixel of every window."""
    x = torch.arange(16.0).view(1, 1, 4, 4)
    w = torch.zeros(1, 1, 2, 2)
    w[0, 0, 0, 0] = 1.0
    assert torch.equal(conv2d(x, w), x[:, :, :3, :3])


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "expected"),
    [
        (8, 3, 1, 1, 1, 8),
        (8, 3, 2, 0, 1, 3),
        (7, 3, 2, 1, 1, 4),
        (10, 3, 1, 0, 2, 6),
        (5, 5, 1, 0, 1, 1),
    ],
)
def test_output_size_formula(size, kernel, stride, padding, dilation, expected) -> None:
    assert output_size(size, kernel, stride, padding, dilation) == expected
    x = torch.zeros(1, 1, size, size)
    w = torch.zeros(1, 1, kernel, kernel)
    out = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    assert out.shape[-1] == expected


def test_kernel_larger_than_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        conv2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="channels"):
        conv2d(torch.zeros(1, 2, 5, 5), torch.zeros(1, 3, 3, 3))


# ---------------------------------------------------------------- oracle: nn.Conv2d


@pytest.mark.parametrize("bias", [True, False])
def test_matches_torch_conv2d_module(bias: bool) -> None:
    torch.manual_seed(0)
    theirs = nn.Conv2d(3, 5, (3, 2), stride=(1, 2), padding=1, dilation=(2, 1), bias=bias)
    mine = Conv2d(3, 5, (3, 2), stride=(1, 2), padding=1, dilation=(2, 1), bias=bias)
    mine.load_from_torch(theirs)
    x = torch.randn(2, 3, 9, 8)
    torch.testing.assert_close(mine(x), theirs(x), **F32)
    (mine(x) ** 2).sum().backward()
    (theirs(x) ** 2).sum().backward()
    torch.testing.assert_close(mine.weight.grad, theirs.weight.grad, **F32)
    if bias:
        torch.testing.assert_close(mine.bias.grad, theirs.bias.grad, **F32)
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_conv2d_initialisation_has_torchs_scale() -> None:
    """Uniform in +-1/sqrt(C*kh*kw), like nn.Conv2d's default."""
    torch.manual_seed(0)
    layer = Conv2d(16, 64, 3)
    bound = 1 / (16 * 9) ** 0.5
    assert layer.weight.abs().max() <= bound
    assert layer.weight.abs().max() > 0.95 * bound
    assert abs(layer.weight.std().item() - bound / 3**0.5) < 0.05 * bound


# ---------------------------------------------------------------- oracle: F.max_pool2d


@st.composite
def pool_cases(draw: st.DrawFn) -> dict:
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = None if draw(st.booleans()) else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    size = [draw(st.integers(max(1, kernel[a] - 2 * padding[a]), 10)) for a in range(2)]
    return {
        "shape": (draw(st.integers(1, 3)), draw(st.integers(1, 4)), *size),
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "seed": draw(st.integers(0, 2**16)),
    }


def tie_free(shape: tuple[int, ...], seed: int, dtype: torch.dtype) -> Tensor:
    """Distinct values in random order, so every window has one unique maximum."""
    g = torch.Generator().manual_seed(seed)
    numel = torch.Size(shape).numel()
    return (torch.randperm(numel, generator=g).to(dtype) / numel - 0.5).view(shape)


@FAST
@given(case=pool_cases())
def test_matches_torch_max_pool2d_values_and_gradients(case: dict) -> None:
    x = tie_free(case["shape"], case["seed"], torch.float64)
    kwargs = {"kernel_size": case["kernel"], "stride": case["stride"], "padding": case["padding"]}
    got = value_and_grads(max_pool2d, [x], **kwargs)
    expected = value_and_grads(F.max_pool2d, [x], **kwargs)
    assert got[0].shape == expected[0].shape
    assert_all_close(got, expected, F64)


def test_matches_torch_max_pool2d_module_on_negative_inputs_with_padding() -> None:
    """Padding must never win, even where every real value is negative."""
    x = -1.0 - tie_free((2, 3, 7, 6), 0, torch.float32).abs()
    torch.testing.assert_close(MaxPool2d(3, 2, 1)(x), nn.MaxPool2d(3, 2, 1)(x), atol=0, rtol=0)
    assert (MaxPool2d(3, 2, 1)(x) < 0).all()


def test_max_pool_padding_over_half_the_kernel_is_rejected() -> None:
    with pytest.raises(ValueError, match="padding"):
        max_pool2d(torch.zeros(1, 1, 6, 6), 2, padding=2)


def test_max_pool_gradient_goes_to_one_element_per_window() -> None:
    x = tie_free((1, 2, 6, 6), 3, torch.float64).requires_grad_()
    max_pool2d(x, 2).sum().backward()
    assert x.grad is not None
    assert x.grad.sum().item() == 2 * 9  # one 1 per window
    assert set(x.grad.unique().tolist()) == {0.0, 1.0}
