"""Linear/MLP and the optimizers against torch.nn and torch.optim (float64, atol 1e-8, rtol 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from groundup.autograd.engine import Tensor, cross_entropy
from groundup.autograd.nn import MLP, SGD, Adam

ATOL, RTOL = 1e-8, 1e-6


def torch_copy(model: MLP, activation: str) -> torch.nn.Sequential:
    """The same network in torch.nn; torch stores Linear weights as (out, in)."""
    layers: list[torch.nn.Module] = []
    for i, layer in enumerate(model.layers):
        linear = torch.nn.Linear(*layer.weight.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(layer.weight.data.T))
            linear.bias.copy_(torch.tensor(layer.bias.data))
        layers.append(linear)
        if i < len(model.layers) - 1:
            layers.append(
                {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[
                    activation
                ]()
            )
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_matches_torch_mlp_loss_and_gradients(activation: str) -> None:
    rng = np.random.default_rng(0)
    model = MLP([5, 7, 6, 3], rng, activation)
    reference = torch_copy(model, activation)
    x, y = rng.standard_normal((8, 5)), rng.integers(0, 3, size=8)

    loss = cross_entropy(model(Tensor(x)), y)
    loss.backward()
    ref_loss = torch.nn.functional.cross_entropy(reference(torch.tensor(x)), torch.tensor(y))
    ref_loss.backward()

    np.testing.assert_allclose(loss.item(), ref_loss.item(), atol=ATOL, rtol=RTOL)
    ref_linears = [m for m in reference if isinstance(m, torch.nn.Linear)]
    for layer, ref in zip(model.layers, ref_linears, strict=True):
        np.testing.assert_allclose(
            layer.weight.grad, ref.weight.grad.numpy().T, atol=ATOL, rtol=RTOL
        )
        np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), atol=ATOL, rtol=RTOL)


def test_linear_init_range_matches_torch_default() -> None:
    model = MLP([100, 50, 2], np.random.default_rng(0))
    bound = 1 / np.sqrt(100)
    assert np.abs(model.layers[0].weight.data).max() <= bound
    assert np.abs(model.layers[0].weight.data).max() > 0.9 * bound
    assert model.num_parameters() == 100 * 50 + 50 + 50 * 2 + 2


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (
            lambda p: SGD(p, lr=0.1, momentum=0.9),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        ),
        (lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        (
            lambda p: Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6),
            lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6),
        ),
    ],
)
def test_matches_torch_optimizer_trajectory(ours, theirs) -> None:
    """Five steps on a small quadratic-plus-log objective land on the same parameters."""
    rng = np.random.default_rng(1)
    start = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    target = rng.standard_normal((4, 2))
    x = rng.standard_normal((4, 3))
    mine = [Tensor(p, requires_grad=True) for p in start]
    refs = [torch.tensor(p, requires_grad=True) for p in start]
    opt, ref_opt = ours(mine), theirs(refs)
    for _ in range(5):
        opt.zero_grad()
        ((((Tensor(x) @ mine[0] + mine[1]) - target) ** 2).mean()).backward()
        opt.step()
        ref_opt.zero_grad()
        (((torch.tensor(x) @ refs[0] + refs[1]) - torch.tensor(target)) ** 2).mean().backward()
        ref_opt.step()
    for p, r in zip(mine, refs, strict=True):
        np.testing.assert_allclose(p.data, r.detach().numpy(), atol=ATOL, rtol=RTOL)


def test_mlp_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="activation"):
        MLP([2, 2], np.random.default_rng(0), "gelu")
    with pytest.raises(ValueError, match="at least"):
        MLP([2], np.random.default_rng(0))
