"""Optimization in NumPy, checked against scipy.optimize, np.linalg.lstsq and torch.optim.SGD.

Everything is float64. Tolerances are stated where they are used."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from groundup.math import optimization as opt

TWO_D = {
    "rosenbrock": (opt.rosenbrock, opt.rosenbrock_grad, opt.rosenbrock_hess),
    "himmelblau": (opt.himmelblau, opt.himmelblau_grad, opt.himmelblau_hess),
    "saddle": (opt.saddle, opt.saddle_grad, opt.saddle_hess),
}


def torch_rosenbrock(p: torch.Tensor) -> torch.Tensor:
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def torch_himmelblau(p: torch.Tensor) -> torch.Tensor:
    return (p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2


# ---------------------------------------------------------------- gradients and Hessians


@pytest.mark.parametrize("name", sorted(TWO_D))
def test_matches_scipy_check_grad_gradients_and_hessians(name: str) -> None:
    f, grad, hess = TWO_D[name]
    rng = np.random.default_rng(0)
    for x in rng.uniform(-2, 2, size=(20, 2)):
        # central-free forward differences with step 1e-7: error ~ 1e-7 * |f''| (up to ~5e3 here)
        scale = 1 + np.abs(grad(x)).max()
        assert optimize.check_grad(f, grad, x, epsilon=1e-7) < 1e-4 * scale
        numeric = np.array([optimize.approx_fprime(x, lambda z, i=i: grad(z)[i], 1e-7)
                            for i in range(2)])  # fmt: skip
        np.testing.assert_allclose(hess(x), numeric, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(hess(x), hess(x).T)


def test_matches_scipy_rosen_exactly() -> None:
    rng = np.random.default_rng(1)
    for x in rng.normal(size=(10, 2)):
        assert opt.rosenbrock(x) == pytest.approx(optimize.rosen(x), rel=1e-14)
        np.testing.assert_allclose(opt.rosenbrock_grad(x), optimize.rosen_der(x), rtol=1e-13)
        np.testing.assert_allclose(opt.rosenbrock_hess(x), optimize.rosen_hess(x), rtol=1e-13)


def test_matches_torch_autograd_gradients() -> None:
    rng = np.random.default_rng(2)
    for x in rng.uniform(-3, 3, size=(10, 2)):
        for ours, theirs in ((opt.rosenbrock_grad, torch_rosenbrock),
                             (opt.himmelblau_grad, torch_himmelblau)):  # fmt: skip
            p = torch.tensor(x, requires_grad=True)
            theirs(p).backward()
            np.testing.assert_allclose(ours(x), p.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_quadratic_gradient_hessian_and_spectrum() -> None:
    q = opt.quadratic(condition=30.0, dim=5, seed=3)
    x = np.random.default_rng(3).normal(size=5)
    assert optimize.check_grad(q.f, q.grad, x, epsilon=1e-7) < 1e-5
    assert q.mu == pytest.approx(1.0)
    largest = q.L
    assert largest == pytest.approx(30.0)
    np.testing.assert_allclose(q.grad(q.minimizer), 0.0, atol=1e-12)


# ---------------------------------------------------------------- minimizers vs BFGS


def bfgs(f, grad, x0) -> np.ndarray:
    result = optimize.minimize(f, x0, jac=grad, method="BFGS", options={"gtol": 1e-10})
    assert result.success or np.linalg.norm(grad(result.x)) < 1e-8
    return result.x


@pytest.mark.parametrize(
    ("name", "start"),
    [("rosenbrock", (-1.5, 2.0)), ("himmelblau", (2.5, 2.5)), ("saddle", (0.5, 1.2))],  # fmt: skip
)
def test_matches_scipy_bfgs_minimizers(name: str, start: tuple[float, float]) -> None:
    # All methods end within 1e-6 of BFGS run to gradient norm 1e-10.
    f, grad, hess = TWO_D[name]
    x0 = np.array(start)
    reference = bfgs(f, grad, x0)
    by_newton = opt.newton(grad, hess, x0, steps=50)[-1]
    by_backtracking = opt.backtracking(f, grad, x0, steps=20000)[0][-1]
    np.testing.assert_allclose(by_newton, reference, atol=1e-6)
    np.testing.assert_allclose(by_backtracking, reference, atol=1e-6)


def test_matches_scipy_bfgs_on_a_quadratic_with_every_method() -> None:
    q = opt.quadratic(condition=20.0, dim=6, seed=4)
    x0 = np.ones(6)
    reference = bfgs(q.f, q.grad, x0)
    lr, beta = opt.heavy_ball_parameters(q.mu, q.L)
    ends = {
        "gd": opt.gradient_descent(q.grad, x0, opt.optimal_step(q.mu, q.L), 500)[-1],
        "heavy ball": opt.heavy_ball(q.grad, x0, lr, beta, 300)[-1],
        "nesterov": opt.nesterov(q.grad, x0, 1 / q.L, 0.6, 300)[0][-1],
        "newton": opt.newton(q.grad, q.hess, x0, 1)[-1],  # exact in one step
    }
    for name, end in ends.items():
        np.testing.assert_allclose(end, reference, atol=1e-7, err_msg=name)


# ---------------------------------------------------------------- least squares


def regression(n: int = 200, d: int = 5, noise: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d) + noise * rng.normal(size=n)


def test_matches_lstsq_full_batch_and_newton() -> None:
    X, y = regression()
    reference = np.linalg.lstsq(X, y, rcond=None)[0]
    full = opt.sgd_least_squares(X, y, batch_size=len(y), steps=300, lr0=0.5)[-1]
    np.testing.assert_allclose(full, reference, atol=1e-10)
    # the loss is quadratic with Hessian X^T X / n: one Newton step lands on the solution
    w = opt.newton(lambda w: opt.least_squares_grad(X, y, w), lambda w: X.T @ X / len(y),
                   np.zeros(5), 1)[-1]  # fmt: skip
    np.testing.assert_allclose(w, reference, atol=1e-12)


def test_matches_lstsq_with_minibatches() -> None:
    # Without noise every sample agrees with the solution: SGD at a fixed step converges to it.
    X, y = regression(noise=0.0)
    reference = np.linalg.lstsq(X, y, rcond=None)[0]
    w = opt.sgd_least_squares(X, y, batch_size=8, steps=2000, lr0=0.1)[-1]
    np.testing.assert_allclose(w, reference, atol=1e-8)
    # With noise a fixed step keeps jittering; a decaying one settles within 0.02 of lstsq.
    X, y = regression(noise=0.5, seed=1)
    reference = np.linalg.lstsq(X, y, rcond=None)[0]
    fixed = opt.sgd_least_squares(X, y, batch_size=4, steps=4000, lr0=0.2, seed=1)[-1]
    decayed = opt.sgd_least_squares(X, y, batch_size=4, steps=4000, lr0=0.2, decay=0.05,
                                    seed=1)[-1]  # fmt: skip
    assert np.abs(decayed - reference).max() < 0.02
    assert np.linalg.norm(decayed - reference) < np.linalg.norm(fixed - reference) / 2


def test_least_squares_gradient_matches_torch() -> None:
    X, y = regression(n=30, d=4)
    w = np.random.default_rng(5).normal(size=4)
    wt = torch.tensor(w, requires_grad=True)
    loss = ((torch.tensor(X) @ wt - torch.tensor(y)) ** 2).mean() / 2
    loss.backward()
    assert opt.least_squares_loss(X, y, w) == pytest.approx(loss.item(), rel=1e-13)
    np.testing.assert_allclose(opt.least_squares_grad(X, y, w), wt.grad.numpy(), rtol=1e-12)


def classification(n: int = 300, d: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(float)
    return X, y


def test_logistic_gradient_and_hessian_match_scipy_and_torch() -> None:
    X, y = classification()
    w = np.random.default_rng(1).normal(size=4)
    f = lambda v: opt.logistic_loss(X, y, v, 0.1)  # noqa: E731
    g = lambda v: opt.logistic_grad(X, y, v, 0.1)  # noqa: E731
    assert optimize.check_grad(f, g, w, epsilon=1e-7) < 1e-6
    numeric = np.array([optimize.approx_fprime(w, lambda v, i=i: g(v)[i], 1e-7)
                        for i in range(4)])  # fmt: skip
    np.testing.assert_allclose(opt.logistic_hess(X, y, w, 0.1), numeric, atol=1e-6)
    wt = torch.tensor(w, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(X) @ wt,
                                                                torch.tensor(y))  # fmt: skip
    (loss + 0.05 * (wt @ wt)).backward()
    assert f(w) == pytest.approx(loss.item() + 0.05 * (w @ w), rel=1e-12)
    np.testing.assert_allclose(g(w), wt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_matches_scipy_bfgs_and_sklearn_on_logistic_regression() -> None:
    # l2-regularised logistic regression is strongly convex: Newton, backtracking GD, BFGS and
    # scikit-learn (whose C is 1 / (n l2) in this scaling) find the same weights to 1e-6.
    from sklearn.linear_model import LogisticRegression

    X, y = classification()
    l2 = 0.01
    f = lambda v: opt.logistic_loss(X, y, v, l2)  # noqa: E731
    g = lambda v: opt.logistic_grad(X, y, v, l2)  # noqa: E731
    h = lambda v: opt.logistic_hess(X, y, v, l2)  # noqa: E731
    reference = bfgs(f, g, np.zeros(4))
    np.testing.assert_allclose(opt.newton(g, h, np.zeros(4), 10)[-1], reference, atol=1e-6)
    np.testing.assert_allclose(opt.backtracking(f, g, np.zeros(4), 2000)[0][-1], reference,
                               atol=1e-6)  # fmt: skip
    model = LogisticRegression(C=1 / (len(y) * l2), fit_intercept=False, tol=1e-12,
                               max_iter=10_000).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(model.coef_[0], reference, atol=1e-6)
    assert opt.looks_convex(f, g, h, np.random.default_rng(2).normal(size=(15, 4)) * 3)


# ---------------------------------------------------------------- momentum: textbook = torch


def torch_sgd_trajectory(f_torch, x0, lr, steps, momentum, nesterov) -> np.ndarray:
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    sgd = torch.optim.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov)
    points = [p.detach().clone()]
    for _ in range(steps):
        sgd.zero_grad()
        f_torch(p).backward()
        sgd.step()
        points.append(p.detach().clone())
    return torch.stack(points).numpy()


@settings(max_examples=15, deadline=None)
@given(
    lr=st.floats(1e-4, 1.5e-3),
    momentum=st.floats(0.0, 0.95),
    start=st.tuples(st.floats(-1.5, 1.5), st.floats(-0.5, 2.0)),
)
def test_matches_torch_sgd_heavy_ball_and_nesterov(lr, momentum, start) -> None:
    # Rosenbrock at these step sizes is stable, so rounding does not grow: agreement to 1e-9.
    x0 = np.array(start)
    for use_nesterov in (False, True):
        if use_nesterov and momentum == 0:
            continue  # torch refuses Nesterov without momentum
        theirs = torch_sgd_trajectory(torch_rosenbrock, x0, lr, 60, momentum, use_nesterov)
        ours = opt.gradient_descent(opt.rosenbrock_grad, x0, lr, 60, momentum, use_nesterov)
        np.testing.assert_allclose(ours, theirs, atol=1e-9)
        # the textbook forms visit the same points: torch's parameter is Polyak's x for heavy
        # ball and Nesterov's look-ahead point y
        textbook = (opt.nesterov(opt.rosenbrock_grad, x0, lr, momentum, 60)[1] if use_nesterov
                    else opt.heavy_ball(opt.rosenbrock_grad, x0, lr, momentum, 60))  # fmt: skip
        np.testing.assert_allclose(textbook, theirs, atol=1e-9)


def test_nesterov_x_sequence_is_one_gradient_step_behind_y() -> None:
    # x_{k+1} = y_k - lr g(y_k): torch never stores x, but it is one plain step from y.
    q = opt.quadratic(10.0, dim=3, seed=6)
    xs, ys = opt.nesterov(q.grad, np.ones(3), 0.05, 0.8, 30)
    np.testing.assert_allclose(xs[1:], ys[:-1] - 0.05 * np.array([q.grad(y) for y in ys[:-1]]))


@settings(max_examples=20, deadline=None)
@given(steps=st.integers(0, 12), d=st.integers(1, 5), lr=st.floats(0.0, 0.2))
def test_gradient_descent_shape_start_and_no_aliasing(steps: int, d: int, lr: float) -> None:
    x0 = np.linspace(-1, 1, d)
    before = x0.copy()
    trajectory = opt.gradient_descent(lambda x: 2 * x, x0, lr, steps, momentum=0.5)
    assert trajectory.shape == (steps + 1, d)
    np.testing.assert_array_equal(trajectory[0], before)
    np.testing.assert_array_equal(x0, before)  # the caller's start is not touched
    # momentum 0 is plain gradient descent: x_k = (1 - 2 lr)^k x0 on f = |x|^2
    plain = opt.gradient_descent(lambda x: 2 * x, x0, lr, steps)
    expected = (1 - 2 * lr) ** np.arange(steps + 1)[:, None] * x0
    np.testing.assert_allclose(plain, expected, atol=1e-12)


# ---------------------------------------------------------------- rates on quadratics


@pytest.mark.parametrize("condition", [4.0, 20.0, 100.0])
def test_measured_rate_matches_theory(condition: float) -> None:
    # With the step 2/(L+mu) the error shrinks by (kappa-1)/(kappa+1) per step; measured over
    # the second half of a run that stops before rounding, it lies within 0.2 % of the theory
    # (never above it).
    q = opt.quadratic(condition, dim=8, seed=7)
    rho = opt.gd_rate(q.mu, q.L)
    steps = int(np.log(1e-8) / np.log(rho))
    x0 = q.minimizer + np.random.default_rng(7).normal(size=8)
    trajectory = opt.gradient_descent(q.grad, x0, opt.optimal_step(q.mu, q.L), steps)
    measured = opt.measured_rate(trajectory, q.minimizer, skip=steps // 2)
    assert rho * 0.998 <= measured <= rho * (1 + 1e-9)
    # any other fixed step is slower: 1/L gives 1 - 1/kappa
    slow_steps = int(np.log(1e-8) / np.log(1 - 1 / condition))
    slower = opt.gradient_descent(q.grad, x0, 1 / q.L, slow_steps)
    assert opt.measured_rate(slower, q.minimizer, skip=slow_steps // 2) == pytest.approx(
        1 - 1 / condition, rel=2e-3
    )
    # heavy ball with Polyak's parameters: (sqrt(kappa)-1)/(sqrt(kappa)+1), up to a factor k
    # that the error picks up (the iteration matrix is not diagonalisable there): within 0.03
    lr, beta = opt.heavy_ball_parameters(q.mu, q.L)
    root = np.sqrt(condition)
    fast_rate = (root - 1) / (root + 1)
    fast_steps = int(np.log(1e-8) / np.log(fast_rate))
    fast = opt.heavy_ball(q.grad, x0, lr, beta, fast_steps)
    measured = opt.measured_rate(fast, q.minimizer, skip=fast_steps // 2)
    assert measured == pytest.approx(fast_rate, abs=0.03)


def test_steps_above_two_over_L_diverge() -> None:
    q = opt.quadratic(10.0, dim=2, seed=8)
    x0 = np.array([1.0, -1.0])
    assert q.f(opt.gradient_descent(q.grad, x0, 2.1 / q.L, 100)[-1]) > 1e3
    assert q.f(opt.gradient_descent(q.grad, x0, 1.9 / q.L, 400)[-1]) == pytest.approx(
        q.f(q.minimizer), abs=1e-8
    )


# ---------------------------------------------------------------- line search, Newton, convexity


def test_backtracking_satisfies_armijo_and_descends() -> None:
    x0 = np.array([-1.5, 2.0])
    trajectory, used = opt.backtracking(opt.rosenbrock, opt.rosenbrock_grad, x0, 200)
    values = np.array([opt.rosenbrock(x) for x in trajectory])
    assert np.all(np.diff(values) <= 0)
    for x, x_next, t in zip(trajectory[:-1], trajectory[1:], used, strict=True):
        g = opt.rosenbrock_grad(x)
        assert opt.rosenbrock(x_next) <= opt.rosenbrock(x) - 1e-4 * t * (g @ g) + 1e-15
        if t < 1.0:  # the step before (twice as long) must have failed the test
            assert opt.rosenbrock(x - 2 * t * g) > opt.rosenbrock(x) - 1e-4 * 2 * t * (g @ g)


def test_newton_is_attracted_by_a_saddle_gradient_descent_is_not() -> None:
    x0 = np.array([0.5, 1e-3])
    by_newton = opt.newton(opt.saddle_grad, opt.saddle_hess, x0, 30)[-1]
    by_gd = opt.gradient_descent(opt.saddle_grad, x0, 0.1, 500)[-1]
    np.testing.assert_allclose(by_newton, [0.0, 0.0], atol=1e-9)  # the saddle point
    np.testing.assert_allclose(by_gd, [0.0, 1.0], atol=1e-6)  # a minimum
    assert opt.smallest_hessian_eigenvalue(opt.saddle_hess, np.array([by_newton])) < 0


def test_newton_converges_quadratically() -> None:
    x0 = np.array([2.5, 2.5])
    errors = np.linalg.norm(opt.newton(opt.himmelblau_grad, opt.himmelblau_hess, x0, 6)
                            - np.array([3.0, 2.0]), axis=1)  # fmt: skip
    # e_{k+1} <= C e_k^2: the number of correct digits doubles
    for before, after in zip(errors[1:4], errors[2:5], strict=True):
        assert after < 2 * before**2


def test_convexity_on_samples() -> None:
    points = np.random.default_rng(9).uniform(-2, 2, size=(40, 2))
    q = opt.quadratic(50.0, dim=2, seed=9)
    assert opt.first_order_violation(q.f, q.grad, points) <= 1e-9
    assert opt.smallest_hessian_eigenvalue(q.hess, points) == pytest.approx(1.0)
    assert opt.looks_convex(q.f, q.grad, q.hess, points)
    for name, (f, grad, hess) in TWO_D.items():
        assert opt.first_order_violation(f, grad, points) > 0.1, name
        assert opt.smallest_hessian_eigenvalue(hess, points) < 0, name
        assert not opt.looks_convex(f, grad, hess, points), name


def test_optimal_step_formulas() -> None:
    assert opt.optimal_step(1.0, 9.0) == pytest.approx(0.2)
    assert opt.gd_rate(1.0, 9.0) == pytest.approx(0.8)
    lr, beta = opt.heavy_ball_parameters(1.0, 9.0)
    assert lr == pytest.approx(0.25) and beta == pytest.approx(0.25)
