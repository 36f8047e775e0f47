"""Linear layers, activations, initialisations and the MLP against torch.nn.

Values and gradients are compared in float64 with atol 1e-12 and rtol 1e-10 unless stated:
the formulas are the same as torch's, so only rounding separates them. Initialisations are
compared for exact equality: with the same generator seed they draw the same numbers.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.nn import mlp

TOL = {"atol": 1e-12, "rtol": 1e-10}
FAST = settings(max_examples=25, deadline=None)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@FAST
@given(st.integers(1, 4), st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**31 - 1))
def test_matches_torch_linear_values_and_gradients(batch: int, n_in: int, n_out: int, seed: int):
    g = _generator(seed)
    ref = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
    mine = mlp.Linear(n_in, n_out).double()
    with torch.no_grad():
        mine.weight.copy_(ref.weight)
        mine.bias.copy_(ref.bias)
    x = torch.randn(batch, 3, n_in, generator=g, dtype=torch.float64)
    x_ref, x_mine = x.clone().requires_grad_(), x.clone().requires_grad_()
    upstream = torch.randn(batch, 3, n_out, generator=g, dtype=torch.float64)
    out_ref, out_mine = ref(x_ref), mine(x_mine)
    torch.testing.assert_close(out_mine, out_ref, **TOL)
    (out_ref * upstream).sum().backward()
    (out_mine * upstream).sum().backward()
    torch.testing.assert_close(x_mine.grad, x_ref.grad, **TOL)
    torch.testing.assert_close(mine.weight.grad, ref.weight.grad, **TOL)
    torch.testing.assert_close(mine.bias.grad, ref.bias.grad, **TOL)


def test_matches_torch_linear_without_bias() -> None:
    x = torch.randn(4, 6, dtype=torch.float64)
    w = torch.randn(3, 6, dtype=torch.float64)
    torch.testing.assert_close(mlp.linear(x, w), F.linear(x, w), **TOL)
    assert mlp.Linear(6, 3, bias=False).bias is None


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize(("n_in", "n_out"), [(1, 1), (7, 5), (64, 128), (300, 10)])
def test_matches_torch_linear_default_init_exactly(seed: int, n_in: int, n_out: int) -> None:
    torch.manual_seed(seed)  # nn.Linear draws from the global generator
    ref = torch.nn.Linear(n_in, n_out)
    mine = mlp.Linear(n_in, n_out, generator=_generator(seed))
    assert torch.equal(mine.weight, ref.weight)  # the same numbers, bit for bit
    assert torch.equal(mine.bias, ref.bias)


@pytest.mark.parametrize("shape", [(30, 40), (256, 64), (8, 3, 5, 5)])
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
def test_matches_torch_init_xavier_exactly(shape: tuple[int, ...], gain: float) -> None:
    for name in ("xavier_uniform_", "xavier_normal_"):
        mine = getattr(mlp, name)(torch.empty(shape), gain, generator=_generator(5))
        ref = getattr(torch.nn.init, name)(torch.empty(shape), gain, generator=_generator(5))
        assert torch.equal(mine, ref), name


@pytest.mark.parametrize("shape", [(30, 40), (256, 64), (8, 3, 5, 5)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize(("nonlinearity", "a"), [("relu", 0.0), ("leaky_relu", 0.2)])
def test_matches_torch_init_kaiming_exactly(shape, mode, nonlinearity, a) -> None:
    for name in ("kaiming_normal_", "kaiming_uniform_"):
        kwargs = {"a": a, "mode": mode, "nonlinearity": nonlinearity}
        mine = getattr(mlp, name)(torch.empty(shape), generator=_generator(9), **kwargs)
        ref = getattr(torch.nn.init, name)(torch.empty(shape), generator=_generator(9), **kwargs)
        assert torch.equal(mine, ref), name


def test_kaiming_normal_std_uses_fan_in() -> None:
    # 512 x 128 = 65536 draws: the sample std is within 1 % of sqrt(2 / fan_in) (its
    # standard error is about 0.3 %), and far from sqrt(2 / fan_out).
    w = mlp.kaiming_normal_(torch.empty(512, 128), nonlinearity="relu", generator=_generator(0))
    assert abs(w.std().item() / math.sqrt(2 / 128) - 1) < 0.01
    assert abs(w.mean().item()) < 0.005


@pytest.mark.parametrize("nonlinearity", ["linear", "sigmoid", "tanh", "relu", "leaky_relu"])
def test_matches_torch_calculate_gain(nonlinearity: str) -> None:
    assert mlp.calculate_gain(nonlinearity) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity), rel=1e-15
    )


ACTIVATION_ORACLES = {
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
}


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(sorted(ACTIVATION_ORACLES)),
    st.lists(st.floats(-40.0, 40.0, allow_nan=False), min_size=1, max_size=20),
)
def test_matches_torch_functional_activations(name: str, values: list[float]) -> None:
    # Zero and the extremes are always in: the kinks and the saturated tails.
    x = torch.tensor([*values, 0.0, -1e3, 1e3, 1e-9], dtype=torch.float64)
    x_ref, x_mine = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref = ACTIVATION_ORACLES[name](x_ref)
    out_mine = mlp.ACTIVATIONS[name](x_mine)
    # tanh = 2 sigmoid(2x) - 1 loses ~1e-16 absolutely near zero, hence the atol.
    torch.testing.assert_close(out_mine, out_ref, atol=1e-12, rtol=1e-9)
    upstream = torch.linspace(-1, 2, len(x), dtype=torch.float64)
    (out_ref * upstream).sum().backward()
    (out_mine * upstream).sum().backward()
    torch.testing.assert_close(x_mine.grad, x_ref.grad, atol=1e-12, rtol=1e-9)


@FAST
@given(st.integers(1, 4), st.integers(1, 12), st.integers(0, 2**31 - 1), st.sampled_from([-1, 0]))
def test_matches_torch_softmax(rows: int, cols: int, seed: int, dim: int) -> None:
    x = 20 * torch.randn(rows, cols, generator=_generator(seed), dtype=torch.float64)
    x_ref, x_mine = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, out_mine = F.softmax(x_ref, dim=dim), mlp.softmax(x_mine, dim=dim)
    torch.testing.assert_close(out_mine, out_ref, **TOL)
    upstream = torch.randn(rows, cols, generator=_generator(seed + 1), dtype=torch.float64)
    (out_ref * upstream).sum().backward()
    (out_mine * upstream).sum().backward()
    torch.testing.assert_close(x_mine.grad, x_ref.grad, **TOL)


def test_softmax_survives_huge_logits() -> None:
    p = mlp.softmax(torch.tensor([1000.0, 0.0, -1000.0]))
    assert torch.isfinite(p).all() and p[0] == 1.0


TORCH_MODULES = {"relu": torch.nn.ReLU, "gelu": torch.nn.GELU, "tanh": torch.nn.Tanh}


@pytest.mark.parametrize("activation", sorted(TORCH_MODULES))
@pytest.mark.parametrize("sizes", [[5, 3], [64, 32, 10], [6, 8, 8, 8, 4]])
def test_matches_torch_sequential(activation: str, sizes: list[int]) -> None:
    torch.manual_seed(0)
    mine = mlp.MLP(sizes, activation=activation, dropout=0.3).double().eval()
    layers: list[torch.nn.Module] = []
    for layer in mine.layers:
        ref_layer = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
        with torch.no_grad():
            ref_layer.weight.copy_(layer.weight)
            ref_layer.bias.copy_(layer.bias)
        layers += [ref_layer, TORCH_MODULES[activation](), torch.nn.Dropout(0.3)]
    ref = torch.nn.Sequential(*layers[:-2]).eval()  # no activation or dropout after the last
    x = torch.randn(7, sizes[0], dtype=torch.float64)
    x_ref, x_mine = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, out_mine = ref(x_ref), mine(x_mine)
    torch.testing.assert_close(out_mine, out_ref, **TOL)
    out_ref.square().sum().backward()
    out_mine.square().sum().backward()
    torch.testing.assert_close(x_mine.grad, x_ref.grad, **TOL)
    for layer, ref_layer in zip(mine.layers, ref[::3], strict=True):
        torch.testing.assert_close(layer.weight.grad, ref_layer.weight.grad, **TOL)
        torch.testing.assert_close(layer.bias.grad, ref_layer.bias.grad, **TOL)


def test_dropout_keeps_the_mean_and_drops_the_share() -> None:
    torch.manual_seed(0)
    x = torch.ones(200_000)
    y = mlp.dropout(x, 0.25)
    assert abs((y == 0).float().mean().item() - 0.25) < 0.005
    assert abs(y.mean().item() - 1.0) < 0.01  # survivors are scaled by 1 / 0.75
    assert torch.equal(mlp.dropout(x, 0.25, training=False), x)


def test_kaiming_keeps_relu_signal_alive_and_default_shrinks_it() -> None:
    x = torch.randn(512, 256, generator=_generator(1))
    stds = {}
    for init in ("kaiming_normal", "default"):
        net = mlp.MLP([256] * 11 + [10], init=init, generator=_generator(2))
        stds[init] = net.hidden_states(x)[-1].std().item()
    # ReLU halves the second moment; Kaiming's factor 2 makes up for it.
    assert 0.3 < stds["kaiming_normal"] < 3.0
    # Var(W) = 1/(3 fan_in) shrinks the signal about sqrt(6)x per layer until only the
    # biases (uniform in +-1/16) are left: measured 0.022 after ten layers.
    assert stds["default"] < 0.05


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="activation"):
        mlp.MLP([3, 2], activation="swishy")
    with pytest.raises(ValueError, match="init"):
        mlp.Linear(3, 2, init="zeros")
    with pytest.raises(ValueError, match="dropout"):
        mlp.MLP([3, 2], dropout=1.0)
