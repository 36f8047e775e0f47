"""Derivatives a computer can take: finite differences, the complex step and dual numbers.

A derivative is the best local linear map: f(x + dx) ~ f(x) + J(x) dx. This file computes
that map three ways and makes the chain rule explicit.

- Finite differences evaluate f at nearby points. Forward differences are wrong by O(h),
  central differences by O(h^2); both lose digits to round-off as h shrinks (about eps / h),
  so the total error is V-shaped in h.
- The complex step Im f(x + ih) / h has no subtraction, hence no cancellation: with h = 1e-20
  it is exact to machine precision for any f that is analytic and written with complex-safe
  operations.
- Dual numbers a + b e with e^2 = 0 carry a value and a derivative through every operation:
  forward-mode automatic differentiation in a few lines. Reverse mode (backpropagation,
  groundup.autograd) runs the same chain rule from the output backwards instead.

Shapes follow torch.autograd.functional: the Jacobian of f: R^{x.shape} -> R^{y.shape} has
shape y.shape + x.shape, the Hessian of a scalar f has shape x.shape + x.shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Function = Callable[[np.ndarray], Any]

# ---------------------------------------------------------------- derivatives of f: R -> R


def forward_difference(f: Callable[[float], float], x: float, h: float = 1e-8) -> float:
    """(f(x + h) - f(x)) / h. Taylor: = f'(x) + h f''(x) / 2 + ..., error O(h)."""
    return (f(x + h) - f(x)) / h


def central_difference(f: Callable[[float], float], x: float, h: float = 1e-5) -> float:
    """(f(x + h) - f(x - h)) / 2h. The even Taylor terms cancel: error h^2 f'''(x) / 6, O(h^2)."""
    return (f(x + h) - f(x - h)) / (2 * h)


def complex_step(f: Callable[[complex], complex], x: float, h: float = 1e-20) -> float:
    """Im f(x + ih) / h = f'(x) - h^2 f'''(x) / 6 + ...; no subtraction, so h can be tiny."""
    return float(np.imag(f(x + 1j * h)) / h)


def error_order(steps: np.ndarray, errors: np.ndarray) -> float:
    """Slope of log(error) against log(h): 1 for an O(h) method, 2 for O(h^2)."""
    slope, _ = np.polyfit(np.log(steps), np.log(errors), 1)
    return float(slope)


# ---------------------------------------------------------------- gradient, Jacobian, Hessian


def gradient(f: Function, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """df/dx for a scalar f by central differences, one coordinate at a time; x.shape."""
    return jacobian(f, x, h)


def jacobian(f: Function, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """J[out..., in...] = d f(x)[out...] / d x[in...] by central differences."""
    x = np.array(x, dtype=np.float64)  # a copy: the caller's array is never touched
    out_shape = np.shape(f(x))
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        # One coordinate at a time: column i is the partial derivative along x_i.
        column = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * h)
        columns.append(np.reshape(column, -1))
    flat = np.stack(columns, axis=-1) if columns else np.zeros((math.prod(out_shape), 0))
    return flat.reshape(out_shape + x.shape)


def hessian(f: Function, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """d^2 f / dx_i dx_j of a scalar f, from four values per pair; error O(h^2), x.shape * 2.

    H_ij = (f(x + h e_i + h e_j) - f(x + h e_i - h e_j) - f(x - h e_i + h e_j)
            + f(x - h e_i - h e_j)) / 4h^2.
    Round-off grows like eps / h^2 here, which is why h is larger than for first derivatives.
    """
    x = np.array(x, dtype=np.float64)
    n = x.size
    basis = np.eye(n).reshape((n,) + x.shape) * h
    result = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i, e_j = basis[i], basis[j]
            value = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (
                4 * h * h
            )
            result[i, j] = result[j, i] = value  # mixed partials commute for smooth f
    return result.reshape(x.shape + x.shape)


def directional_derivative(f: Function, x: np.ndarray, v: np.ndarray, h: float = 1e-5) -> float:
    """d/dt f(x + t v) at t = 0, by one central difference; equals gradient . v."""
    x, v = np.asarray(x, dtype=np.float64), np.asarray(v, dtype=np.float64)
    return float((f(x + h * v) - f(x - h * v)) / (2 * h))


# ---------------------------------------------------------------- the chain rule


def chain_rule(
    jacobian_f: Callable[[np.ndarray], np.ndarray],
    jacobian_g: Callable[[np.ndarray], np.ndarray],
    g: Function,
    x: np.ndarray,
) -> np.ndarray:
    """J_{f o g}(x) = J_f(g(x)) J_g(x): the derivative of a composition is a matrix product."""
    x = np.asarray(x, dtype=np.float64)
    u = np.asarray(g(x))
    outer = jacobian_f(u)  # shape f.shape + u.shape
    inner = jacobian_g(x)  # shape u.shape + x.shape
    out_shape = outer.shape[: outer.ndim - u.ndim]
    product = outer.reshape(-1, u.size) @ inner.reshape(u.size, x.size)
    return product.reshape(out_shape + x.shape)


# ---------------------------------------------------------------- forward mode: dual numbers


class Dual:
    """a + b e with e^2 = 0. Then f(a + b e) = f(a) + f'(a) b e: the e part is the derivative."""

    def __init__(self, value: float, derivative: float = 0.0) -> None:
        self.value, self.derivative = float(value), float(derivative)

    def __repr__(self) -> str:
        return f"Dual({self.value!r}, {self.derivative!r})"

    def __add__(self, other: Dual | float) -> Dual:
        other = lift(other)
        return Dual(self.value + other.value, self.derivative + other.derivative)

    __radd__ = __add__

    def __neg__(self) -> Dual:
        return Dual(-self.value, -self.derivative)

    def __sub__(self, other: Dual | float) -> Dual:
        return self + (-lift(other))

    def __rsub__(self, other: Dual | float) -> Dual:
        return lift(other) + (-self)

    def __mul__(self, other: Dual | float) -> Dual:
        other = lift(other)  # (a + b e)(c + d e) = ac + (ad + bc) e: the product rule
        return Dual(
            self.value * other.value,
            self.value * other.derivative + self.derivative * other.value,
        )

    __rmul__ = __mul__

    def __truediv__(self, other: Dual | float) -> Dual:
        other = lift(other)  # the quotient rule: (b c - a d) / c^2
        return Dual(
            self.value / other.value,
            (self.derivative * other.value - self.value * other.derivative) / other.value**2,
        )

    def __rtruediv__(self, other: Dual | float) -> Dual:
        return lift(other) / self

    def __pow__(self, power: float) -> Dual:
        # A constant exponent only: d/dx x^p = p x^(p-1).
        return Dual(self.value**power, power * self.value ** (power - 1) * self.derivative)


def lift(x: Dual | float) -> Dual:
    """A plain number is a constant: its derivative is 0."""
    return x if isinstance(x, Dual) else Dual(x, 0.0)


def _elementary(
    fn: Callable[[float], float], dfn: Callable[[float], float]
) -> Callable[[Dual | float], Dual | float]:
    """Lift a function with a known derivative to dual numbers: the chain rule, one step."""

    def apply(x: Dual | float) -> Dual | float:
        if not isinstance(x, Dual):
            return fn(x)
        return Dual(fn(x.value), dfn(x.value) * x.derivative)

    return apply


sin = _elementary(math.sin, math.cos)
cos = _elementary(math.cos, lambda a: -math.sin(a))
exp = _elementary(math.exp, math.exp)
log = _elementary(math.log, lambda a: 1.0 / a)
tanh = _elementary(math.tanh, lambda a: 1.0 - math.tanh(a) ** 2)


def derivative(f: Callable[[Dual], Dual], x: float) -> tuple[float, float]:
    """f(x) and f'(x) in one forward pass: seed the input's derivative with 1."""
    out = lift(f(Dual(x, 1.0)))
    return out.value, out.derivative
