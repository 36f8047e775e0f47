"""A small neural-network toolkit on the NumPy engine: Linear, MLP, SGD with momentum, Adam.

Only the forward pass is written here; every gradient comes from `engine.Tensor.backward`.
Weights are stored as (in_features, out_features) so a layer reads y = x W + b.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from groundup.autograd.engine import Tensor

ACTIVATIONS = ("relu", "tanh", "sigmoid")


class Module:
    """Something with parameters that maps a tensor to a tensor."""

    def parameters(self) -> list[Tensor]:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())


class Linear(Module):
    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator) -> None:
        # PyTorch's default range: keeps the output variance near the input variance.
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Tensor(
            rng.uniform(-bound, bound, (in_features, out_features)), requires_grad=True
        )
        self.bias = Tensor(rng.uniform(-bound, bound, out_features), requires_grad=True)

    def parameters(self) -> list[Tensor]:
        return [self.weight, self.bias]

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.weight + self.bias  # (N, in) @ (in, out) + (out,) -> (N, out)


class MLP(Module):
    """Linear layers with a nonlinearity between them; the last layer returns raw logits."""

    def __init__(
        self, sizes: Sequence[int], rng: np.random.Generator, activation: str = "relu"
    ) -> None:
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got '{activation}'")
        self.activation = activation
        self.layers = [Linear(i, o, rng) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]

    def parameters(self) -> list[Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            x = getattr(layer(x), self.activation)()
        return self.layers[-1](x)


class SGD:
    """Stochastic gradient descent with momentum, in PyTorch's form: v = mu v + g; p -= lr v."""

    def __init__(self, params: Sequence[Tensor], lr: float, momentum: float = 0.0) -> None:
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        for p, v in zip(self.params, self.velocity, strict=True):
            if p.grad is None:
                continue
            v *= self.momentum
            v += p.grad
            p.data -= self.lr * v  # in place: the data, not the graph, is updated

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()


class Adam:
    """Adam (Kingma & Ba 2015): a step per parameter scaled by running gradient statistics."""

    def __init__(
        self,
        params: Sequence[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.m = [np.zeros_like(p.data) for p in self.params]  # mean of gradients
        self.v = [np.zeros_like(p.data) for p in self.params]  # mean of squared gradients
        self.t = 0

    def step(self) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            m *= beta1
            m += (1 - beta1) * p.grad
            v *= beta2
            v += (1 - beta2) * p.grad**2
            # Both averages start at zero; dividing by 1 - beta^t removes that bias.
            m_hat = m / (1 - beta1**self.t)
            v_hat = v / (1 - beta2**self.t)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()
