"""The scalar engine against torch.autograd: values and gradients of random expressions and MLPs.

Tolerance for all oracle comparisons (both sides float64): atol 1e-9, rtol 1e-7.
Every expression below is written once and run on `Value`s and on torch tensors alike:
both have +, -, *, /, ** and .relu(), .tanh(), .exp(), .log().
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from groundup.autograd import nn as tensor_nn
from groundup.autograd.engine import Tensor
from groundup.autograd.scalar import MLP, Value

ATOL, RTOL = 1e-9, 1e-7
FEW = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def compare_with_torch(expression: Callable[..., Any], inputs: list[float]) -> None:
    """Value and input gradients of `expression` on Values equal those on torch tensors."""
    ours = [Value(x) for x in inputs]
    out = expression(*ours)
    out.backward()
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    expected = expression(*theirs)
    expected.backward()
    np.testing.assert_allclose(out.data, expected.item(), atol=ATOL, rtol=RTOL)
    for value, tensor in zip(ours, theirs, strict=True):
        expected_grad = 0.0 if tensor.grad is None else tensor.grad.item()
        np.testing.assert_allclose(value.grad, expected_grad, atol=ATOL, rtol=RTOL)


# Each operation by itself, on inputs where it is defined (log and / on positive numbers).
SINGLE_OPS = {
    "add": (lambda a, b: a + b, (-3, 3)),
    "sub": (lambda a, b: a - b, (-3, 3)),
    "mul": (lambda a, b: a * b, (-3, 3)),
    "div": (lambda a, b: a / b, (0.2, 3)),
    "pow": (lambda a, b: a**3 + b**-1.5, (0.2, 3)),
    "neg": (lambda a, b: -a + b, (-3, 3)),
    "relu": (lambda a, b: a.relu() + b.relu(), (-3, 3)),
    "tanh": (lambda a, b: a.tanh() * b, (-3, 3)),
    "exp": (lambda a, b: a.exp() - b, (-3, 3)),
    "log": (lambda a, b: a.log() / b, (0.2, 3)),
    "numbers on either side": (lambda a, b: 2.0 - a * 3.0 + 1.0 / b + 0.5 * b - 4.0, (0.2, 3)),
}


@pytest.mark.parametrize("op", SINGLE_OPS)
@FEW
@given(seed=seeds)
def test_matches_torch_on_each_operation(op: str, seed: int) -> None:
    expression, (low, high) = SINGLE_OPS[op]
    inputs = np.random.default_rng(seed).uniform(low, high, 2).tolist()
    compare_with_torch(expression, inputs)


def random_expression(seed: int, n_inputs: int, n_ops: int) -> Callable[..., Any]:
    """A random program over `n_inputs` numbers; later steps reuse earlier results."""
    rng = np.random.default_rng(seed)
    # Positive-only operations get a positive argument: x*x + 0.5 > 0.
    unary = [
        lambda x: x.relu(),
        lambda x: x.tanh(),
        lambda x: (x.tanh() * 2).exp(),
        lambda x: (x * x + 0.5).log(),
        lambda x: (x * x + 0.5) ** -0.5,
        lambda x: x**2,
        lambda x: -x,
    ]
    binary = [
        lambda x, y: x + y,
        lambda x, y: x - y,
        lambda x, y: x * y,
        lambda x, y: x / (y * y + 0.5),
        lambda x, y: 0.5 * x + y * 2.0 - 1.0,
    ]
    program = []
    for step in range(n_ops):
        pool = n_inputs + step
        if rng.random() < 0.5:
            program.append((unary[rng.integers(len(unary))], (int(rng.integers(pool)),)))
        else:
            args = (int(rng.integers(pool)), int(rng.integers(pool)))
            program.append((binary[rng.integers(len(binary))], args))

    def expression(*inputs: Any) -> Any:
        nodes = list(inputs)
        for fn, args in program:
            nodes.append(fn(*(nodes[i] for i in args)))
        return nodes[-1] + nodes[-2] * nodes[-3]  # more than one path to the inputs

    return expression


@FEW
@given(seed=seeds, n_ops=st.integers(3, 25))
def test_matches_torch_on_random_expressions(seed: int, n_ops: int) -> None:
    expression = random_expression(seed, 3, n_ops)
    inputs = np.random.default_rng(seed + 1).uniform(-2, 2, 3).tolist()
    with torch.no_grad():
        probe = expression(*torch.tensor(inputs, dtype=torch.float64))
    assume(abs(probe.item()) < 1e6)  # repeated products can blow up; compare tame ones
    compare_with_torch(expression, inputs)


def test_a_value_used_twice_collects_both_gradients() -> None:
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0


def test_backward_twice_gives_the_same_gradients() -> None:
    x, w = Value(1.5), Value(-0.5)
    y = (x * w).tanh() + x
    y.backward()
    first = (x.grad, w.grad)
    y.backward()
    assert (x.grad, w.grad) == first  # each call starts from zero, nothing adds up


def test_a_deep_chain_needs_no_recursion() -> None:
    x = Value(0.5)
    y = x
    for _ in range(5000):  # deeper than Python's recursion limit
        y = y + x
    y.backward()
    assert y.data == 5001 * 0.5 and x.grad == 5001.0


def test_a_value_exponent_is_rejected() -> None:
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(3.0)


# ---------------------------------------------------------------------------------------
# The MLP of Values


def torch_copy(model: MLP, activation: str) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for layer in model.layers:
        weight = torch.tensor([[w.data for w in row] for row in layer.weight], dtype=torch.float64)
        linear = torch.nn.Linear(*weight.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(weight.T)  # torch stores (out, in)
            linear.bias.copy_(torch.tensor([b.data for b in layer.bias], dtype=torch.float64))
        layers += [linear, torch.nn.ReLU() if activation == "relu" else torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@settings(max_examples=8, deadline=None)
@given(seed=seeds)
def test_matches_torch_mlp_hinge_loss_and_gradients(activation: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = MLP([3, 5, 4, 1], rng, activation)
    reference = torch_copy(model, activation)
    x, y = rng.standard_normal((6, 3)), rng.choice([-1.0, 1.0], 6)

    scores = [model(row)[0] for row in x.tolist()]
    loss = sum((1 - label * s).relu() for label, s in zip(y.tolist(), scores, strict=True)) / 6
    loss.backward()
    ref_scores = reference(torch.tensor(x)).reshape(-1)
    ref_loss = (1 - torch.tensor(y) * ref_scores).relu().mean()
    ref_loss.backward()

    np.testing.assert_allclose(loss.data, ref_loss.item(), atol=ATOL, rtol=RTOL)
    ref_linears = [m for m in reference if isinstance(m, torch.nn.Linear)]
    for layer, ref in zip(model.layers, ref_linears, strict=True):
        grad_w = [[w.grad for w in row] for row in layer.weight]
        np.testing.assert_allclose(grad_w, ref.weight.grad.numpy().T, atol=ATOL, rtol=RTOL)
        grad_b = [b.grad for b in layer.bias]
        np.testing.assert_allclose(grad_b, ref.bias.grad.numpy(), atol=ATOL, rtol=RTOL)


def test_same_seed_same_weights_and_outputs_as_the_tensor_mlp() -> None:
    scalar_model = MLP([2, 16, 16, 1], np.random.default_rng(7))
    tensor_model = tensor_nn.MLP([2, 16, 16, 1], np.random.default_rng(7), "relu")
    for ours, theirs in zip(scalar_model.layers, tensor_model.layers, strict=True):
        assert [[w.data for w in row] for row in ours.weight] == theirs.weight.data.tolist()
        assert [b.data for b in ours.bias] == theirs.bias.data.tolist()
    x = np.random.default_rng(8).standard_normal((5, 2))
    scalar_out = [scalar_model(row)[0].data for row in x.tolist()]
    np.testing.assert_allclose(scalar_out, tensor_model(Tensor(x)).data[:, 0], atol=1e-12)
    assert len(scalar_model.parameters()) == tensor_model.num_parameters() == 337


def test_mlp_rejects_an_unknown_activation() -> None:
    with pytest.raises(ValueError, match="activation"):
        MLP([2, 1], np.random.default_rng(0), "sigmoid")
