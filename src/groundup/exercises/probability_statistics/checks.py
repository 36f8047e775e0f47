"""Checks for the probability_statistics exercise, against scipy.stats.

Welch's test is compared with scipy.stats.ttest_ind(a, b, equal_var=False) on samples drawn
with fixed seeds: small ones (3 to 8 values, where n versus n - 1 matters), unequal sizes
with unequal spreads (where the pooled variance of Student's test differs from Welch's),
and large effects (tiny p-values). Statistic and degrees of freedom agree to rtol 1e-9
(both sides compute the same closed formulas); the p-value to atol 1e-9 / rtol 1e-6, which
allows scipy's t cdf or groundup's continued fraction. The posterior is compared with
scipy.stats.beta: its density must equal prior x likelihood, normalised on a grid, and its
mean scipy.stats.beta(a, b).mean().
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
from scipy import stats

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg

FUNCTIONS = ["welch_t_test", "beta_binomial_posterior"]

REFERENCE = "from groundup.math.probability import beta_binomial_posterior, welch_t_test\n"

EXACT = {"atol": 1e-12, "rtol": 1e-9}
P_VALUE = {"atol": 1e-9, "rtol": 1e-6}
NUMBER = (int, float, np.integer, np.floating)

# (seed, n_a, n_b, shift of b's mean, scale of b): small, unequal, and far apart
CASES = [(0, 3, 5, 0.5, 1.0), (1, 8, 4, -1.0, 3.0), (2, 12, 30, 0.3, 0.4),
         (3, 25, 7, 2.0, 2.5), (4, 40, 40, 0.1, 1.0), (5, 6, 50, 4.0, 0.5)]  # fmt: skip
PRIORS = [(1.0, 1.0, 0, 0), (1.0, 1.0, 7, 3), (2.0, 5.0, 1, 0), (0.5, 0.5, 30, 70),
          (3.0, 1.5, 0, 12), (10.0, 10.0, 4, 4)]  # fmt: skip


# ---------------------------------------------------------------- comparisons


def samples(seed: int, n_a: int, n_b: int, shift: float, scale: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, n_a), rng.normal(shift, scale, n_b)


def _triple(compared: Msg, got: Any, names: str) -> tuple[float, float, float]:
    ok = isinstance(got, tuple | list) and len(got) == 3 and all(isinstance(v, NUMBER) for v in got)
    if not ok:
        raise Mismatch(compared, expected=f"a tuple of three numbers ({names})", got=describe(got))
    return tuple(float(v) for v in got)  # type: ignore[return-value]


def welch(module: ModuleType, case: tuple) -> tuple[tuple[float, ...], Any, str]:
    """The learner's (t, df, p), scipy's result and a description of the inputs."""
    fn = require(module, "welch_t_test")
    a, b = samples(*case)
    text = (
        f"welch_t_test(a, b) with n_a={len(a)}, n_b={len(b)} "
        f"(b: mean {case[3]:+g}, standard deviation {case[4]:g}; seed {case[0]})"
    )
    got = call(Msg(text, text), fn, a.copy(), b.copy())
    return _triple(Msg(text, text), got, "t, df, p"), stats.ttest_ind(a, b, equal_var=False), text


def compare_welch(module: ModuleType, which: int, name: str, tol: dict[str, float]) -> None:
    for case in CASES:
        got, want, text = welch(module, case)
        expected = (want.statistic, want.df, want.pvalue)[which]
        compared = Msg(f"{text}: {name}", f"{text}: {name}")
        assert_close(compared, got[which], expected, **tol)


def posterior(module: ModuleType, prior: tuple) -> tuple[tuple[float, ...], str]:
    fn = require(module, "beta_binomial_posterior")
    alpha, beta, heads, tails = prior
    text = (
        f"beta_binomial_posterior(alpha={alpha}, beta={beta}, successes={heads}, failures={tails})"
    )
    got = call(Msg(text, text), fn, alpha, beta, heads, tails)
    return _triple(Msg(text, text), got, "alpha_post, beta_post, mean"), text


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def returns_three_numbers(module: ModuleType) -> None:
    welch(module, CASES[2])
    posterior(module, PRIORS[1])


def welch_statistic(module: ModuleType) -> None:
    compare_welch(module, 0, "t statistic", EXACT)


def welch_df(module: ModuleType) -> None:
    compare_welch(module, 1, "degrees of freedom (Welch-Satterthwaite)", EXACT)


def welch_p_value(module: ModuleType) -> None:
    compare_welch(module, 2, "two-sided p-value", P_VALUE)


def swapping_samples(module: ModuleType) -> None:
    """welch(b, a) = (-t, df, p): the test does not care which sample comes first."""
    fn = require(module, "welch_t_test")
    a, b = samples(*CASES[1])
    text = "welch_t_test(b, a) against welch_t_test(a, b)"
    compared = Msg(text, "welch_t_test(b, a) gegen welch_t_test(a, b)")
    forward = _triple(compared, call(compared, fn, a.copy(), b.copy()), "t, df, p")
    backward = _triple(compared, call(compared, fn, b.copy(), a.copy()), "t, df, p")
    assert_close(compared, backward, (-forward[0], forward[1], forward[2]), **EXACT)


def posterior_parameters(module: ModuleType) -> None:
    """The posterior's density equals prior x likelihood, normalised numerically on a grid."""
    grid = np.linspace(0.005, 0.995, 199)
    for prior in PRIORS:
        (alpha_post, beta_post, _), text = posterior(module, prior)
        compared = Msg(f"{text}: (alpha_post, beta_post)", f"{text}: (alpha_post, beta_post)")
        alpha, beta, heads, tails = prior
        expected = (alpha + heads, beta + tails)
        if min(alpha_post, beta_post) <= 0:
            raise Mismatch(compared, expected=str(expected), got=str((alpha_post, beta_post)))
        # the definition, not the shortcut: Beta(alpha_post, beta_post) must have the shape of
        # prior(p) * p^s (1-p)^f at every p of the grid
        shape = stats.beta.pdf(grid, alpha, beta) * stats.binom.pmf(heads, heads + tails, grid)
        got_shape = stats.beta.pdf(grid, alpha_post, beta_post)
        ratio = got_shape / shape
        assert_close(compared, (alpha_post, beta_post), expected, **EXACT)
        assert_close(compared, ratio / ratio[99], np.ones_like(ratio), atol=1e-8, rtol=1e-8)


def posterior_mean(module: ModuleType) -> None:
    for prior in PRIORS:
        (alpha_post, beta_post, mean), text = posterior(module, prior)
        alpha, beta, heads, tails = prior
        want = stats.beta(alpha + heads, beta + tails).mean()
        assert_close(Msg(f"{text}: posterior mean", f"{text}: Posterior-Mittelwert"),
                     mean, want, **EXACT)  # fmt: skip


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions welch_t_test(a, b) and beta_binomial_posterior(alpha, beta, s, f)",
            "Funktionen welch_t_test(a, b) und beta_binomial_posterior(alpha, beta, s, f)",
        ),
        (
            "Define both functions at the top level of your file, with these names.",
            "Definieren Sie beide Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        defines_functions,
    ),
    check(
        "returns_three_numbers",
        (
            "each function returns a tuple of three numbers",
            "jede Funktion gibt ein Tupel aus drei Zahlen zurück",
        ),
        (
            "Return (t, df, p) and (alpha_post, beta_post, mean) as tuples, e.g. "
            "`return t, df, p`; plain floats or NumPy scalars are both fine.",
            "Geben Sie (t, df, p) und (alpha_post, beta_post, mean) als Tupel zurück, etwa "
            "`return t, df, p`; einfache Floats und NumPy-Skalare sind beide in Ordnung.",
        ),
        returns_three_numbers,
    ),
    check(
        "welch_statistic",
        (
            "the t statistic equals scipy's Welch test",
            "die t-Statistik stimmt mit Welchs Test aus scipy überein",
        ),
        (
            "t = (mean(a) - mean(b)) / sqrt(var(a)/n_a + var(b)/n_b), with each sample's own "
            "variance divided by n - 1 (np.var(x, ddof=1)). Do not pool the two variances: "
            "that is Student's test, which assumes equal spreads.",
            "t = (mean(a) - mean(b)) / sqrt(var(a)/n_a + var(b)/n_b), jede Stichprobe mit "
            "ihrer eigenen Varianz, geteilt durch n - 1 (np.var(x, ddof=1)). Legen Sie die "
            "Varianzen nicht zusammen: Das wäre Students Test, der gleiche Streuungen annimmt.",
        ),
        welch_statistic,
    ),
    check(
        "welch_df",
        (
            "the degrees of freedom follow Welch-Satterthwaite",
            "die Freiheitsgrade folgen Welch-Satterthwaite",
        ),
        (
            "With se_a = var(a)/n_a and se_b = var(b)/n_b: df = (se_a + se_b)**2 / "
            "(se_a**2/(n_a - 1) + se_b**2/(n_b - 1)). It is not n_a + n_b - 2, and it is "
            "usually not a whole number.",
            "Mit se_a = var(a)/n_a und se_b = var(b)/n_b: df = (se_a + se_b)**2 / "
            "(se_a**2/(n_a - 1) + se_b**2/(n_b - 1)). Das ist nicht n_a + n_b - 2 und "
            "meistens keine ganze Zahl.",
        ),
        welch_df,
    ),
    check(
        "welch_p_value",
        (
            "the two-sided p-value equals scipy's",
            "der zweiseitige p-Wert stimmt mit scipy überein",
        ),
        (
            "p is the probability of a |T| at least as large as |t| under a t distribution "
            "with df degrees of freedom, counting both tails: 2 * t_cdf(-abs(t), df). Not "
            "the normal distribution, and not one tail only.",
            "p ist die Wahrscheinlichkeit für ein |T| mindestens so groß wie |t| unter einer "
            "t-Verteilung mit df Freiheitsgraden, beide Enden gezählt: "
            "2 * t_cdf(-abs(t), df). Nicht die Normalverteilung und nicht nur ein Ende.",
        ),
        welch_p_value,
    ),
    check(
        "swapping_samples",
        (
            "swapping a and b flips the sign of t and keeps df and p",
            "Vertauschen von a und b dreht das Vorzeichen von t, df und p bleiben",
        ),
        (
            "Nothing in the test should depend on which sample comes first except the sign "
            "of t. Use |t| for the p-value.",
            "Außer dem Vorzeichen von t darf nichts davon abhängen, welche Stichprobe zuerst "
            "kommt. Verwenden Sie |t| für den p-Wert.",
        ),
        swapping_samples,
    ),
    check(
        "posterior_parameters",
        (
            "the posterior Beta(alpha_post, beta_post) is prior x likelihood, normalised",
            "die Posterior Beta(alpha_post, beta_post) ist Prior x Likelihood, normiert",
        ),
        (
            "Multiply p^(alpha-1) (1-p)^(beta-1) by p^s (1-p)^f and collect the exponents: "
            "heads add to alpha, tails add to beta, and the prior is kept.",
            "Multiplizieren Sie p^(alpha-1) (1-p)^(beta-1) mit p^s (1-p)^f und sammeln Sie "
            "die Exponenten: Kopf-Würfe kommen zu alpha, Zahl-Würfe zu beta, und der Prior "
            "bleibt erhalten.",
        ),
        posterior_parameters,
    ),
    check(
        "posterior_mean",
        (
            "the posterior mean equals scipy.stats.beta(alpha_post, beta_post).mean()",
            "der Posterior-Mittelwert stimmt mit scipy.stats.beta(alpha_post, beta_post).mean() "
            "überein",
        ),
        (
            "The mean of Beta(a, b) is a / (a + b): the share of (pseudo-)heads among all "
            "(pseudo-)flips. It is not a / b.",
            "Der Mittelwert von Beta(a, b) ist a / (a + b): der Anteil der (Pseudo-)Kopfwürfe "
            "an allen (Pseudo-)Würfen. Er ist nicht a / b.",
        ),
        posterior_mean,
    ),
]
