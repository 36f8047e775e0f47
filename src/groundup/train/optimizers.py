"""Optimizers from scratch: SGD (with momentum and Nesterov), RMSprop, Adam and AdamW.

Every optimizer holds a list of parameters and, per parameter, a little state (a velocity, a
running mean of squared gradients, ...). `step()` reads each parameter's `.grad` and moves the
parameter; `zero_grad()` clears the gradients. That is the interface of `torch.optim`, and the
update rules below follow torch's exactly, so after every step the parameters equal torch's.

Notation: theta is a parameter, g its gradient, eta the learning rate, t the step (from 1).

    SGD          theta <- theta - eta g
    momentum     b <- mu b + (1 - tau) g    (b_1 = g_1),   theta <- theta - eta b
    Nesterov     theta <- theta - eta (g + mu b)            (look one velocity step ahead)
    RMSprop      s <- alpha s + (1 - alpha) g^2,            theta <- theta - eta g / (sqrt(s) + eps)
    Adam         m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
                 m_hat = m / (1 - beta1^t),      v_hat = v / (1 - beta2^t)
                 theta <- theta - eta m_hat / (sqrt(v_hat) + eps)
    L2 decay     g <- g + lambda theta   (SGD, RMSprop, Adam: the decay goes through the rule)
    AdamW        theta <- theta (1 - eta lambda), then Adam without L2 (decoupled decay)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor


class Optimizer:
    """A list of parameters, per-parameter state, and the update rule in `update`."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got no parameters")
        if lr < 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        self.lr = lr  # a schedule may change it between steps
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()  # the update itself must not become part of the next graph
    def step(self) -> None:
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is not None:  # like torch: a parameter without gradient stays put
                self.update(p, p.grad, state)

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening = momentum, dampening
        self.nesterov, self.weight_decay = nesterov, weight_decay

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        g = grad + self.weight_decay * p if self.weight_decay else grad  # d/dp of lambda/2 |p|^2
        if self.momentum:
            if "velocity" not in state:
                b = state["velocity"] = g.clone()  # b_1 = g_1: torch starts undamped
            else:
                b = state["velocity"]
                b.mul_(self.momentum).add_((1 - self.dampening) * g)  # b <- mu b + (1 - tau) g
            g = g + self.momentum * b if self.nesterov else b  # Nesterov: look one step ahead
        p.sub_(self.lr * g)  # theta <- theta - eta g


class RMSprop(Optimizer):
    """Divide each coordinate's step by a running root mean square of its gradients."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, centered

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        g = grad + self.weight_decay * p if self.weight_decay else grad
        if not state:
            state["square_avg"] = torch.zeros_like(p)
            if self.centered:
                state["grad_avg"] = torch.zeros_like(p)
            if self.momentum:
                state["velocity"] = torch.zeros_like(p)
        s = state["square_avg"]
        s.mul_(self.alpha).add_((1 - self.alpha) * g * g)  # s <- alpha s + (1 - alpha) g^2
        if self.centered:  # divide by the standard deviation instead: s - (mean g)^2
            mean = state["grad_avg"]
            mean.mul_(self.alpha).add_((1 - self.alpha) * g)
            rms = (s - mean * mean).sqrt() + self.eps
        else:
            rms = s.sqrt() + self.eps
        if self.momentum:
            b = state["velocity"]
            b.mul_(self.momentum).add_(g / rms)  # b <- mu b + g / rms
            p.sub_(self.lr * b)
        else:
            p.sub_(self.lr * g / rms)  # theta <- theta - eta g / (sqrt(s) + eps)


def adam_step(
    param: Tensor,
    grad: Tensor,
    m: Tensor,
    v: Tensor,
    t: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> None:
    """One Adam (decoupled=False) or AdamW (decoupled=True) step; param, m, v change in place.

    t is the number of this step, counting from 1; m and v hold the moment estimates after
    step t - 1 (zeros before the first step).
    """
    if weight_decay and decoupled:
        param.mul_(1 - lr * weight_decay)  # AdamW: shrink theta itself, outside the gradient
    elif weight_decay:
        grad = grad + weight_decay * param  # Adam: L2, folded into the gradient
    m.mul_(beta1).add_((1 - beta1) * grad)  # m <- beta1 m + (1 - beta1) g
    v.mul_(beta2).add_((1 - beta2) * grad * grad)  # v <- beta2 v + (1 - beta2) g^2
    m_hat = m / (1 - beta1**t)  # m and v start at 0: undo their bias towards 0
    v_hat = v / (1 - beta2**t)
    param.sub_(
        lr * m_hat / (v_hat.sqrt() + eps)
    )  # theta <- theta - eta m_hat / (sqrt(v_hat) + eps)


class Adam(Optimizer):
    """Momentum (m) and RMSprop (v) together, both bias-corrected; weight decay as L2."""

    decoupled = False

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        if not state:
            state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
        state["step"] += 1
        beta1, beta2 = self.betas
        adam_step(
            p, grad, state["m"], state["v"], state["step"], self.lr, beta1, beta2, self.eps,
            self.weight_decay, self.decoupled,
        )  # fmt: skip


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): decay never passes through v."""

    decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


def clip_grad_norm_(params: Iterable[Tensor], max_norm: float) -> Tensor:
    """Scale all gradients together so that their joint L2 norm is at most max_norm.

    Returns the norm before clipping. The direction of the update is kept; only a rare huge
    gradient (a loss spike) is shortened. 1e-6 keeps the division safe, as in torch.
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale)
    return total
