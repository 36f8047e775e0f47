"""A tensor autograd engine in NumPy: reverse-mode differentiation, one operation at a time.

Every operation computes its result with NumPy and, right beside that forward code, says how
to turn the gradient of its output into gradients of its inputs. `Tensor.backward()` walks
the recorded graph from the output back to the inputs (reverse topological order) and
applies those rules: that walk is the chain rule, and it is all backpropagation is.

The design follows micrograd, with arrays instead of scalars. Arrays bring one new duty:
NumPy broadcasting copies an input along new or size-1 axes, so the gradient of such an
input is the sum over its copies (`unbroadcast`).

Conventions:
- `data` is a NumPy array, float64 unless another float dtype is asked for.
- After `backward()`, every tensor in the graph that requires grad holds its gradient in
  `.grad`; gradients add up over several `backward()` calls, as in PyTorch, so call
  `zero_grad()` between training steps.
- `max` splits the gradient evenly among tied maxima (what `torch.amax` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

Axis = int | tuple[int, ...] | None
# A backward rule gets the gradient of the output and returns one gradient per input
# (None for an input that needs none).
Backward = Callable[[np.ndarray], tuple[np.ndarray | None, ...]]


class ShapeError(ValueError):
    """Shapes that do not fit together; the message names the operation and the shapes."""


_grad_enabled = True


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block no graph is recorded: for evaluation and optimizer updates."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


# ---------------------------------------------------------------------------------------
# Backward rules that are more than one line, as plain NumPy functions (tested on their own).


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` down to `shape`, undoing NumPy broadcasting.

    Broadcasting lines shapes up from the right, prepends axes and stretches size-1 axes.
    Each copied value influenced several outputs, so its gradient is the sum over them.
    """
    grad, shape = np.asarray(grad), tuple(shape)
    fits = len(shape) <= grad.ndim and all(
        s in (1, g) for s, g in zip(shape[::-1], grad.shape[::-1], strict=False)
    )
    if not fits:
        raise ShapeError(
            f"unbroadcast: a gradient of shape {grad.shape} cannot come from an input of "
            f"shape {shape} by broadcasting"
        )
    leading = tuple(range(grad.ndim - len(shape)))  # axes broadcasting prepended
    grad = grad.sum(axis=leading)
    stretched = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return np.asarray(grad.sum(axis=stretched, keepdims=True))


def matmul_backward(
    a: np.ndarray, b: np.ndarray, grad_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of `a @ b` with NumPy semantics (1-D, 2-D and batched with broadcasting).

    For C = A B: dL/dA = dL/dC B^T and dL/dB = A^T dL/dC, on the last two axes.
    """
    # A 1-D operand acts as a row (left) or column (right) vector; put that axis back.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    grad = np.asarray(grad_out)
    if b.ndim == 1:
        grad = np.expand_dims(grad, -1)
    if a.ndim == 1:
        grad = np.expand_dims(grad, -2)
    grad_a = grad @ np.swapaxes(b2, -1, -2)
    grad_b = np.swapaxes(a2, -1, -2) @ grad
    # Batch axes may have been broadcast; the 1-D case drops the axis it added.
    return (
        unbroadcast(grad_a, a2.shape).reshape(a.shape),
        unbroadcast(grad_b, b2.shape).reshape(b.shape),
    )


def softmax_array(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j); subtracting the max first avoids overflow."""
    exp = np.exp(x - x.max(axis=axis, keepdims=True))
    return exp / exp.sum(axis=axis, keepdims=True)


def log_softmax_backward(x: np.ndarray, grad_out: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of y = log_softmax(x) along `axis`: dL/dx = g - softmax(x) * sum(g).

    From y_i = x_i - log sum_j exp(x_j): dy_i/dx_k = [i == k] - softmax(x)_k.
    """
    return grad_out - softmax_array(x, axis) * grad_out.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------------------
# Small shape helpers


def _axes(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    """`axis` as a tuple of non-negative axes (None means all axes)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dims")
    return tuple(int(a) % ndim for a in axes)


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape a reduction over `axes` has with keepdims=True."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _check_broadcast(op: str, a: Tensor, b: Tensor) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(
            f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together "
            "(aligned from the right, each pair of dims must be equal or one of them 1)"
        ) from None


# ---------------------------------------------------------------------------------------
# The tensor


class Tensor:
    __array_ufunc__ = None  # `ndarray + Tensor` calls Tensor.__radd__ instead of NumPy's loop

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = np.float64) -> None:
        self.data: np.ndarray = np.array(data, dtype=dtype)  # a copy, never the caller's array
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None  # None for a leaf
        self._op = ""

    @staticmethod
    def _result(data: Any, parents: tuple[Tensor, ...], backward: Backward, op: str) -> Tensor:
        """The output of an operation, linked to its inputs if any of them needs a gradient."""
        out = Tensor.__new__(Tensor)
        out.data = np.asarray(data)
        out.grad = None
        out.requires_grad = _grad_enabled and any(p.requires_grad for p in parents)
        out._parents = parents if out.requires_grad else ()
        out._backward = backward if out.requires_grad else None
        out._op = op
        return out

    # ---- a few conveniences

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, threshold=20)}{grad})"

    def item(self) -> float:
        return float(self.data.item())

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> Tensor:
        return Tensor(self.data, dtype=self.data.dtype)

    def zero_grad(self) -> None:
        self.grad = None

    # ---- elementwise arithmetic with broadcasting

    def __add__(self, other: Any) -> Tensor:
        other = as_tensor(other, self.dtype)
        _check_broadcast("add", self, other)

        def backward(grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return unbroadcast(grad, self.shape), unbroadcast(grad, other.shape)

        return Tensor._result(self.data + other.data, (self, other), backward, "add")

    def __sub__(self, other: Any) -> Tensor:
        other = as_tensor(other, self.dtype)
        _check_broadcast("sub", self, other)

        def backward(grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return unbroadcast(grad, self.shape), unbroadcast(-grad, other.shape)

        return Tensor._result(self.data - other.data, (self, other), backward, "sub")

    def __mul__(self, other: Any) -> Tensor:
        other = as_tensor(other, self.dtype)
        _check_broadcast("mul", self, other)

        def backward(grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return (
                unbroadcast(grad * other.data, self.shape),
                unbroadcast(grad * self.data, other.shape),
            )

        return Tensor._result(self.data * other.data, (self, other), backward, "mul")

    def __truediv__(self, other: Any) -> Tensor:
        other = as_tensor(other, self.dtype)
        _check_broadcast("div", self, other)

        def backward(grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
            return (
                unbroadcast(grad / other.data, self.shape),
                unbroadcast(-grad * self.data / other.data**2, other.shape),
            )

        return Tensor._result(self.data / other.data, (self, other), backward, "div")

    def __neg__(self) -> Tensor:
        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (-grad,)

        return Tensor._result(-self.data, (self,), backward, "neg")

    def __pow__(self, exponent: float) -> Tensor:
        if isinstance(exponent, Tensor) or not np.isscalar(exponent):
            raise TypeError("pow: the exponent must be a Python number, not a tensor or array")

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad * exponent * self.data ** (exponent - 1),)

        return Tensor._result(self.data**exponent, (self,), backward, "pow")

    def __radd__(self, other: Any) -> Tensor:
        return as_tensor(other, self.dtype) + self

    def __rsub__(self, other: Any) -> Tensor:
        return as_tensor(other, self.dtype) - self

    def __rmul__(self, other: Any) -> Tensor:
        return as_tensor(other, self.dtype) * self

    def __rtruediv__(self, other: Any) -> Tensor:
        return as_tensor(other, self.dtype) / self

    # ---- matrix product

    def __matmul__(self, other: Any) -> Tensor:
        other = as_tensor(other, self.dtype)
        a, b = self.shape, other.shape
        if not a or not b:
            raise ShapeError(f"matmul: needs at least 1-D operands, got shapes {a} and {b}; use *")
        inner_b = b[0] if len(b) == 1 else b[-2]
        if a[-1] != inner_b:
            raise ShapeError(
                f"matmul: shapes {a} and {b} do not fit: the last dim of the left operand "
                f"({a[-1]}) must equal the {'only' if len(b) == 1 else 'second-to-last'} "
                f"dim of the right operand ({inner_b})"
            )
        try:
            np.broadcast_shapes(a[:-2], b[:-2])
        except ValueError:
            raise ShapeError(
                f"matmul: batch dims {a[:-2]} and {b[:-2]} of shapes {a} and {b} "
                "cannot be broadcast together"
            ) from None

        def backward(grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return matmul_backward(self.data, other.data, grad)

        return Tensor._result(self.data @ other.data, (self, other), backward, "matmul")

    def __rmatmul__(self, other: Any) -> Tensor:
        return as_tensor(other, self.dtype) @ self

    # ---- reductions

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axes = _axes(axis, self.ndim, "sum")
        kept = _kept_shape(self.shape, axes)

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            # Every summed element moved the sum by exactly its own change: copy grad back.
            return (np.broadcast_to(grad.reshape(kept), self.shape),)

        out = self.data.sum(axis=axes, keepdims=keepdims)
        return Tensor._result(out, (self,), backward, "sum")

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axes = _axes(axis, self.ndim, "mean")
        count = int(np.prod([self.shape[a] for a in axes]))
        return self.sum(axis=axes, keepdims=keepdims) / count

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axes = _axes(axis, self.ndim, "max")
        top = self.data.max(axis=axes, keepdims=True)

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            # Only the maximal entries moved the result; ties share the gradient evenly.
            winners = self.data == top
            share = winners / winners.sum(axis=axes, keepdims=True)
            return (share * grad.reshape(top.shape),)

        out = (
            top if keepdims else top.reshape([s for i, s in enumerate(top.shape) if i not in axes])
        )
        return Tensor._result(out, (self,), backward, "max")

    # ---- indexing and shape

    def __getitem__(self, index: Any) -> Tensor:
        index = _plain_index(index)

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            full = np.zeros_like(self.data)
            np.add.at(full, index, grad)  # unlike `full[index] += grad`, repeats add up
            return (full,)

        return Tensor._result(self.data[index], (self,), backward, "getitem")

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        new_shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        try:
            out = self.data.reshape(new_shape)
        except ValueError:
            raise ShapeError(
                f"reshape: cannot reshape {self.shape} ({self.size} elements) into {tuple(new_shape)}"
            ) from None

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad.reshape(self.shape),)

        return Tensor._result(out, (self,), backward, "reshape")

    def transpose(self, *axes: int) -> Tensor:
        order = (
            tuple(reversed(range(self.ndim))) if not axes else _axes(axes, self.ndim, "transpose")
        )
        if len(order) != self.ndim or sorted(order) != list(range(self.ndim)):
            raise ShapeError(
                f"transpose: axes {axes} are not a permutation of the {self.ndim} dims of {self.shape}"
            )

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad.transpose(np.argsort(order)),)  # the inverse permutation

        return Tensor._result(self.data.transpose(order), (self,), backward, "transpose")

    @property
    def T(self) -> Tensor:
        return self.transpose()

    # ---- elementwise functions

    def exp(self) -> Tensor:
        out = np.exp(self.data)

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad * out,)  # d exp(x)/dx = exp(x)

        return Tensor._result(out, (self,), backward, "exp")

    def log(self) -> Tensor:
        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad / self.data,)

        return Tensor._result(np.log(self.data), (self,), backward, "log")

    def tanh(self) -> Tensor:
        out = np.tanh(self.data)

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad * (1.0 - out**2),)

        return Tensor._result(out, (self,), backward, "tanh")

    def sigmoid(self) -> Tensor:
        out = 0.5 * (1.0 + np.tanh(0.5 * self.data))  # = 1/(1+exp(-x)), without overflow

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad * out * (1.0 - out),)

        return Tensor._result(out, (self,), backward, "sigmoid")

    def relu(self) -> Tensor:
        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad * (self.data > 0),)  # the slope at 0 is taken as 0, as in PyTorch

        return Tensor._result(np.maximum(self.data, 0.0), (self,), backward, "relu")

    # ---- softmax family

    def log_softmax(self, axis: int = -1) -> Tensor:
        (axis,) = _axes(axis, self.ndim, "log_softmax")
        shifted = self.data - self.data.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            return (log_softmax_backward(self.data, grad, axis),)

        return Tensor._result(out, (self,), backward, "log_softmax")

    def softmax(self, axis: int = -1) -> Tensor:
        (axis,) = _axes(axis, self.ndim, "softmax")
        out = softmax_array(self.data, axis)

        def backward(grad: np.ndarray) -> tuple[np.ndarray]:
            # dL/dx_k = s_k (g_k - sum_i g_i s_i)
            return (out * (grad - (grad * out).sum(axis=axis, keepdims=True)),)

        return Tensor._result(out, (self,), backward, "softmax")

    # ---- backpropagation

    def backward(self, grad: Any = None) -> None:
        """Fill `.grad` of every tensor this one depends on that requires grad.

        Without `grad`, the tensor must hold a single number and its gradient is 1.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not depend on anything with requires_grad=True"
            )
        if grad is None:
            if self.size != 1:
                raise ShapeError(
                    f"backward: a tensor of shape {self.shape} needs grad=... of that shape; "
                    "only a single number gets the default gradient 1"
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ShapeError(f"backward: grad has shape {grad.shape}, expected {self.shape}")

        # Gradients of this pass, keyed by tensor; `.grad` only accumulates the totals.
        pending: dict[int, np.ndarray] = {id(self): grad}
        for node in reversed(self._topological_order()):
            node_grad = pending.pop(id(node), None)
            if node_grad is None:
                continue
            node.grad = np.array(node_grad) if node.grad is None else node.grad + node_grad
            if node._backward is None:
                continue
            for parent, parent_grad in zip(node._parents, node._backward(node_grad), strict=True):
                if parent_grad is None or not parent.requires_grad:
                    continue
                assert parent_grad.shape == parent.shape, (node._op, parent_grad.shape)
                key = id(parent)
                pending[key] = pending[key] + parent_grad if key in pending else parent_grad

    def _topological_order(self) -> list[Tensor]:
        """Every tensor this one depends on, each listed after all of its inputs."""
        order: list[Tensor] = []
        seen: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        while stack:  # a depth-first search without recursion, so deep graphs do not overflow
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node._parents if id(p) not in seen)
        return order


# ---------------------------------------------------------------------------------------
# Functions on tensors


def as_tensor(value: Any, dtype: Any = np.float64) -> Tensor:
    """`value` itself if it is a Tensor, else a constant Tensor (requires_grad=False)."""
    return value if isinstance(value, Tensor) else Tensor(value, dtype=dtype)


def _plain_index(index: Any) -> Any:
    """An index with any Tensor replaced by its integer array, so NumPy can use it."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data.astype(np.intp)
    return index


def cross_entropy(logits: Tensor, targets: Any) -> Tensor:
    """Mean negative log-likelihood of integer `targets` (N,) under `logits` (N, C)."""
    targets = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if logits.ndim != 2:
        raise ShapeError(f"cross_entropy: logits must be (N, C), got shape {logits.shape}")
    n, classes = logits.shape
    if targets.shape != (n,):
        raise ShapeError(
            f"cross_entropy: targets must have shape ({n},) to match logits {logits.shape}, "
            f"got {targets.shape}"
        )
    if not np.issubdtype(targets.dtype, np.integer):
        raise TypeError(f"cross_entropy: targets must be integer class ids, got {targets.dtype}")
    if n and (targets.min() < 0 or targets.max() >= classes):
        raise ValueError(
            f"cross_entropy: targets must lie in [0, {classes}), got {targets.min()}..{targets.max()}"
        )
    log_probs = logits.log_softmax(axis=-1)
    return -log_probs[np.arange(n), targets].mean()
