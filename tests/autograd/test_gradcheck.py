"""Finite differences agree with backpropagation, and they catch a wrong backward rule.

Tolerance for gradcheck (float64, central differences, eps 1e-6): atol 1e-6, rtol 1e-4;
the measured errors are around 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest

from groundup.autograd.engine import Tensor, cross_entropy
from groundup.autograd.gradcheck import gradcheck, numerical_gradient

rng = np.random.default_rng(0)

FUNCTIONS = {
    "mlp_cross_entropy": (
        lambda x, w, b: cross_entropy((x @ w + b).tanh(), np.array([0, 2, 1, 2])),
        [rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal(3)],
    ),
    "broadcast_div_log": (
        lambda a, b: (a / b).exp().sum(axis=0, keepdims=True).log(),
        [rng.standard_normal((2, 3, 4)), rng.uniform(1.0, 2.0, size=(3, 1))],
    ),
    "batched_matmul_softmax": (
        lambda a, b: (a @ b).softmax(axis=1),
        [rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 2))],
    ),
    "index_reshape_transpose_max": (
        lambda a: a[[0, 0, 2], 1:].reshape(3, 2, 2).transpose(2, 0, 1).max(axis=-1),
        [rng.standard_normal((3, 5))],
    ),
    "pow_sigmoid_relu_mean": (
        lambda a: ((a**2).sigmoid() - a.relu() * 0.5).mean(axis=(0, 1)) ** 3,
        [rng.standard_normal((3, 4, 2))],
    ),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_backprop_agrees_with_central_differences(name: str) -> None:
    fn, inputs = FUNCTIONS[name]
    result = gradcheck(fn, inputs)
    assert result.ok, (result.max_abs_error, result.max_rel_error)
    assert result.max_abs_error < 1e-7
    assert [g.shape for g in result.analytic] == [np.shape(x) for x in inputs]


def test_gradcheck_catches_a_wrong_backward_rule() -> None:
    def wrong_square(x: Tensor) -> Tensor:
        # forward x^2, backward claims x (forgot the factor 2)
        return Tensor._result(x.data**2, (x,), lambda grad: (grad * x.data,), "wrong_square")

    result = gradcheck(lambda x: wrong_square(x).sum(), [rng.uniform(1.0, 2.0, size=(3, 2))])
    assert not result.ok
    assert result.max_rel_error == pytest.approx(0.5, abs=1e-6)  # x vs 2x


def test_numerical_gradient_is_exact_for_a_quadratic_and_restores_input() -> None:
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    grad = numerical_gradient(lambda: float((x**2).sum()), x)
    np.testing.assert_allclose(grad, 2 * before, atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_inputs_that_do_not_influence_the_output_get_zero_gradients() -> None:
    result = gradcheck(lambda a, b: a * 2.0, [rng.standard_normal(3), rng.standard_normal(2)])
    assert result.ok
    np.testing.assert_array_equal(result.analytic[1], np.zeros(2))
