"""Exercise probability_statistics: Welch's t-test and Bayesian updating of a coin.

Write two functions with NumPy and `math`. For the t distribution's cdf you may use
`groundup.math.probability.t_cdf(x, df)` or `scipy.stats.t.cdf(x, df)`; everything else
is yours. Run `groundup check probability-statistics` to compare your answers with
scipy.stats.ttest_ind(..., equal_var=False) and scipy.stats.beta.

DE: Übung probability_statistics: Welchs t-Test und das Bayes-Update einer Münze.
Schreiben Sie zwei Funktionen mit NumPy und `math`. Für die Verteilungsfunktion der
t-Verteilung dürfen Sie `groundup.math.probability.t_cdf(x, df)` oder
`scipy.stats.t.cdf(x, df)` verwenden; alles andere schreiben Sie selbst.
`groundup check probability-statistics` vergleicht Ihre Ergebnisse mit
scipy.stats.ttest_ind(..., equal_var=False) und scipy.stats.beta.
"""

from __future__ import annotations

import numpy as np

from groundup.math.probability import t_cdf  # noqa: F401  (for the p-value; see below)


def welch_t_test(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Welch's two-sample t-test for equal means, without assuming equal variances.

    a: (n_a,) and b: (n_b,) samples, n_a, n_b >= 2; the sizes may differ.
    With sample means m_a, m_b and UNBIASED sample variances v_a, v_b (divide by n - 1):
        se_a = v_a / n_a,  se_b = v_b / n_b          (squared standard errors)
        t    = (m_a - m_b) / sqrt(se_a + se_b)
        df   = (se_a + se_b)² / (se_a² / (n_a - 1) + se_b² / (n_b - 1))   (Welch-Satterthwaite)
        p    = P(|T| >= |t|) for T ~ Student t with df degrees of freedom (two-sided)
    returns: (t, df, p) as three floats, like
             r = scipy.stats.ttest_ind(a, b, equal_var=False); (r.statistic, r.df, r.pvalue)

    DE: Welchs t-Test zweier Stichproben auf gleiche Mittelwerte, ohne gleiche Varianzen
    anzunehmen. a, b: Stichproben (Größen dürfen sich unterscheiden, jeweils >= 2).
    Mit Mittelwerten m_a, m_b und ERWARTUNGSTREUEN Stichprobenvarianzen v_a, v_b (durch
    n - 1 teilen): se_a = v_a / n_a, se_b = v_b / n_b, t = (m_a - m_b) / sqrt(se_a + se_b),
    df nach Welch-Satterthwaite wie oben, p = P(|T| >= |t|) (zweiseitig) für eine
    t-Verteilung mit df Freiheitsgraden. Rückgabe: (t, df, p) als drei Floats.
    """
    # TODO: means, variances with ddof=1, squared standard errors, t, df, two-sided p
    #       (hint: the two tails are equal, so p = 2 * t_cdf(-|t|, df))
    # TODO: Mittelwerte, Varianzen mit ddof=1, quadrierte Standardfehler, t, df, zweiseitiges p
    #       (Tipp: beide Enden sind gleich groß, also p = 2 * t_cdf(-|t|, df))
    raise NotImplementedError("TODO: welch_t_test")


def beta_binomial_posterior(
    alpha: float, beta: float, successes: int, failures: int
) -> tuple[float, float, float]:
    """Posterior of a coin's probability of heads p after a Beta(alpha, beta) prior.

    alpha, beta > 0: the prior Beta(alpha, beta) on p (Beta(1, 1) is uniform).
    successes, failures >= 0: observed heads and tails.
    The beta prior is conjugate to the binomial likelihood p^s (1 - p)^f, so the posterior
    is again a beta distribution. Work out its parameters from
        posterior density ∝ p^(alpha - 1) (1 - p)^(beta - 1) · p^s (1 - p)^f
    returns: (alpha_post, beta_post, posterior mean of p) as three numbers; the mean of
             Beta(a, b) is a / (a + b), like scipy.stats.beta(a, b).mean()

    DE: Posterior der Kopf-Wahrscheinlichkeit p einer Münze nach einem Beta(alpha, beta)-
    Prior und s Kopf- sowie f Zahl-Würfen. Der Beta-Prior ist zur Binomial-Likelihood
    konjugiert, die Posterior ist wieder eine Beta-Verteilung; ihre Parameter folgen aus
    Posterior ∝ p^(alpha - 1) (1 - p)^(beta - 1) · p^s (1 - p)^f. Rückgabe: (alpha_post,
    beta_post, Posterior-Mittelwert); der Mittelwert von Beta(a, b) ist a / (a + b).
    """
    # TODO: read the exponents of p and (1 - p) off the product above, then the mean
    # TODO: die Exponenten von p und (1 - p) aus dem Produkt ablesen, dann den Mittelwert
    raise NotImplementedError("TODO: beta_binomial_posterior")
