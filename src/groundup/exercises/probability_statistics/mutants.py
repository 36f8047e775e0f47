"""Planted bugs for the probability_statistics exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import numpy as np

from groundup.math.probability import t_cdf


def welch_t_test(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n_a, n_b = len(a), len(b)
    var_a, var_b = np.var(a, ddof=1), np.var(b, ddof=1)
    se_a, se_b = var_a / n_a, var_b / n_b
    t = (a.mean() - b.mean()) / np.sqrt(se_a + se_b)
    df = (se_a + se_b) ** 2 / (se_a**2 / (n_a - 1) + se_b**2 / (n_b - 1))
    p = 2 * t_cdf(-abs(t), df)
    return float(t), float(df), float(p)


def beta_binomial_posterior(alpha, beta, successes, failures):
    alpha_post = alpha + successes
    beta_post = beta + failures
    mean = alpha_post / (alpha_post + beta_post)
    return alpha_post, beta_post, mean
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "pooled_variance",
        catches="welch_statistic",
        source=_plant(
            "    t = (a.mean() - b.mean()) / np.sqrt(se_a + se_b)\n",
            "    pooled = ((n_a - 1) * var_a + (n_b - 1) * var_b) / (n_a + n_b - 2)\n"
            "    t = (a.mean() - b.mean()) / np.sqrt(pooled * (1 / n_a + 1 / n_b))\n",
        ),
        note="Student's pooled variance instead of Welch's separate ones",
    ),
    Mutant(
        "variance_ddof_0",
        catches="welch_statistic",
        source=_plant("np.var(a, ddof=1), np.var(b, ddof=1)", "np.var(a), np.var(b)"),
        note="divides the sample variances by n instead of n - 1",
    ),
    Mutant(
        "means_reversed",
        catches="welch_statistic",
        source=_plant("(a.mean() - b.mean())", "(b.mean() - a.mean())"),
        note="subtracts the means the wrong way round: t has the wrong sign",
    ),
    Mutant(
        "df_student",
        catches="welch_df",
        source=_plant(
            "    df = (se_a + se_b) ** 2 / (se_a**2 / (n_a - 1) + se_b**2 / (n_b - 1))\n",
            "    df = n_a + n_b - 2\n",
        ),
        note="uses Student's degrees of freedom",
    ),
    Mutant(
        "df_divides_by_n",
        catches="welch_df",
        source=_plant("se_a**2 / (n_a - 1) + se_b**2 / (n_b - 1)", "se_a**2 / n_a + se_b**2 / n_b"),
        note="divides by n instead of n - 1 in the Welch-Satterthwaite denominator",
    ),
    Mutant(
        "one_sided_p",
        catches="welch_p_value",
        source=_plant("    p = 2 * t_cdf(-abs(t), df)\n", "    p = t_cdf(-abs(t), df)\n"),
        note="reports one tail only",
    ),
    Mutant(
        "normal_instead_of_t",
        catches="welch_p_value",
        source=_plant(
            "    p = 2 * t_cdf(-abs(t), df)\n",
            "    from groundup.math.probability import normal_cdf\n"
            "    p = 2 * normal_cdf(-abs(t))\n",
        ),
        note="takes the p-value from the normal distribution, too small for small samples",
    ),
    Mutant(
        "p_without_abs",
        catches="swapping_samples",
        source=_plant("    p = 2 * t_cdf(-abs(t), df)\n", "    p = min(1.0, 2 * t_cdf(-t, df))\n"),
        note="forgets |t|: a negative t gets p = 1 (caught where a and b are swapped)",
    ),
    Mutant(
        "successes_to_beta",
        catches="posterior_parameters",
        source=_plant(
            "    alpha_post = alpha + successes\n    beta_post = beta + failures\n",
            "    alpha_post = alpha + failures\n    beta_post = beta + successes\n",
        ),
        note="adds the heads to beta and the tails to alpha",
    ),
    Mutant(
        "prior_forgotten",
        catches="posterior_parameters",
        source=_plant("    alpha_post = alpha + successes\n", "    alpha_post = 1 + successes\n"),
        note="starts alpha from a uniform prior whatever the prior was",
    ),
    Mutant(
        "mean_alpha_over_beta",
        catches="posterior_mean",
        source=_plant(
            "    mean = alpha_post / (alpha_post + beta_post)\n",
            "    mean = alpha_post / beta_post\n",
        ),
        note="takes the odds alpha / beta for the mean",
    ),
]
