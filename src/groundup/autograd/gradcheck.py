"""Gradient checking: compare backpropagation with finite differences.

A derivative is a limit, so it can be estimated without any backward rule:

    dL/dx_i ~ (L(x + h e_i) - L(x - h e_i)) / (2h)

This central difference has an error of order h^2; in float64 with h = 1e-6 it agrees with
the true derivative to about 1e-9. It costs two evaluations of L per input element, far too
slow to train with, but slow and simple is what a test oracle should be.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from groundup.autograd.engine import Tensor, no_grad


@dataclass
class GradcheckResult:
    max_abs_error: float  # max |analytic - numeric| over all input elements
    max_rel_error: float  # max |analytic - numeric| / max(|analytic|, |numeric|, 1e-8)
    ok: bool  # every element within atol + rtol * |numeric|
    analytic: list[np.ndarray]  # backprop gradients, one per input
    numeric: list[np.ndarray]  # finite-difference gradients, one per input


def numerical_gradient(loss: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of `loss()` with respect to every element of `x` (changed in place
    during the call and restored afterwards)."""
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        above = loss()
        x[i] = original - eps
        below = loss()
        x[i] = original
        grad[i] = (above - below) / (2 * eps)
    return grad


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[np.ndarray],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    seed: int = 0,
) -> GradcheckResult:
    """Check the gradients of `fn(*tensors)` with respect to all `inputs` (float64 arrays).

    A non-scalar output is reduced to L = sum(output * R) with a fixed random R, so every
    output element contributes with its own weight and a wrong rule cannot hide behind
    a plain sum.
    """
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    tensors = [Tensor(x, requires_grad=True) for x in arrays]
    out = fn(*tensors)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    (out * weights).sum().backward()
    analytic = [
        np.zeros_like(x) if t.grad is None else t.grad for x, t in zip(arrays, tensors, strict=True)
    ]

    def loss() -> float:
        with no_grad():
            return float((fn(*[Tensor(x) for x in arrays]).data * weights).sum())

    numeric = [numerical_gradient(loss, x, eps) for x in arrays]

    pairs = list(zip(analytic, numeric, strict=True))
    abs_errors = [np.abs(a - n) for a, n in pairs]
    scales = [np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8) for a, n in pairs]
    return GradcheckResult(
        max_abs_error=max((float(e.max(initial=0.0)) for e in abs_errors), default=0.0),
        max_rel_error=max(
            (float((e / s).max(initial=0.0)) for e, s in zip(abs_errors, scales, strict=True)),
            default=0.0,
        ),
        ok=all(np.allclose(a, n, atol=atol, rtol=rtol) for a, n in pairs),
        analytic=analytic,
        numeric=numeric,
    )
