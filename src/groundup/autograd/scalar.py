"""Autograd from one number: a scalar `Value` that remembers how it was made.

Every operation makes a new `Value` from its inputs and, right beside that forward code,
stores a small `_backward` function: given the gradient of the output, it adds the local
derivative times that gradient to each input (the chain rule, one step). `backward()` runs
those functions from the output back to the leaves in reverse topological order.

This is micrograd's engine. The tensor engine in `engine.py` does the same with NumPy
arrays, so one operation there does the work of thousands of `Value` operations here:
compare the two on the same network with `benchmarks/bench_autograd.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np


class Value:
    """One number, its gradient, and the operation that produced it."""

    def __init__(self, data: float, _parents: tuple[Value, ...] = (), _op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0  # dL/d(this value), filled in by backward()
        self._parents = _parents
        self._backward: Callable[[], None] = lambda: None  # a leaf passes nothing on
        self._op = _op

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad  # d(a+b)/da = 1
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad  # d(ab)/da = b
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Value:
        if not isinstance(exponent, int | float):
            raise TypeError("pow: the exponent must be a Python number, not a Value")
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward() -> None:
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward() -> None:
            self.grad += (self.data > 0) * out.grad  # slope 0 at 0, as in PyTorch

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad  # d exp(x)/dx = exp(x)

        out._backward = _backward
        return out

    def log(self) -> Value:
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    # Everything else is made of the operations above, so it needs no rule of its own.
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __truediv__(self, other: Value | float) -> Value:
        return self * other**-1.0

    def __radd__(self, other: float) -> Value:
        return self + other

    def __rsub__(self, other: float) -> Value:
        return Value(other) - self

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rtruediv__(self, other: float) -> Value:
        return Value(other) / self

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def backward(self) -> None:
        """Set `.grad` of every value this one depends on to d(this)/d(that value)."""
        order: list[Value] = []  # each value after all of its inputs
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # depth-first search without recursion: deep graphs do not overflow
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node._parents if id(p) not in seen)
        for node in order:
            node.grad = 0.0  # a fresh pass: gradients do not add up over calls
        self.grad = 1.0  # dL/dL
        for node in reversed(order):  # outputs before the inputs they were made from
            node._backward()


# ---------------------------------------------------------------------------------------
# A multilayer perceptron made of Values, laid out like `nn.MLP` of the tensor engine


class Linear:
    """y_j = sum_i x_i W_ij + b_j, one `Value` per weight."""

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator) -> None:
        # The same draws in the same order as nn.Linear: equal seeds give equal weights.
        bound = 1.0 / math.sqrt(in_features)
        weight = rng.uniform(-bound, bound, (in_features, out_features))
        bias = rng.uniform(-bound, bound, out_features)
        self.weight = [[Value(w) for w in row] for row in weight.tolist()]
        self.bias = [Value(b) for b in bias.tolist()]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        columns = zip(*self.weight, strict=True)  # column j holds the weights into output j
        return [
            sum((xi * w for xi, w in zip(x, column, strict=True)), b)
            for column, b in zip(columns, self.bias, strict=True)
        ]

    def parameters(self) -> list[Value]:
        return [w for row in self.weight for w in row] + self.bias


class MLP:
    """Linear layers with ReLU or tanh between them; the last layer returns raw outputs."""

    def __init__(
        self, sizes: Sequence[int], rng: np.random.Generator, activation: str = "relu"
    ) -> None:
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got '{activation}'")
        self.activation = activation
        self.layers = [Linear(i, o, rng) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        for layer in self.layers[:-1]:
            x = [getattr(v, self.activation)() for v in layer(x)]
        return self.layers[-1](x)

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]
