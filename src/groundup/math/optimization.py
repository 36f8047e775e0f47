"""Optimization of functions of a few variables, in NumPy: gradient descent and its relatives.

Every method takes the gradient as a function `grad(x) -> array` and returns the whole
trajectory, an array of shape (steps + 1, d) whose first row is the start x0, because the
path tells as much as the end point. Notation: x a point, g = grad f(x), alpha a step size
(learning rate), beta a momentum, mu and L the smallest and largest curvature (eigenvalues of
the Hessian), kappa = L / mu the condition number.

    gradient descent   x <- x - alpha g
    heavy ball         x_{k+1} = x_k - alpha g(x_k) + beta (x_k - x_{k-1})          (Polyak)
    Nesterov           x_{k+1} = y_k - alpha g(y_k),  y_{k+1} = x_{k+1} + beta (x_{k+1} - x_k)
    Newton             x <- x - H(x)^{-1} g
    SGD                w <- w - alpha_k g_batch(w),   alpha_k = alpha_0 / (1 + decay k)

`gradient_descent` writes momentum the way torch.optim.SGD does (a velocity b <- beta b + g);
the test suite shows that this is the same sequence of points as the textbook forms above.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
Function = Callable[[Array], float]
Gradient = Callable[[Array], Array]
Hessian = Callable[[Array], Array]

# ---------------------------------------------------------------- test functions


@dataclass(frozen=True)
class Quadratic:
    """f(x) = 1/2 x^T A x - b^T x with A symmetric positive definite; the minimizer solves Ax = b."""

    A: Array
    b: Array

    def f(self, x: Array) -> float:
        return float(0.5 * x @ self.A @ x - self.b @ x)

    def grad(self, x: Array) -> Array:
        return self.A @ x - self.b

    def hess(self, x: Array) -> Array:
        return self.A

    @property
    def minimizer(self) -> Array:
        return np.linalg.solve(self.A, self.b)

    @property
    def mu(self) -> float:  # strong convexity: the smallest curvature
        return float(np.linalg.eigvalsh(self.A)[0])

    @property
    def L(self) -> float:  # smoothness: the largest curvature
        return float(np.linalg.eigvalsh(self.A)[-1])


def quadratic(condition: float, dim: int = 2, seed: int = 0) -> Quadratic:
    """A convex quadratic with eigenvalues spread from 1 to `condition`, turned by a random
    rotation so that the valley does not line up with the axes."""
    rng = np.random.default_rng(seed)
    eigenvalues = np.geomspace(1.0, condition, dim)
    rotation, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    A = rotation @ np.diag(eigenvalues) @ rotation.T
    return Quadratic(A=(A + A.T) / 2, b=rng.normal(size=dim))


def rosenbrock(x: Array) -> float:
    """(1 - x)^2 + 100 (y - x^2)^2: a curved narrow valley, minimum 0 at (1, 1)."""
    return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)


def rosenbrock_grad(x: Array) -> Array:
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def rosenbrock_hess(x: Array) -> Array:
    return np.array([[2 - 400 * x[1] + 1200 * x[0] ** 2, -400 * x[0]], [-400 * x[0], 200.0]])


def himmelblau(x: Array) -> float:
    """(x^2 + y - 11)^2 + (x + y^2 - 7)^2: four minima of value 0, e.g. at (3, 2)."""
    return float((x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2)


def himmelblau_grad(x: Array) -> Array:
    u, v = x[0] ** 2 + x[1] - 11, x[0] + x[1] ** 2 - 7
    return np.array([4 * x[0] * u + 2 * v, 2 * u + 4 * x[1] * v])


def himmelblau_hess(x: Array) -> Array:
    u, v = x[0] ** 2 + x[1] - 11, x[0] + x[1] ** 2 - 7
    cross = 4 * x[0] + 4 * x[1]
    return np.array([[4 * u + 8 * x[0] ** 2 + 2, cross], [cross, 2 + 4 * v + 8 * x[1] ** 2]])


def saddle(x: Array) -> float:
    """x^2 / 2 + y^4 / 4 - y^2 / 2: minima at (0, +-1), a saddle point at the origin."""
    return float(0.5 * x[0] ** 2 + 0.25 * x[1] ** 4 - 0.5 * x[1] ** 2)


def saddle_grad(x: Array) -> Array:
    return np.array([x[0], x[1] ** 3 - x[1]])


def saddle_hess(x: Array) -> Array:
    return np.array([[1.0, 0.0], [0.0, 3 * x[1] ** 2 - 1]])


# ---------------------------------------------------------------- first-order methods


def gradient_descent(
    grad: Gradient,
    x0: Array,
    lr: float,
    steps: int,
    momentum: float = 0.0,
    nesterov: bool = False,
) -> Array:
    """Gradient descent with optional (Nesterov) momentum, in torch.optim.SGD's form:

    b <- momentum b + g                    (b starts at 0, so b_1 = g_1)
    x <- x - lr b                          heavy ball
    x <- x - lr (g + momentum b)           Nesterov
    """
    x = np.array(x0, dtype=float)  # a copy: the caller's x0 stays as it is
    velocity = np.zeros_like(x)
    trajectory = [x.copy()]
    for _ in range(steps):
        g = grad(x)
        velocity = momentum * velocity + g
        x = x - lr * (g + momentum * velocity if nesterov else velocity)
        trajectory.append(x.copy())
    return np.array(trajectory)


def heavy_ball(grad: Gradient, x0: Array, lr: float, beta: float, steps: int) -> Array:
    """Polyak's textbook form: x_{k+1} = x_k - lr g(x_k) + beta (x_k - x_{k-1}), x_{-1} = x_0."""
    previous, x = np.array(x0, dtype=float), np.array(x0, dtype=float)
    trajectory = [x.copy()]
    for _ in range(steps):
        previous, x = x, x - lr * grad(x) + beta * (x - previous)
        trajectory.append(x.copy())
    return np.array(trajectory)


def nesterov(grad: Gradient, x0: Array, lr: float, beta: float, steps: int) -> tuple[Array, Array]:
    """Nesterov's textbook form: a gradient step from the look-ahead point y, then extrapolate.

        x_{k+1} = y_k - lr g(y_k),   y_{k+1} = x_{k+1} + beta (x_{k+1} - x_k),   y_0 = x_0

    Returns both sequences (xs, ys); torch.optim.SGD(nesterov=True) keeps y as its parameter.
    """
    x, y = np.array(x0, dtype=float), np.array(x0, dtype=float)
    xs, ys = [x.copy()], [y.copy()]
    for _ in range(steps):
        x_next = y - lr * grad(y)
        y = x_next + beta * (x_next - x)
        x = x_next
        xs.append(x.copy())
        ys.append(y.copy())
    return np.array(xs), np.array(ys)


def backtracking(
    f: Function,
    grad: Gradient,
    x0: Array,
    steps: int,
    lr0: float = 1.0,
    shrink: float = 0.5,
    c: float = 1e-4,
) -> tuple[Array, Array]:
    """Gradient descent whose step halves until it decreases f enough (Armijo's condition):

        f(x - t g) <= f(x) - c t |g|^2

    Every step starts the search again at t = lr0. Returns the trajectory and the steps used.
    """
    x = np.array(x0, dtype=float)
    trajectory, used = [x.copy()], []
    for _ in range(steps):
        g, fx = grad(x), f(x)
        t = lr0
        while f(x - t * g) > fx - c * t * (g @ g) and t > 1e-12:  # the floor ends a search at a
            t *= shrink  # point where even tiny steps do not help (x is a minimizer up to rounding)
        x = x - t * g
        trajectory.append(x.copy())
        used.append(t)
    return np.array(trajectory), np.array(used)


# ---------------------------------------------------------------- second order


def newton(grad: Gradient, hess: Hessian, x0: Array, steps: int) -> Array:
    """Newton's method: jump to the minimum of the local quadratic model, x <- x - H^{-1} g.

    It finds a point where the gradient vanishes, which may be a maximum or a saddle: where
    H is not positive definite the step can point uphill.
    """
    x = np.array(x0, dtype=float)
    trajectory = [x.copy()]
    for _ in range(steps):
        x = x - np.linalg.solve(hess(x), grad(x))  # solve, never invert: cheaper and stabler
        trajectory.append(x.copy())
    return np.array(trajectory)


# ---------------------------------------------------------------- stochastic gradients


def least_squares_loss(X: Array, y: Array, w: Array) -> float:
    """1/(2n) |X w - y|^2, the mean squared error (halved so that the gradient is clean)."""
    residual = X @ w - y
    return float(residual @ residual / (2 * len(y)))


def least_squares_grad(X: Array, y: Array, w: Array) -> Array:
    return X.T @ (X @ w - y) / len(y)


def sgd_least_squares(
    X: Array,
    y: Array,
    batch_size: int,
    steps: int,
    lr0: float,
    decay: float = 0.0,
    seed: int = 0,
) -> Array:
    """Minibatch SGD on 1/(2n) |X w - y|^2 from w = 0 with step lr0 / (1 + decay k).

    Each step draws `batch_size` rows without replacement; their mean gradient is an unbiased
    estimate of the full one, with a variance that shrinks like 1 / batch_size. A decaying step
    lets the noise average out so that w settles instead of jittering around the minimum.
    """
    rng = np.random.default_rng(seed)
    w = np.zeros(X.shape[1])
    trajectory = [w.copy()]
    for k in range(steps):
        rows = rng.choice(len(y), size=batch_size, replace=False)
        w = w - lr0 / (1 + decay * k) * least_squares_grad(X[rows], y[rows], w)
        trajectory.append(w.copy())
    return np.array(trajectory)


def logistic_loss(X: Array, y: Array, w: Array, l2: float = 0.0) -> float:
    """Mean cross-entropy of logistic regression with labels y in {0, 1}, plus l2/2 |w|^2.

    log(1 + e^z) - y z is the cross-entropy of sigmoid(z) against y; logaddexp keeps it finite
    for large |z|. The loss is convex in w (its Hessian below is a weighted X^T X).
    """
    z = X @ w
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * (w @ w))


def logistic_grad(X: Array, y: Array, w: Array, l2: float = 0.0) -> Array:
    p = 1.0 / (1.0 + np.exp(-(X @ w)))  # sigmoid: the predicted probability of y = 1
    return X.T @ (p - y) / len(y) + l2 * w


def logistic_hess(X: Array, y: Array, w: Array, l2: float = 0.0) -> Array:
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return (X.T * (p * (1 - p))) @ X / len(y) + l2 * np.eye(len(w))


# ---------------------------------------------------------------- convexity, on samples


def first_order_violation(f: Function, grad: Gradient, points: Array) -> float:
    """The worst violation of f(y) >= f(x) + g(x) . (y - x) over all pairs of `points`.

    A convex function lies above each of its tangent planes; 0 means no pair disagreed.
    Samples can prove non-convexity, never convexity.
    """
    worst = 0.0
    for x in points:
        fx, gx = f(x), grad(x)
        for y in points:
            worst = max(worst, fx + gx @ (y - x) - f(y))
    return worst


def smallest_hessian_eigenvalue(hess: Hessian, points: Array) -> float:
    """min over the points of the smallest eigenvalue of H(x); >= 0 everywhere iff convex."""
    return min(float(np.linalg.eigvalsh(hess(x))[0]) for x in points)


def looks_convex(
    f: Function, grad: Gradient, hess: Hessian, points: Array, tol: float = 1e-9
) -> bool:
    """Both tests pass on the samples (up to `tol` for rounding)."""
    scale = max(1.0, max(abs(f(x)) for x in points))
    return (
        first_order_violation(f, grad, points) <= tol * scale
        and smallest_hessian_eigenvalue(hess, points) >= -tol * scale
    )


# ---------------------------------------------------------------- theory for quadratics


def optimal_step(mu: float, L: float) -> float:
    """The fixed step 2 / (L + mu): it shrinks the error equally along the flattest and the
    steepest direction, by (kappa - 1) / (kappa + 1) each."""
    return 2.0 / (L + mu)


def gd_rate(mu: float, L: float) -> float:
    """The error factor per step of gradient descent with optimal_step: (kappa-1)/(kappa+1)."""
    kappa = L / mu
    return (kappa - 1) / (kappa + 1)


def heavy_ball_parameters(mu: float, L: float) -> tuple[float, float]:
    """Polyak's best (lr, beta) on a quadratic: the rate becomes (sqrt(kappa)-1)/(sqrt(kappa)+1)."""
    lr = 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    beta = ((np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))) ** 2
    return float(lr), float(beta)


def measured_rate(trajectory: Array, x_star: Array, skip: int = 0) -> float:
    """The mean factor by which |x_k - x*| shrinks per step, from step `skip` to the end
    (the geometric mean: the k-th root of the total shrink)."""
    errors = np.linalg.norm(trajectory[skip:] - x_star, axis=1)
    return float((errors[-1] / errors[0]) ** (1.0 / (len(errors) - 1)))
