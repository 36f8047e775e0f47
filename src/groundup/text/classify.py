"""Logistic regression with an L2 penalty, trained by L-BFGS, for sparse or dense features.

Two classes: p(y=1 | x) = sigmoid(x . w + b), one weight vector.
K > 2 classes: p(y=k | x) = softmax(x W + b)_k, one weight column per class (multinomial).
The objective is scikit-learn's LogisticRegression(C=...) divided by C n, the same minimiser:

    L(W, b) = (1/n) sum_i -ln p(y_i | x_i) + ||W||^2 / (2 C n)       (b is not penalised)

Its gradient has the familiar "prediction minus target" form:

    dL/dW = X^T (P - Y) / n + W / (C n),     dL/db = sum_i (P_i - Y_i) / n

with P the predicted probabilities and Y the one-hot targets (for two classes, p and y).
L is convex, so there is one minimum; L-BFGS reaches it in tens to hundreds of steps:
it keeps the last few (step, gradient change) pairs and uses them as a cheap estimate of the
inverse Hessian (Nocedal & Wright, algorithm 7.4), with a backtracking line search.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

Matrix = np.ndarray | sp.spmatrix | sp.sparray
STALL = 64 * np.finfo(np.float64).eps  # a relative decrease this small is rounding noise


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + e^-z) without overflow


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def loss_and_gradient(
    weights: np.ndarray, bias: np.ndarray, x: Matrix, y: np.ndarray, c: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """L(W, b) and its gradients. Binary: weights (d,), bias () and y in {0, 1}.
    Multinomial: weights (d, K), bias (K,) and y in {0..K-1}."""
    n = x.shape[0]
    z = np.asarray(x @ weights) + bias
    if weights.ndim == 1:
        # -ln p(y|x) = ln(1 + e^z) - y z
        data_loss = np.sum(np.logaddexp(0.0, z) - y * z) / n
        residual = sigmoid(z) - y
    else:
        log_norm = np.logaddexp.reduce(z, axis=1)
        data_loss = np.sum(log_norm - z[np.arange(n), y]) / n
        residual = softmax(z)
        residual[np.arange(n), y] -= 1.0
    loss = data_loss + np.sum(weights**2) / (2 * c * n)
    grad_weights = np.asarray(x.T @ residual) / n + weights / (c * n)
    return float(loss), grad_weights, residual.sum(axis=0) / n


def lbfgs(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta: np.ndarray,
    max_iter: int = 500,
    tol: float = 1e-6,
    history: int = 10,
    callback: Callable[[int, float], None] | None = None,
) -> tuple[np.ndarray, list[float]]:
    """Minimise a smooth function until max |gradient| <= tol (or the loss stops falling at
    machine precision); returns theta and the losses."""
    loss, grad = fun(theta)
    pairs: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=history)
    losses = [loss]
    for iteration in range(max_iter):
        if np.max(np.abs(grad)) <= tol:
            break
        # two-loop recursion: direction = -H grad with H built from the stored pairs
        q = grad.copy()
        alphas = []
        for s, g_change, rho in reversed(pairs):
            alpha = rho * (s @ q)
            q -= alpha * g_change
            alphas.append(alpha)
        if pairs:
            s, g_change, _ = pairs[-1]
            q *= (s @ g_change) / (g_change @ g_change)  # scale of the initial inverse Hessian
        else:
            q /= max(1.0, np.linalg.norm(grad))  # first step: at most length 1
        for (s, g_change, rho), alpha in zip(pairs, reversed(alphas), strict=True):
            q += s * (alpha - rho * (g_change @ q))
        direction = -q
        # backtracking until the loss falls enough (Armijo); a full step is tried first
        step, slope = 1.0, grad @ direction
        while True:
            new_theta = theta + step * direction
            new_loss, new_grad = fun(new_theta)
            if new_loss <= loss + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, g_change = new_theta - theta, new_grad - grad
        if s @ g_change > 1e-12:  # keep only pairs with positive curvature
            pairs.append((s, g_change, 1.0 / (s @ g_change)))
        decrease = loss - new_loss
        theta, loss, grad = new_theta, new_loss, new_grad
        losses.append(loss)
        if callback is not None:
            callback(iteration + 1, loss)
        if step < 1e-10 or decrease <= STALL * max(1.0, abs(loss)):
            break  # no descent left at machine precision
    return theta, losses


@dataclass
class LogisticRegression:
    """Fit on (n, d) features (sparse or dense) and labels of any type."""

    C: float = 1.0  # noqa: N815 (scikit-learn's name: larger C, weaker penalty)
    max_iter: int = 500
    tol: float = 1e-6
    classes: np.ndarray = field(default_factory=lambda: np.zeros(0), init=False)
    coef: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), init=False)  # (K or 1, d)
    intercept: np.ndarray = field(default_factory=lambda: np.zeros(0), init=False)
    losses: list[float] = field(default_factory=list, init=False)

    def fit(
        self, x: Matrix, labels: np.ndarray, callback: Callable[[int, float], None] | None = None
    ) -> LogisticRegression:
        self.classes, y = np.unique(np.asarray(labels), return_inverse=True)
        if len(self.classes) < 2:
            raise ValueError("need at least two classes")
        d = x.shape[1]
        width = 1 if len(self.classes) == 2 else len(self.classes)

        def unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            if width == 1:
                return theta[:d], theta[d]
            return theta[: d * width].reshape(d, width), theta[d * width :]

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            loss, grad_w, grad_b = loss_and_gradient(*unpack(theta), x, y, self.C)
            return loss, np.concatenate([grad_w.ravel(), np.atleast_1d(grad_b)])

        theta, self.losses = lbfgs(fun, np.zeros(d * width + width), self.max_iter, self.tol,
                                   callback=callback)  # fmt: skip
        weights, bias = unpack(theta)
        self.coef = weights.reshape(d, width).T.copy()
        self.intercept = np.atleast_1d(bias).copy()
        return self

    def decision_function(self, x: Matrix) -> np.ndarray:
        scores = np.asarray(x @ self.coef.T) + self.intercept
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, x: Matrix) -> np.ndarray:
        scores = self.decision_function(x)
        if scores.ndim == 1:
            p = sigmoid(scores)
            return np.stack([1 - p, p], axis=1)
        return softmax(scores)

    def predict(self, x: Matrix) -> np.ndarray:
        return self.classes[np.argmax(self.predict_proba(x), axis=1)]
