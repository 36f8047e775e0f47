"""Probability and statistics from scratch in NumPy: distributions, sampling, estimation, tests.

Read top to bottom:
1. special functions: log-gamma and erf from `math`, the regularized incomplete beta by a
   continued fraction, and inversion of any increasing cdf by bisection;
2. distributions: pmf/pdf, log-density and cdf (and a quantile where we need one) of
   Bernoulli, binomial, Poisson, uniform, normal, exponential, beta and Student's t;
3. sampling from a uniform random source: inverse-CDF and Box-Muller;
4. sample statistics: mean, variance (ddof), covariance, correlation;
5. maximum likelihood: closed forms, and the same optimum by gradient ascent;
6. Bayesian updating of a coin: the beta-binomial model;
7. tests and intervals: t-tests (one sample, Student, Welch), z-test for a proportion,
   t-interval for a mean, Wald and Wilson intervals for a proportion.

Every function takes floats or NumPy arrays; scipy.stats is the oracle in the tests, never
a dependency here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

ArrayLike = float | np.ndarray

# ---------------------------------------------------------------- 1. special functions


def log_beta_function(a: float, b: float) -> float:
    """log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b)."""
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), evaluated by the modified Lentz method.

    Numerical Recipes §6.4: it converges fast for x < (a + 1) / (a + b + 2); the caller
    uses the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) to stay in that region.
    """
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        # two steps per m: the even term d_{2m}, then the odd term d_{2m+1}
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < eps:
            break
    return result


def _incomplete_beta_scalar(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    # x^a (1-x)^b / (a B(a, b)) is the factor in front of the continued fraction
    log_front = a * math.log(x) + b * math.log1p(-x) - log_beta_function(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


_incomplete_beta = np.vectorize(_incomplete_beta_scalar, otypes=[float])


def regularized_incomplete_beta(a: ArrayLike, b: ArrayLike, x: ArrayLike) -> ArrayLike:
    """I_x(a, b) = ∫_0^x t^(a-1) (1-t)^(b-1) dt / B(a, b): the beta cdf, and through it t and binomial."""
    return _scalar_or_array(_incomplete_beta(a, b, x))


def invert_cdf(
    cdf: Callable[[np.ndarray], np.ndarray], q: ArrayLike, low: float, high: float
) -> ArrayLike:
    """The x with cdf(x) = q, by bisection: slow next to special-purpose formulas, but obviously right.

    The bracket [low, high] is widened (doubled) until it holds every q; 100 halvings then
    shrink it below float resolution.
    """
    q = np.asarray(q, dtype=float)
    lo, hi = np.full(q.shape, float(low)), np.full(q.shape, float(high))
    while np.any(cdf(lo) > q):
        lo = np.where(cdf(lo) > q, 2 * lo - (hi - lo), lo)
    while np.any(cdf(hi) < q):
        hi = np.where(cdf(hi) < q, 2 * hi - lo, hi)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        below = cdf(mid) < q
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return _scalar_or_array(0.5 * (lo + hi))


def _scalar_or_array(values: np.ndarray) -> ArrayLike:
    return float(values) if np.ndim(values) == 0 else values


# ---------------------------------------------------------------- 2. distributions
# Discrete ones have a pmf P(X = k); continuous ones a pdf. Log-densities are written out
# directly (not log(pdf)) so that they stay finite far in the tails.


def bernoulli_pmf(k: ArrayLike, p: float) -> ArrayLike:
    k = np.asarray(k)
    return _scalar_or_array(np.where(k == 1, p, np.where(k == 0, 1.0 - p, 0.0)))


def bernoulli_cdf(k: ArrayLike, p: float) -> ArrayLike:
    k = np.asarray(k, dtype=float)
    return _scalar_or_array(np.where(k < 0, 0.0, np.where(k < 1, 1.0 - p, 1.0)))


def _log_choose(n: float, k: np.ndarray) -> np.ndarray:
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)


def binomial_logpmf(k: ArrayLike, n: int, p: float) -> ArrayLike:
    """log[C(n, k) p^k (1-p)^(n-k)] for k = 0..n (and -inf outside)."""
    k = np.asarray(k, dtype=float)
    inside = (k >= 0) & (k <= n) & (k == np.floor(k))
    kk = np.where(inside, k, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(kk > 0, kk * np.log(p), 0.0) + np.where(
            n - kk > 0, (n - kk) * np.log1p(-p), 0.0
        )
    return _scalar_or_array(np.where(inside, _log_choose(n, kk) + terms, -np.inf))


def binomial_pmf(k: ArrayLike, n: int, p: float) -> ArrayLike:
    return _scalar_or_array(np.exp(binomial_logpmf(k, n, p)))


def binomial_cdf(k: ArrayLike, n: int, p: float) -> ArrayLike:
    """P(X <= k) = I_{1-p}(n - k, k + 1): the probability of at most k successes."""
    k = np.floor(np.asarray(k, dtype=float))
    inside = np.clip(k, 0, n - 1)  # keeps the incomplete beta's arguments positive
    values = _incomplete_beta(n - inside, inside + 1, 1.0 - p)
    return _scalar_or_array(np.where(k < 0, 0.0, np.where(k >= n, 1.0, values)))


def poisson_logpmf(k: ArrayLike, rate: float) -> ArrayLike:
    """log[λ^k e^(-λ) / k!]."""
    k = np.asarray(k, dtype=float)
    inside = (k >= 0) & (k == np.floor(k))
    kk = np.where(inside, k, 0.0)
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    return _scalar_or_array(np.where(inside, kk * math.log(rate) - rate - lgamma(kk + 1), -np.inf))


def poisson_pmf(k: ArrayLike, rate: float) -> ArrayLike:
    return _scalar_or_array(np.exp(poisson_logpmf(k, rate)))


def poisson_cdf(k: ArrayLike, rate: float) -> ArrayLike:
    """P(X <= k) as the plain sum of the pmf over 0..k (fine for the rates of this step)."""
    k = np.floor(np.asarray(k, dtype=float))
    top = int(max(np.max(k), 0))
    running = np.cumsum(poisson_pmf(np.arange(top + 1), rate))
    index = np.clip(k, 0, top).astype(int)
    return _scalar_or_array(np.where(k < 0, 0.0, np.minimum(running[index], 1.0)))


def uniform_pdf(x: ArrayLike, low: float = 0.0, high: float = 1.0) -> ArrayLike:
    x = np.asarray(x, dtype=float)
    return _scalar_or_array(np.where((x >= low) & (x <= high), 1.0 / (high - low), 0.0))


def uniform_cdf(x: ArrayLike, low: float = 0.0, high: float = 1.0) -> ArrayLike:
    x = np.asarray(x, dtype=float)
    return _scalar_or_array(np.clip((x - low) / (high - low), 0.0, 1.0))


def normal_logpdf(x: ArrayLike, mean: float = 0.0, std: float = 1.0) -> ArrayLike:
    """log N(x; μ, σ²) = -½ log(2π σ²) - (x - μ)² / (2σ²)."""
    z = (np.asarray(x, dtype=float) - mean) / std
    return _scalar_or_array(-0.5 * math.log(2 * math.pi) - math.log(std) - 0.5 * z**2)


def normal_pdf(x: ArrayLike, mean: float = 0.0, std: float = 1.0) -> ArrayLike:
    return _scalar_or_array(np.exp(normal_logpdf(x, mean, std)))


_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])


def normal_cdf(x: ArrayLike, mean: float = 0.0, std: float = 1.0) -> ArrayLike:
    """Φ(z) = ½ erfc(-z / √2); erfc keeps the far left tail accurate where 1 + erf(z) cancels."""
    z = (np.asarray(x, dtype=float) - mean) / std
    return _scalar_or_array(0.5 * _erfc(-z / math.sqrt(2.0)))


def normal_ppf(q: ArrayLike, mean: float = 0.0, std: float = 1.0) -> ArrayLike:
    """The quantile Φ⁻¹(q), e.g. 1.95996... for q = 0.975."""
    z = invert_cdf(lambda v: 0.5 * _erfc(-v / math.sqrt(2.0)), q, -10.0, 10.0)
    return _scalar_or_array(mean + std * np.asarray(z))


def exponential_logpdf(x: ArrayLike, rate: float = 1.0) -> ArrayLike:
    x = np.asarray(x, dtype=float)
    return _scalar_or_array(np.where(x >= 0, math.log(rate) - rate * x, -np.inf))


def exponential_pdf(x: ArrayLike, rate: float = 1.0) -> ArrayLike:
    return _scalar_or_array(np.exp(exponential_logpdf(x, rate)))


def exponential_cdf(x: ArrayLike, rate: float = 1.0) -> ArrayLike:
    x = np.asarray(x, dtype=float)
    return _scalar_or_array(np.where(x >= 0, -np.expm1(-rate * np.maximum(x, 0.0)), 0.0))


def exponential_ppf(q: ArrayLike, rate: float = 1.0) -> ArrayLike:
    """Solve 1 - e^(-λx) = q: x = -log(1 - q) / λ."""
    return _scalar_or_array(-np.log1p(-np.asarray(q, dtype=float)) / rate)


def beta_logpdf(x: ArrayLike, a: float, b: float) -> ArrayLike:
    """log[x^(a-1) (1-x)^(b-1) / B(a, b)] on 0 < x < 1."""
    x = np.asarray(x, dtype=float)
    inside = (x > 0) & (x < 1)
    xx = np.where(inside, x, 0.5)
    values = (a - 1) * np.log(xx) + (b - 1) * np.log1p(-xx) - log_beta_function(a, b)
    return _scalar_or_array(np.where(inside, values, -np.inf))


def beta_pdf(x: ArrayLike, a: float, b: float) -> ArrayLike:
    return _scalar_or_array(np.exp(beta_logpdf(x, a, b)))


def beta_cdf(x: ArrayLike, a: float, b: float) -> ArrayLike:
    return regularized_incomplete_beta(a, b, np.clip(np.asarray(x, dtype=float), 0.0, 1.0))


def beta_ppf(q: ArrayLike, a: float, b: float) -> ArrayLike:
    return invert_cdf(lambda x: _incomplete_beta(a, b, x), q, 0.0, 1.0)


def t_logpdf(x: ArrayLike, df: float) -> ArrayLike:
    """Student's t: Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) · (1 + x²/ν)^(-(ν+1)/2)."""
    x = np.asarray(x, dtype=float)
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return _scalar_or_array(log_norm - (df + 1) / 2 * np.log1p(x**2 / df))


def t_pdf(x: ArrayLike, df: float) -> ArrayLike:
    return _scalar_or_array(np.exp(t_logpdf(x, df)))


def t_cdf(x: ArrayLike, df: float) -> ArrayLike:
    """With u = ν / (ν + x²), the tail beyond |x| is ½ I_u(ν/2, ½); the cdf follows by symmetry."""
    x = np.asarray(x, dtype=float)
    # near x = 0, u rounds to 1; there the mirrored form 1 - I_{1-u}(½, ν/2) keeps all digits
    tail = np.where(
        x**2 < df,
        0.5 * (1.0 - _incomplete_beta(0.5, df / 2, x**2 / (df + x**2))),
        0.5 * _incomplete_beta(df / 2, 0.5, df / (df + x**2)),
    )
    return _scalar_or_array(np.where(x > 0, 1.0 - tail, tail))


def t_ppf(q: ArrayLike, df: float) -> ArrayLike:
    return invert_cdf(lambda x: t_cdf(x, df), q, -10.0, 10.0)


# ---------------------------------------------------------------- 3. sampling
# Everything starts from uniform numbers u in [0, 1) drawn by a numpy Generator.


def sample_bernoulli(rng: np.random.Generator, p: float, size: int) -> np.ndarray:
    """1 with probability p: a uniform u falls below p exactly that often."""
    return (rng.random(size) < p).astype(np.int64)


def sample_binomial(rng: np.random.Generator, n: int, p: float, size: int) -> np.ndarray:
    """The number of successes in n Bernoulli trials, counted directly."""
    return (rng.random((size, n)) < p).sum(axis=1)


def sample_uniform(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    return low + (high - low) * rng.random(size)


def sample_exponential(rng: np.random.Generator, rate: float, size: int) -> np.ndarray:
    """Inverse-CDF sampling: if U is uniform, F⁻¹(U) has the cdf F."""
    return exponential_ppf(rng.random(size), rate)


def sample_poisson(rng: np.random.Generator, rate: float, size: int) -> np.ndarray:
    """Inverse CDF for a discrete variable: the smallest k with F(k) > u."""
    top = int(rate + 12 * math.sqrt(rate) + 12)  # the mass beyond is below 1e-16
    cumulative = np.cumsum(poisson_pmf(np.arange(top + 1), rate))
    return np.searchsorted(cumulative, rng.random(size), side="right").astype(np.int64)


def sample_normal(rng: np.random.Generator, mean: float, std: float, size: int) -> np.ndarray:
    """Box-Muller: two uniforms give a radius √(-2 log u₁) and an angle 2π u₂, i.e. two normals."""
    pairs = (size + 1) // 2
    u1, u2 = 1.0 - rng.random(pairs), rng.random(pairs)  # 1 - u is in (0, 1]: log stays finite
    radius = np.sqrt(-2.0 * np.log(u1))
    z = np.concatenate([radius * np.cos(2 * np.pi * u2), radius * np.sin(2 * np.pi * u2)])
    return mean + std * z[:size]


# ---------------------------------------------------------------- 4. sample statistics


def sample_mean(x: np.ndarray) -> float:
    return float(np.sum(x) / len(x))


def sample_variance(x: np.ndarray, ddof: int = 1) -> float:
    """Σ(x - x̄)² / (n - ddof); ddof=1 is unbiased because x̄ already used up one degree of freedom."""
    x = np.asarray(x, dtype=float)
    return float(np.sum((x - sample_mean(x)) ** 2) / (len(x) - ddof))


def covariance_matrix(data: np.ndarray, ddof: int = 1) -> np.ndarray:
    """Like np.cov: rows are variables, columns observations; C_ij = Σ(x_i - x̄_i)(x_j - x̄_j)/(n - ddof)."""
    data = np.atleast_2d(np.asarray(data, dtype=float))
    centred = data - data.mean(axis=1, keepdims=True)
    return centred @ centred.T / (data.shape[1] - ddof)


def correlation_matrix(data: np.ndarray) -> np.ndarray:
    """Pearson correlation: the covariance divided by both standard deviations (ddof cancels)."""
    cov = covariance_matrix(data)
    std = np.sqrt(np.diag(cov))
    return cov / np.outer(std, std)


# ---------------------------------------------------------------- 5. maximum likelihood
# The closed forms come from setting the derivative of the log-likelihood to zero.


def mle_bernoulli(x: np.ndarray) -> float:
    """p̂ = share of ones."""
    return sample_mean(x)


def mle_poisson(x: np.ndarray) -> float:
    """λ̂ = mean count."""
    return sample_mean(x)


def mle_exponential(x: np.ndarray) -> float:
    """λ̂ = 1 / mean waiting time."""
    return 1.0 / sample_mean(x)


def mle_normal(x: np.ndarray) -> tuple[float, float]:
    """(μ̂, σ̂): σ̂² divides by n (ddof=0), which is the maximum, though biased."""
    return sample_mean(x), math.sqrt(sample_variance(x, ddof=0))


def log_likelihood(family: str, x: np.ndarray, params: tuple[float, ...]) -> float:
    """Σ log p(x_i | params) for one of the four families fitted in this section."""
    if family == "bernoulli":
        return float(np.sum(np.log(bernoulli_pmf(x, params[0]))))
    if family == "poisson":
        return float(np.sum(poisson_logpmf(x, params[0])))
    if family == "exponential":
        return float(np.sum(exponential_logpdf(x, params[0])))
    if family == "normal":
        return float(np.sum(normal_logpdf(x, params[0], params[1])))
    raise ValueError(f"unknown family {family!r}")


# Gradient ascent works on an unconstrained parameter θ (a logit or a log), so any step
# keeps p in (0, 1) and λ, σ > 0. Each entry: (θ from the parameters, parameters from θ,
# gradient of the MEAN log-likelihood with respect to θ).
def _sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


_FAMILIES: dict[str, tuple[Callable, Callable, Callable]] = {
    # ℓ(θ) = x̄ θ - log(1 + e^θ)  ->  dℓ/dθ = x̄ - σ(θ)
    "bernoulli": (
        lambda p: np.array([math.log(p[0] / (1 - p[0]))]),
        lambda t: (_sigmoid(t[0]),),
        lambda t, x: np.array([x.mean() - _sigmoid(t[0])]),
    ),
    # θ = log λ: ℓ(θ) = x̄ θ - e^θ (+ const)  ->  x̄ - e^θ
    "poisson": (
        lambda p: np.log(np.array(p, dtype=float)),
        lambda t: (math.exp(t[0]),),
        lambda t, x: np.array([x.mean() - math.exp(t[0])]),
    ),
    # θ = log λ: ℓ(θ) = θ - e^θ x̄  ->  1 - e^θ x̄
    "exponential": (
        lambda p: np.log(np.array(p, dtype=float)),
        lambda t: (math.exp(t[0]),),
        lambda t, x: np.array([1.0 - math.exp(t[0]) * x.mean()]),
    ),
    # θ = (μ, s = log σ): ℓ = -s - mean((x-μ)²) / (2σ²)  ->  (mean(x-μ)/σ², -1 + mean((x-μ)²)/σ²)
    "normal": (
        lambda p: np.array([p[0], math.log(p[1])]),
        lambda t: (float(t[0]), math.exp(t[1])),
        lambda t, x: np.array(
            [
                np.mean(x - t[0]) / math.exp(2 * t[1]),
                -1.0 + np.mean((x - t[0]) ** 2) / math.exp(2 * t[1]),
            ]
        ),
    ),
}


def mle_gradient_ascent(
    family: str, x: np.ndarray, start: tuple[float, ...], lr: float = 0.1, steps: int = 300
) -> np.ndarray:
    """Climb the mean log-likelihood from `start`; returns the parameters after each step.

    Shape (steps + 1, number of parameters); the last row approaches the closed-form MLE.
    The step must stay below 2 / curvature: for the Poisson the curvature in θ = log λ is λ
    itself, so lr = 0.5 oscillates for λ > 4 while lr = 0.1 converges up to λ = 20.
    """
    if family not in _FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose from {sorted(_FAMILIES)}")
    to_theta, to_params, gradient = _FAMILIES[family]
    x = np.asarray(x, dtype=float)
    theta = to_theta(start)
    path = [to_params(theta)]
    for _ in range(steps):
        theta = theta + lr * gradient(theta, x)
        path.append(to_params(theta))
    return np.array(path, dtype=float)


# ---------------------------------------------------------------- 6. Bayesian updating


def beta_binomial_posterior(
    alpha: float, beta: float, successes: int, failures: int
) -> tuple[float, float, float]:
    """Beta(α, β) prior on a coin's p, then s heads and f tails: the posterior is Beta(α + s, β + f).

    The beta prior is conjugate: prior × likelihood p^s (1-p)^f has the beta form again, so
    updating is counting. Returns (α_post, β_post, posterior mean α_post / (α_post + β_post)).
    """
    alpha_post, beta_post = alpha + successes, beta + failures
    return alpha_post, beta_post, alpha_post / (alpha_post + beta_post)


def beta_credible_interval(alpha: float, beta: float, level: float = 0.95) -> tuple[float, float]:
    """The central interval holding `level` of the posterior mass: its two beta quantiles."""
    tail = (1.0 - level) / 2
    low, high = beta_ppf(np.array([tail, 1.0 - tail]), alpha, beta)
    return float(low), float(high)


# ---------------------------------------------------------------- 7. tests and intervals


class TestResult(NamedTuple):
    statistic: float
    df: float  # degrees of freedom (inf for a z-test)
    pvalue: float  # two-sided


def ttest_one_sample(x: np.ndarray, mean0: float) -> TestResult:
    """t = (x̄ - μ₀) / (s / √n) with n - 1 degrees of freedom."""
    n = len(x)
    t = (sample_mean(x) - mean0) / math.sqrt(sample_variance(x) / n)
    return TestResult(t, n - 1, _two_sided_t(t, n - 1))


def ttest_two_sample(a: np.ndarray, b: np.ndarray, equal_var: bool = False) -> TestResult:
    """Student's t-test (equal_var=True, pooled variance) or Welch's (unequal variances)."""
    n_a, n_b = len(a), len(b)
    var_a, var_b = sample_variance(a), sample_variance(b)
    diff = sample_mean(a) - sample_mean(b)
    if equal_var:
        df = n_a + n_b - 2
        pooled = ((n_a - 1) * var_a + (n_b - 1) * var_b) / df
        t = diff / math.sqrt(pooled * (1 / n_a + 1 / n_b))
    else:
        se_a, se_b = var_a / n_a, var_b / n_b  # squared standard errors of the two means
        t = diff / math.sqrt(se_a + se_b)
        # Welch-Satterthwaite: the df of a t that best matches the sum of two scaled chi-squares
        df = (se_a + se_b) ** 2 / (se_a**2 / (n_a - 1) + se_b**2 / (n_b - 1))
    return TestResult(t, df, _two_sided_t(t, df))


def welch_t_test(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(t, df, two-sided p) of Welch's test, as a plain tuple."""
    return tuple(ttest_two_sample(a, b, equal_var=False))  # type: ignore[return-value]


def _two_sided_t(t: float, df: float) -> float:
    """P(|T| >= |t|) = 2 · P(T <= -|t|)."""
    return float(2.0 * t_cdf(-abs(t), df))


def proportion_z_test(successes: int, n: int, p0: float) -> TestResult:
    """z = (p̂ - p₀) / √(p₀(1 - p₀)/n): under H0 the standard error uses p₀, not p̂."""
    z = (successes / n - p0) / math.sqrt(p0 * (1 - p0) / n)
    return TestResult(z, math.inf, float(2.0 * normal_cdf(-abs(z))))


def mean_confidence_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """x̄ ± t_{(1+level)/2, n-1} · s / √n."""
    n = len(x)
    half = t_ppf((1 + level) / 2, n - 1) * math.sqrt(sample_variance(x) / n)
    return sample_mean(x) - half, sample_mean(x) + half


def proportion_ci_wald(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """p̂ ± z √(p̂(1 - p̂)/n): the textbook interval; it collapses to a point when p̂ is 0 or 1."""
    p = successes / n
    half = normal_ppf((1 + level) / 2) * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


def proportion_ci_wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """All p₀ that a z-test at this level would not reject: solving |p̂ - p₀| = z √(p₀(1-p₀)/n).

    The quadratic in p₀ has its centre pulled toward ½ and never leaves [0, 1].
    """
    p, z = successes / n, normal_ppf((1 + level) / 2)
    shrink = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / shrink
    half = z / shrink * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half
