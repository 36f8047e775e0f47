"""groundup.math.probability against scipy.stats and NumPy.

Densities, cdfs, quantiles, test statistics and p-values are compared with scipy.stats on
random parameters drawn by hypothesis or fixed seeds; tolerances: atol 1e-10 / rtol 1e-8
for closed forms and the continued fraction, 1e-9 for bisection quantiles. Samplers are
checked with scipy.stats.kstest at a fixed seed: with 5000 draws a correct sampler fails at
significance 0.001 only once in a thousand seeds, and a sampler with the wrong scale
(checked too) is rejected with p far below 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from groundup.math import probability as P

CLOSE = {"atol": 1e-10, "rtol": 1e-8}
positive = st.floats(0.3, 8.0)


# ---------------------------------------------------------------- distributions


@settings(max_examples=25, deadline=None)
@given(mean=st.floats(-3, 3), std=st.floats(0.2, 4), rate=positive)
def test_matches_scipy_continuous_densities_and_cdfs(mean: float, std: float, rate: float) -> None:
    x = np.linspace(-6, 6, 41)
    norm = stats.norm(mean, std)
    np.testing.assert_allclose(P.normal_pdf(x, mean, std), norm.pdf(x), **CLOSE)
    np.testing.assert_allclose(P.normal_logpdf(x, mean, std), norm.logpdf(x), **CLOSE)
    np.testing.assert_allclose(P.normal_cdf(x, mean, std), norm.cdf(x), **CLOSE)
    expon = stats.expon(scale=1 / rate)
    np.testing.assert_allclose(P.exponential_pdf(x, rate), expon.pdf(x), **CLOSE)
    np.testing.assert_allclose(P.exponential_cdf(x, rate), expon.cdf(x), **CLOSE)
    np.testing.assert_allclose(P.uniform_pdf(x, -1, 2.5), stats.uniform(-1, 3.5).pdf(x), **CLOSE)
    np.testing.assert_allclose(P.uniform_cdf(x, -1, 2.5), stats.uniform(-1, 3.5).cdf(x), **CLOSE)
    np.testing.assert_allclose(P.t_pdf(x, rate), stats.t.pdf(x, rate), **CLOSE)
    np.testing.assert_allclose(P.t_cdf(x, rate), stats.t.cdf(x, rate), **CLOSE)


@settings(max_examples=25, deadline=None)
@given(a=positive, b=positive)
def test_matches_scipy_beta_pdf_cdf_ppf(a: float, b: float) -> None:
    x = np.linspace(0.001, 0.999, 31)
    np.testing.assert_allclose(P.beta_pdf(x, a, b), stats.beta.pdf(x, a, b), **CLOSE)
    np.testing.assert_allclose(P.beta_logpdf(x, a, b), stats.beta.logpdf(x, a, b), **CLOSE)
    np.testing.assert_allclose(P.beta_cdf(x, a, b), stats.beta.cdf(x, a, b), **CLOSE)
    q = np.array([0.01, 0.025, 0.3, 0.5, 0.9, 0.975])
    np.testing.assert_allclose(P.beta_ppf(q, a, b), stats.beta.ppf(q, a, b), atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), p=st.floats(0.01, 0.99), rate=st.floats(0.1, 20))
def test_matches_scipy_discrete_pmfs_and_cdfs(n: int, p: float, rate: float) -> None:
    k = np.arange(-2, n + 3)
    np.testing.assert_allclose(P.binomial_pmf(k, n, p), stats.binom.pmf(k, n, p), **CLOSE)
    np.testing.assert_allclose(P.binomial_logpmf(k, n, p), stats.binom.logpmf(k, n, p), **CLOSE)
    np.testing.assert_allclose(P.binomial_cdf(k, n, p), stats.binom.cdf(k, n, p), **CLOSE)
    np.testing.assert_allclose(P.poisson_pmf(k, rate), stats.poisson.pmf(k, rate), **CLOSE)
    np.testing.assert_allclose(P.poisson_cdf(k, rate), stats.poisson.cdf(k, rate), **CLOSE)
    np.testing.assert_allclose(P.bernoulli_pmf(k, p), stats.bernoulli.pmf(k, p), **CLOSE)
    np.testing.assert_allclose(P.bernoulli_cdf(k, p), stats.bernoulli.cdf(k, p), **CLOSE)


def test_matches_scipy_quantiles() -> None:
    q = np.array([1e-6, 0.025, 0.5, 0.8, 0.975, 1 - 1e-6])
    np.testing.assert_allclose(P.normal_ppf(q, 1.0, 2.0), stats.norm.ppf(q, 1.0, 2.0), atol=1e-9)
    np.testing.assert_allclose(P.exponential_ppf(q, 3.0), stats.expon.ppf(q, scale=1 / 3))
    for df in (1, 2.5, 30):
        np.testing.assert_allclose(P.t_ppf(q, df), stats.t.ppf(q, df), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- sampling

SIGNIFICANCE = 0.001


@pytest.mark.parametrize(
    ("name", "draw", "cdf"),
    [
        ("box_muller", lambda r: P.sample_normal(r, 1.5, 2.0, 5000), stats.norm(1.5, 2.0).cdf),
        ("inverse_cdf", lambda r: P.sample_exponential(r, 0.7, 5000), stats.expon(0, 1 / 0.7).cdf),
        ("uniform", lambda r: P.sample_uniform(r, -2.0, 3.0, 5000), stats.uniform(-2, 5).cdf),
    ],
)
def test_matches_scipy_kstest_samplers(name: str, draw, cdf) -> None:
    samples = draw(np.random.default_rng(1234))
    assert stats.kstest(samples, cdf).pvalue > SIGNIFICANCE, name
    # the same test has power: a 10 % wrong scale is rejected outright
    assert stats.kstest(samples * 1.1, cdf).pvalue < 1e-6, name


def test_discrete_samplers_match_their_pmfs() -> None:
    rng = np.random.default_rng(7)
    for samples, pmf, top in [
        (P.sample_poisson(rng, 3.5, 20000), lambda k: stats.poisson.pmf(k, 3.5), 12),
        (P.sample_binomial(rng, 10, 0.3, 20000), lambda k: stats.binom.pmf(k, 10, 0.3), 10),
        (P.sample_bernoulli(rng, 0.2, 20000), lambda k: stats.bernoulli.pmf(k, 0.2), 1),
    ]:
        counts = np.bincount(np.minimum(samples, top), minlength=top + 1)
        expected = pmf(np.arange(top + 1)) * len(samples)
        expected[-1] = len(samples) - expected[:-1].sum()  # the last bin takes the tail
        assert stats.chisquare(counts, expected).pvalue > SIGNIFICANCE


def test_sample_normal_returns_odd_sizes() -> None:
    assert P.sample_normal(np.random.default_rng(0), 0.0, 1.0, 7).shape == (7,)


# ---------------------------------------------------------------- sample statistics


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 40), ddof=st.integers(0, 2))
def test_matches_numpy_statistics(seed: int, n: int, ddof: int) -> None:
    data = np.random.default_rng(seed).normal(size=(3, n)) * [[1.0], [5.0], [0.1]]
    data[1] += 0.5 * data[0]  # make the variables correlated
    assert P.sample_mean(data[0]) == pytest.approx(np.mean(data[0]), rel=1e-12)
    assert P.sample_variance(data[0], ddof) == pytest.approx(np.var(data[0], ddof=ddof), 1e-12)
    np.testing.assert_allclose(P.covariance_matrix(data, ddof), np.cov(data, ddof=ddof), 1e-12)
    np.testing.assert_allclose(P.correlation_matrix(data), np.corrcoef(data), 1e-12, 1e-12)


# ---------------------------------------------------------------- maximum likelihood


def _samples(family: str, rng: np.random.Generator) -> np.ndarray:
    return {
        "bernoulli": lambda: (rng.random(300) < 0.3).astype(float),
        "poisson": lambda: rng.poisson(4.0, 300).astype(float),
        "exponential": lambda: rng.exponential(0.5, 300),
        "normal": lambda: rng.normal(2.0, 1.5, 300),
    }[family]()


@pytest.mark.parametrize(
    ("family", "closed_form"),
    [
        ("bernoulli", lambda x: (P.mle_bernoulli(x),)),
        ("poisson", lambda x: (P.mle_poisson(x),)),
        ("exponential", lambda x: (P.mle_exponential(x),)),
        ("normal", P.mle_normal),
    ],
)
def test_gradient_ascent_reaches_the_closed_form_mle(family: str, closed_form) -> None:
    x = _samples(family, np.random.default_rng(3))
    best = np.array(closed_form(x))
    start = (0.5,) if family == "bernoulli" else (1.0,) if len(best) == 1 else (0.0, 1.0)
    lr = 2.0 if family == "bernoulli" else 0.1  # below 2 / curvature: 1 / (p(1-p)) vs λ or 2
    path = P.mle_gradient_ascent(family, x, start, lr=lr, steps=400)
    np.testing.assert_allclose(path[-1], best, rtol=1e-6)
    likelihoods = [P.log_likelihood(family, x, tuple(row)) for row in path[::20]]
    assert all(b >= a - 1e-9 for a, b in zip(likelihoods, likelihoods[1:], strict=False))
    # the closed form is a maximum: nudging any parameter lowers the log-likelihood
    for i in range(len(best)):
        for factor in (0.98, 1.02):
            nudged = best.copy()
            nudged[i] *= factor
            assert P.log_likelihood(family, x, tuple(nudged)) < P.log_likelihood(
                family, x, tuple(best)
            )


def test_matches_scipy_mle_fits() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(2.0, 1.5, 200)
    np.testing.assert_allclose(P.mle_normal(x), stats.norm.fit(x), rtol=1e-10)
    w = rng.exponential(0.5, 200)
    loc, scale = stats.expon.fit(w, floc=0)
    assert P.mle_exponential(w) == pytest.approx(1 / scale, rel=1e-10)


def test_gradient_ascent_rejects_unknown_families() -> None:
    with pytest.raises(ValueError, match="gamma"):
        P.mle_gradient_ascent("gamma", np.ones(3), (1.0,))


# ---------------------------------------------------------------- Bayes


def test_matches_scipy_beta_binomial_posterior_and_credible_interval() -> None:
    alpha, beta, mean = P.beta_binomial_posterior(2.0, 3.0, successes=7, failures=4)
    assert (alpha, beta) == (9.0, 7.0) and mean == pytest.approx(stats.beta(9, 7).mean())
    low, high = P.beta_credible_interval(alpha, beta, 0.9)
    np.testing.assert_allclose((low, high), stats.beta(9, 7).interval(0.9), atol=1e-9)
    # updating one flip at a time ends where updating all at once does
    a, b = 2.0, 3.0
    for flip in [1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1]:
        a, b, _ = P.beta_binomial_posterior(a, b, flip, 1 - flip)
    assert (a, b) == (alpha, beta)


# ---------------------------------------------------------------- tests and intervals


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n_a=st.integers(2, 30), n_b=st.integers(2, 30))
def test_matches_scipy_ttests(seed: int, n_a: int, n_b: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.0, 1.0, n_a), rng.normal(0.7, 3.0, n_b)
    got = P.ttest_one_sample(a, 0.3)
    want = stats.ttest_1samp(a, 0.3)
    np.testing.assert_allclose(got, (want.statistic, want.df, want.pvalue), rtol=1e-8, atol=1e-12)
    for equal_var in (True, False):
        got = P.ttest_two_sample(a, b, equal_var=equal_var)
        want = stats.ttest_ind(a, b, equal_var=equal_var)
        np.testing.assert_allclose(
            got, (want.statistic, want.df, want.pvalue), rtol=1e-8, atol=1e-12
        )
    assert P.welch_t_test(a, b) == tuple(P.ttest_two_sample(a, b))


def test_matches_scipy_z_test_and_intervals() -> None:
    z, _, p = P.proportion_z_test(62, 100, 0.5)
    assert z == pytest.approx(2.4) and p == pytest.approx(2 * stats.norm.sf(2.4), rel=1e-9)
    rng = np.random.default_rng(11)
    for n in (3, 10, 50):
        x = rng.normal(1.0, 2.0, n)
        want = stats.t.interval(0.9, n - 1, loc=x.mean(), scale=stats.sem(x))
        np.testing.assert_allclose(P.mean_confidence_interval(x, 0.9), want, rtol=1e-9)
    for k, n in [(0, 10), (3, 10), (10, 10), (47, 120)]:
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        np.testing.assert_allclose(P.proportion_ci_wilson(k, n), (ci.low, ci.high), atol=1e-9)
        p, z = k / n, stats.norm.ppf(0.975)
        half = z * math.sqrt(p * (1 - p) / n)
        np.testing.assert_allclose(P.proportion_ci_wald(k, n), (p - half, p + half), atol=1e-9)
    assert P.proportion_ci_wald(0, 10) == (0.0, 0.0)  # the Wald interval's known failure
