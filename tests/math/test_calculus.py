"""groundup.math.calculus against torch.autograd (float64) and against calculus itself.

Tolerances follow from the step size. A central difference with h = 1e-5 is off by the
truncation h^2 |f'''| / 6 ~ 2e-11 |f'''| plus round-off ~ eps |f| / h ~ 2e-11 |f|; the random
functions below keep |f| and its derivatives below about 10, so atol 1e-8 leaves a margin of
roughly 50. The Hessian's four-point formula with h = 1e-4 has truncation ~ h^2 |f''''| / 6
~ 2e-9 and round-off ~ eps |f| / h^2 ~ 2e-8 |f|, so there atol 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.math import calculus as c

GRADIENT_TOL = {"atol": 1e-8, "rtol": 1e-7}
HESSIAN_TOL = {"atol": 1e-6, "rtol": 1e-6}


def smooth_map(seed: int, n_in: int, n_out: int):
    """A random smooth R^n_in -> R^n_out, once for NumPy and once for torch (same numbers)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)
    b = rng.normal(size=n_out)
    v = rng.normal(size=(n_out, n_in)) * 0.3

    def f_np(x: np.ndarray) -> np.ndarray:
        x = x.reshape(-1)
        return np.tanh(w @ x + b) * np.exp(0.3 * np.sin(v @ x)) + 0.1 * (w @ x**2)

    def f_torch(x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1)
        wt, bt, vt = (torch.from_numpy(a) for a in (w, b, v))
        return torch.tanh(wt @ x + bt) * torch.exp(0.3 * torch.sin(vt @ x)) + 0.1 * (wt @ x**2)

    return f_np, f_torch


def smooth_scalar(seed: int, n_in: int):
    f_np, f_torch = smooth_map(seed, n_in, 3)
    return (lambda x: float(np.sum(f_np(x) ** 2))), (lambda x: torch.sum(f_torch(x) ** 2))


shapes = st.sampled_from([(1,), (3,), (5,), (2, 3), (2, 2, 2)])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), shape=shapes)
def test_matches_torch_autograd_gradient(seed: int, shape: tuple[int, ...]) -> None:
    n = math.prod(shape)
    f_np, f_torch = smooth_scalar(seed, n)
    x = np.random.default_rng(seed + 1).normal(size=shape)
    expected = torch.autograd.functional.jacobian(f_torch, torch.from_numpy(x)).numpy()
    got = c.gradient(f_np, x)
    assert got.shape == shape
    np.testing.assert_allclose(got, expected, **GRADIENT_TOL)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), shape=shapes, n_out=st.integers(1, 4))
def test_matches_torch_autograd_jacobian(seed: int, shape: tuple[int, ...], n_out: int) -> None:
    f_np, f_torch = smooth_map(seed, math.prod(shape), n_out)
    x = np.random.default_rng(seed + 1).normal(size=shape)
    expected = torch.autograd.functional.jacobian(f_torch, torch.from_numpy(x)).numpy()
    got = c.jacobian(f_np, x)
    assert got.shape == (n_out, *shape) == expected.shape
    np.testing.assert_allclose(got, expected, **GRADIENT_TOL)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), shape=st.sampled_from([(1,), (3,), (2, 2)]))
def test_matches_torch_autograd_hessian(seed: int, shape: tuple[int, ...]) -> None:
    f_np, f_torch = smooth_scalar(seed, math.prod(shape))
    x = np.random.default_rng(seed + 1).normal(size=shape)
    expected = torch.autograd.functional.hessian(f_torch, torch.from_numpy(x)).numpy()
    got = c.hessian(f_np, x)
    assert got.shape == shape + shape
    np.testing.assert_allclose(got, expected, **HESSIAN_TOL)
    np.testing.assert_array_equal(
        got, np.swapaxes(got.reshape(got.size, -1), 0, 1).reshape(got.shape)
    )


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_directional_derivative_is_gradient_dot_direction(seed: int) -> None:
    f_np, f_torch = smooth_scalar(seed, 4)
    rng = np.random.default_rng(seed + 1)
    x, v = rng.normal(size=4), rng.normal(size=4)
    grad = torch.autograd.functional.jacobian(f_torch, torch.from_numpy(x)).numpy()
    assert c.directional_derivative(f_np, x, v) == pytest.approx(grad @ v, abs=1e-8, rel=1e-7)


def test_jacobian_leaves_its_input_alone() -> None:
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = x.copy()
    c.jacobian(lambda z: np.sin(z) * z.sum(), x)
    c.hessian(lambda z: float(np.sum(z**3)), x)
    np.testing.assert_array_equal(x, before)


# ---------------------------------------------------------------- error orders

# f, f', point: the point is chosen where f'' and f''' are far from zero, so the leading error
# terms h f''/2 (forward) and h^2 f'''/6 (central) are the ones measured.
SCALAR_CASES = [
    (np.exp, np.exp, 1.0),
    (np.sin, np.cos, 0.7),
    (lambda t: t * np.tanh(t), lambda t: np.tanh(t) + t / np.cosh(t) ** 2, -0.8),
]


@pytest.mark.parametrize(("f", "df", "x"), SCALAR_CASES)
def test_forward_difference_error_is_first_order(f, df, x) -> None:
    # h from 1e-4 to 1e-1: truncation error >= 1e-5, round-off eps/h <= 2e-12, so the log-log
    # slope is the truncation order. Band: 1 +- 0.1 (the next Taylor term bends it slightly).
    steps = np.logspace(-4, -1, 12)
    errors = np.array([abs(c.forward_difference(f, x, h) - df(x)) for h in steps])
    assert 0.9 <= c.error_order(steps, errors) <= 1.1


@pytest.mark.parametrize(("f", "df", "x"), SCALAR_CASES)
def test_central_difference_error_is_second_order(f, df, x) -> None:
    # h from 1e-3 to 1e-1: truncation error >= 1e-7, round-off eps/h <= 2e-13. Band 2 +- 0.1.
    steps = np.logspace(-3, -1, 12)
    errors = np.array([abs(c.central_difference(f, x, h) - df(x)) for h in steps])
    assert 1.9 <= c.error_order(steps, errors) <= 2.1


def test_round_off_wins_for_tiny_steps() -> None:
    # Below the optimum (~1e-8 forward, ~1e-5 central) the error grows again as eps / h.
    tiny = c.central_difference(np.exp, 1.0, 1e-12) - np.e
    best = c.central_difference(np.exp, 1.0, 1e-5) - np.e
    assert abs(tiny) > 100 * abs(best)


def test_error_order_reads_a_power_law() -> None:
    steps = np.logspace(-4, -1, 7)
    assert c.error_order(steps, 3.0 * steps**2) == pytest.approx(2.0)


def squire_trapp(x, lib=np):
    # The classic complex-step test function (Squire and Trapp, 1998).
    return lib.exp(x) / lib.sqrt(lib.sin(x) ** 3 + lib.cos(x) ** 3)


def test_matches_torch_autograd_complex_step() -> None:
    # No subtraction, so no cancellation: equal to autograd to a few units of round-off, even
    # with h = 1e-20, where any finite difference would return 0.
    for x in (0.3, 1.0, 1.5):
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        (grad,) = torch.autograd.grad(squire_trapp(t, torch), t)
        expected = grad.item()
        assert abs(c.complex_step(squire_trapp, x) - expected) <= 4e-15 * abs(expected)
    assert c.complex_step(np.sin, 0.7) == np.cos(0.7)  # bit for bit
    assert c.central_difference(np.sin, 0.7, 1e-20) == 0.0


# ---------------------------------------------------------------- dual numbers


def test_dual_numbers_equal_analytic_derivatives() -> None:
    cases = [
        (lambda t: t**3 - 2 * t + 1, lambda t: 3 * t**2 - 2),
        (lambda t: c.sin(t) * c.exp(t), lambda t: math.exp(t) * (math.sin(t) + math.cos(t))),
        (lambda t: 1 / (1 + c.exp(-t)), lambda t: math.exp(-t) / (1 + math.exp(-t)) ** 2),
        (lambda t: c.log(t**2 + 1) - c.tanh(t), lambda t: 2 * t / (t**2 + 1) - 1 / math.cosh(t) ** 2),
        (lambda t: (3 - t) / c.cos(t), lambda t: (-math.cos(t) + (3 - t) * math.sin(t)) / math.cos(t) ** 2),
    ]  # fmt: skip
    for f, df in cases:
        for x in (-1.3, 0.2, 0.9):
            value, slope = c.derivative(f, x)
            assert value == pytest.approx(c.lift(f(c.Dual(x))).value, abs=0)
            assert slope == pytest.approx(df(x), rel=1e-13, abs=1e-14)


def test_matches_torch_autograd_dual_numbers() -> None:
    def f(t, lib):
        return lib.exp(t) / (lib.sin(t) ** 2 + 1) * lib.tanh(t) - t**0.5

    for x in (0.4, 1.7):
        value, slope = c.derivative(lambda t: f(t, c), x)
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        out = f(t, torch)
        out.backward()
        assert value == pytest.approx(out.item(), rel=1e-14)
        assert slope == pytest.approx(t.grad.item(), rel=1e-13)


def test_a_constant_has_derivative_zero() -> None:
    assert c.derivative(lambda t: 5.0 + 0 * t, 2.0) == (5.0, 0.0)
    assert c.derivative(lambda t: 7.0, 2.0) == (7.0, 0.0)


# ---------------------------------------------------------------- the chain rule


def test_matches_torch_autograd_chain_rule() -> None:
    g_np, g_torch = smooth_map(1, 3, 4)  # R^3 -> R^4
    f_np, f_torch = smooth_map(2, 4, 2)  # R^4 -> R^2
    x = np.array([0.4, -0.9, 1.3])
    composed = torch.autograd.functional.jacobian(
        lambda z: f_torch(g_torch(z)), torch.from_numpy(x)
    ).numpy()

    # With exact Jacobians the product is exact: the chain rule is the whole story.
    def exact(fn):
        return lambda z: torch.autograd.functional.jacobian(fn, torch.from_numpy(z)).numpy()

    assert c.chain_rule(exact(f_torch), exact(g_torch), g_np, x) == pytest.approx(
        composed, abs=1e-14
    )
    # With numerical Jacobians the product is as good as its factors.
    numerical = c.chain_rule(lambda u: c.jacobian(f_np, u), lambda z: c.jacobian(g_np, z), g_np, x)
    assert numerical.shape == (2, 3)
    np.testing.assert_allclose(numerical, composed, **GRADIENT_TOL)
    np.testing.assert_allclose(c.jacobian(lambda z: f_np(g_np(z)), x), composed, **GRADIENT_TOL)


def test_chain_rule_keeps_matrix_shapes() -> None:
    def g(x):
        return np.tanh(x).T  # (2, 3) -> (3, 2)

    def f(u):
        return np.array([u.sum(), (u**2).sum()])  # (3, 2) -> (2,)

    x = np.array([[0.1, 0.2, -0.3], [0.5, -1.0, 0.7]])
    got = c.chain_rule(lambda u: c.jacobian(f, u), lambda z: c.jacobian(g, z), g, x)
    assert got.shape == (2, 2, 3)
    np.testing.assert_allclose(got, c.jacobian(lambda z: f(g(z)), x), **GRADIENT_TOL)
