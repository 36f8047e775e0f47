"""Lab: probability and statistics you can watch, all with `groundup.math.probability`.

The data is generated here, from a seeded numpy Generator; nothing is downloaded.
1. Samplers: Box-Muller normals, inverse-CDF exponentials and Poisson counts, binomial
   counts; their histograms lie on the densities, and a Kolmogorov-Smirnov distance says
   by how much they differ.
2. Law of large numbers and central limit theorem: the running mean of exponential waiting
   times settles on the true mean; means of n skewed draws, standardized, look normal.
3. Maximum likelihood: gradient ascent on the log-likelihood of four families climbs to
   the closed-form estimate (each curve is the estimate divided by the closed form -> 1).
4. Bayes: a Beta(1, 1) prior on a coin's bias after 0, 1, 5, 20 and 100 flips.
5. Confidence intervals: thousands of simulated experiments per sample size; how often the
   95 % interval holds the truth (Wald and Wilson for a rare proportion, t for a skewed mean).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.math import probability as P

LAB = "probability_statistics"
FLIPS_SHOWN = (0, 1, 5, 20, 100)


@dataclass
class Config(LabConfig):
    samples: int = 20000  # draws per sampler histogram
    clt_n: int = 10  # draws averaged into one mean for the central-limit histogram
    clt_means: int = 5000  # how many such means
    mle_samples: int = 500  # data points each maximum-likelihood fit sees
    mle_steps: int = 300
    mle_lr: float = 0.1
    coin_p: float = 0.7  # the true bias of the coin in the Bayes part
    true_p: float = 0.1  # the proportion whose confidence intervals are simulated
    sizes: str = "5,10,20,50,100"  # sample sizes for the coverage simulation
    experiments: int = 4000  # simulated experiments per sample size
    level: float = 0.95


PRESETS: dict[str, dict] = {
    "micro": {"samples": 4000, "clt_means": 2000, "mle_samples": 200, "experiments": 1000},
    "tiny": {},
    "full": {"samples": 200000, "clt_means": 50000, "experiments": 40000,
             "sizes": "5,10,15,20,30,50,75,100,200"},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "samples": Msg("draws per sampler histogram", "Ziehungen pro Histogramm eines Samplers"),
    "clt_n": Msg(
        "draws averaged into one mean (central limit theorem)",
        "Ziehungen, die zu einem Mittelwert gemittelt werden (zentraler Grenzwertsatz)",
    ),
    "clt_means": Msg(
        "number of such means in the histogram", "Anzahl solcher Mittelwerte im Histogramm"
    ),
    "mle_samples": Msg(
        "data points for each maximum-likelihood fit",
        "Datenpunkte für jede Maximum-Likelihood-Schätzung",
    ),
    "mle_steps": Msg(
        "gradient-ascent steps on the log-likelihood",
        "Schritte des Gradientenanstiegs auf der Log-Likelihood",
    ),
    "mle_lr": Msg("step size of the gradient ascent", "Schrittweite des Gradientenanstiegs"),
    "coin_p": Msg(
        "true probability of heads of the simulated coin",
        "wahre Kopf-Wahrscheinlichkeit der simulierten Münze",
    ),
    "true_p": Msg(
        "true proportion whose confidence intervals are simulated",
        "wahrer Anteil, dessen Konfidenzintervalle simuliert werden",
    ),
    "sizes": Msg(
        "sample sizes of the coverage simulation, comma-separated",
        "Stichprobengrößen der Überdeckungs-Simulation, durch Kommas getrennt",
    ),
    "experiments": Msg(
        "simulated experiments per sample size", "simulierte Experimente pro Stichprobengröße"
    ),
    "level": Msg("confidence level of the intervals", "Konfidenzniveau der Intervalle"),
}

WORKING = Msg("Sampling and simulating", "Ziehen und Simulieren")
ONLY_CPU = Msg(
    "This lab runs in NumPy on the CPU only; use --device cpu or auto.",
    "Dieses Lab läuft mit NumPy nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
NO_DATA = Msg(
    "This lab generates its own data; --data is not used.",
    "Dieses Lab erzeugt seine Daten selbst; --data wird nicht verwendet.",
)


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise LabError(
            runner.BAD_SETTING.get(detail=f"sizes={text!r} is not a list of integers")
        ) from None
    if not sizes or min(sizes) < 2:
        raise LabError(
            runner.BAD_SETTING.get(detail=f"sizes={text!r}: each size must be at least 2")
        )
    return sizes


def check_config(cfg: Config) -> list[int]:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    if cfg.data is not None:
        raise LabError(NO_DATA.get())
    problems = [
        f"{name}={getattr(cfg, name)} must be at least {low}"
        for name, low in (("samples", 100), ("clt_n", 1), ("clt_means", 100),
                          ("mle_samples", 10), ("mle_steps", 1), ("experiments", 10))
        if getattr(cfg, name) < low
    ]  # fmt: skip
    for name in ("coin_p", "true_p", "level"):
        if not 0.0 < getattr(cfg, name) < 1.0:
            problems.append(f"{name}={getattr(cfg, name)} must lie strictly between 0 and 1")
    if cfg.mle_lr <= 0:
        problems.append(f"mle_lr={cfg.mle_lr} must be positive")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))
    return parse_sizes(cfg.sizes)


def ks_distance(samples: np.ndarray, cdf) -> float:
    """max |empirical cdf - cdf|, checked just before and at every sorted sample."""
    x = np.sort(samples)
    n, f = len(x), cdf(x)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


# ---------------------------------------------------------------- the five parts


def samplers(cfg: Config, rng: np.random.Generator) -> dict[str, tuple]:
    """name -> (samples, density or pmf, cdf or None, discrete?)."""
    n = cfg.samples
    return {
        "normal (Box-Muller)": (
            P.sample_normal(rng, 1.0, 2.0, n), lambda x: P.normal_pdf(x, 1.0, 2.0),
            lambda x: P.normal_cdf(x, 1.0, 2.0), False),
        "exponential (inverse CDF)": (
            P.sample_exponential(rng, 1.5, n), lambda x: P.exponential_pdf(x, 1.5),
            lambda x: P.exponential_cdf(x, 1.5), False),
        "Poisson λ=4 (inverse CDF)": (
            P.sample_poisson(rng, 4.0, n), lambda k: P.poisson_pmf(k, 4.0), None, True),
        "binomial n=20, p=0.3": (
            P.sample_binomial(rng, 20, 0.3, n), lambda k: P.binomial_pmf(k, 20, 0.3), None, True),
    }  # fmt: skip


def coverage(cfg: Config, n: int, rng: np.random.Generator) -> dict[str, float]:
    """Share of simulated experiments whose interval holds the truth, for one sample size."""
    counts = P.sample_binomial(rng, n, cfg.true_p, cfg.experiments)
    # an interval depends only on the count k, so compute it once for each possible k
    covers = {}
    for name, interval in (("wald", P.proportion_ci_wald), ("wilson", P.proportion_ci_wilson)):
        bounds = np.array([interval(k, n, cfg.level) for k in range(n + 1)])
        hits = (bounds[:, 0] <= cfg.true_p) & (cfg.true_p <= bounds[:, 1])
        covers[name] = float(hits[counts].mean())
        # the exact coverage: the binomial probability of every count whose interval hits
        covers[f"{name}_exact"] = float(
            np.sum(P.binomial_pmf(np.arange(n + 1), n, cfg.true_p)[hits])
        )
    # t-interval for the mean of skewed data (exponential, mean 1); t's quantile depends on n only
    data = P.sample_exponential(rng, 1.0, cfg.experiments * n).reshape(cfg.experiments, n)
    mean, std = data.mean(axis=1), data.std(axis=1, ddof=1)
    half = P.t_ppf((1 + cfg.level) / 2, n - 1) * std / math.sqrt(n)
    covers["t_mean"] = float(np.mean((mean - half <= 1.0) & (mean + half >= 1.0)))
    return covers


def run(cfg: Config) -> LabReport:
    sizes = check_config(cfg)
    timer = runner.Timer()
    out = runner.out_dir(cfg, LAB)
    runner.save_config(cfg, out)
    rng = np.random.default_rng(cfg.seed)  # the only source of randomness (no torch here)
    log = runner.MetricsLog(out / "metrics.jsonl")
    metrics: dict[str, float | int | str] = {}
    artifacts: dict[str, Path] = {"metrics": out / "metrics.jsonl"}

    with runner.progress(4 + len(sizes), WORKING.get(), cfg.quiet) as bar:
        # 1. samplers against their densities
        drawn = samplers(cfg, rng)
        for name, (values, _, cdf, _) in drawn.items():
            if cdf is not None:
                key = "ks_" + name.split()[0]
                metrics[key] = ks_distance(values, cdf)
                log.log(part="samplers", sampler=name, ks_distance=metrics[key])
        # at 5 % significance a correct sampler stays below this distance 95 % of the time
        metrics["ks_critical_5pct"] = 1.358 / math.sqrt(cfg.samples)
        metrics["ks_critical_1pct"] = 1.628 / math.sqrt(cfg.samples)
        artifacts["samplers_plot"] = plot_samplers(out / "samplers.png", drawn)
        bar.update(info="samplers")

        # 2. law of large numbers and central limit theorem (exponential: mean 1, skewed)
        waits = P.sample_exponential(rng, 1.0, cfg.samples)
        running = np.cumsum(waits) / np.arange(1, cfg.samples + 1)
        means = P.sample_exponential(rng, 1.0, cfg.clt_means * cfg.clt_n).reshape(-1, cfg.clt_n)
        standardized = (means.mean(axis=1) - 1.0) / (1.0 / math.sqrt(cfg.clt_n))
        metrics["lln_error_first_10"] = float(abs(running[9] - 1.0))
        metrics["lln_error_last"] = float(abs(running[-1] - 1.0))
        metrics["clt_ks_to_normal"] = ks_distance(standardized, P.normal_cdf)
        metrics["single_draw_ks_to_normal"] = ks_distance(waits - 1.0, P.normal_cdf)
        log.log(part="lln_clt", **{k: metrics[k] for k in ("lln_error_last", "clt_ks_to_normal")})
        artifacts["lln_clt_plot"] = plot_lln_clt(out / "lln_clt.png", running, standardized, cfg)
        bar.update(info="LLN / CLT")

        # 3. maximum likelihood: gradient ascent against the closed form
        series, worst = {}, 0.0
        for family, x, start, closed in mle_problems(cfg, rng):
            path = P.mle_gradient_ascent(family, x, start, cfg.mle_lr, cfg.mle_steps)
            ratio = path[:, 0] / closed[0]
            gap = float(np.max(np.abs(path[-1] / np.array(closed) - 1.0)))
            worst = max(worst, gap)
            series[family] = (list(range(len(ratio))), ratio.tolist())
            log.log(part="mle", family=family, closed_form=list(closed),
                    gradient_ascent=path[-1].tolist(), relative_gap=gap)  # fmt: skip
        metrics["mle_worst_relative_gap"] = worst
        artifacts["mle_plot"] = runner.save_line_plot(
            out / "mle.png", series, "gradient ascent / closed-form MLE (first parameter)",
            "step", "estimate / closed form",
        )  # fmt: skip
        bar.update(info=f"MLE gap {worst:.1e}")

        # 4. Bayes: a uniform prior on the coin, updated flip by flip
        flips = P.sample_bernoulli(rng, cfg.coin_p, max(FLIPS_SHOWN))
        posteriors = {}
        for seen in FLIPS_SHOWN:
            heads = int(flips[:seen].sum())
            alpha, beta, mean = P.beta_binomial_posterior(1.0, 1.0, heads, seen - heads)
            low, high = P.beta_credible_interval(alpha, beta, cfg.level)
            posteriors[seen] = (alpha, beta)
            log.log(part="bayes", flips=seen, heads=heads, alpha=alpha, beta=beta,
                    mean=mean, credible_low=low, credible_high=high)  # fmt: skip
        metrics["posterior_mean_100"] = mean
        metrics["credible_width_100"] = high - low
        metrics["credible_holds_coin_p"] = int(low <= cfg.coin_p <= high)
        artifacts["posterior_plot"] = plot_posteriors(out / "posterior.png", posteriors, cfg)
        bar.update(info=f"posterior mean {mean:.3f}")

        # 5. coverage of confidence intervals
        table = {}
        for n in sizes:
            table[n] = coverage(cfg, n, rng)
            log.log(part="coverage", n=n, **table[n])
            bar.update(info=f"n={n} wald {table[n]['wald']:.2f} wilson {table[n]['wilson']:.2f}")
        for n in (sizes[0], sizes[-1]):
            for name in ("wald", "wilson", "t_mean"):
                metrics[f"coverage_{name}_n{n}"] = table[n][name]
        artifacts["coverage_plot"] = plot_coverage(out / "coverage.png", table, cfg)
        bar.update(advance=0, info="done")
    log.close()

    lines = [f"{'n':>5} {'Wald':>7} {'Wilson':>7} {'t (mean)':>9}   nominal {cfg.level:.0%}"]
    lines += [f"{n:>5} {r['wald']:>7.3f} {r['wilson']:>7.3f} {r['t_mean']:>9.3f}"
              for n, r in table.items()]  # fmt: skip
    return LabReport(LAB, out, metrics, artifacts, "\n".join(lines), timer.seconds)


def mle_problems(cfg: Config, rng: np.random.Generator) -> list[tuple]:
    """(family, data, start, closed-form estimate) for the four families."""
    m = cfg.mle_samples
    coin = P.sample_bernoulli(rng, 0.3, m).astype(float)
    counts = P.sample_poisson(rng, 4.0, m).astype(float)
    waits = P.sample_exponential(rng, 2.0, m)
    heights = P.sample_normal(rng, 3.0, 1.5, m)
    return [
        ("bernoulli", coin, (0.5,), (P.mle_bernoulli(coin),)),
        ("poisson", counts, (1.0,), (P.mle_poisson(counts),)),
        ("exponential", waits, (1.0,), (P.mle_exponential(waits),)),
        ("normal", heights, (0.5, 1.0), P.mle_normal(heights)),
    ]


# ---------------------------------------------------------------- plots


def plot_samplers(path: Path, drawn: dict[str, tuple]) -> Path:
    plt = runner.pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), dpi=110)
    for ax, (name, (values, density, _, discrete)) in zip(axes.ravel(), drawn.items(), strict=True):
        if discrete:
            k = np.arange(values.max() + 1)
            ax.bar(k, np.bincount(values) / len(values), alpha=0.5, label="samples")
            ax.plot(k, density(k), "o-", color="C3", label="pmf")
        else:
            ax.hist(values, bins=80, density=True, alpha=0.5, label="samples")
            grid = np.linspace(values.min(), values.max(), 300)
            ax.plot(grid, density(grid), color="C3", label="pdf")
        ax.set_title(name)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_lln_clt(path: Path, running: np.ndarray, standardized: np.ndarray, cfg: Config) -> Path:
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    left.plot(np.arange(1, len(running) + 1), running, label="running mean")
    left.axhline(1.0, color="C3", linestyle="--", label="true mean 1")
    left.set_xscale("log")
    left.set_title("law of large numbers: exponential waits")
    left.set_xlabel("draws")
    left.legend()
    right.hist(standardized, bins=60, density=True, alpha=0.5, label=f"means of {cfg.clt_n}")
    grid = np.linspace(-4, 4, 300)
    right.plot(grid, P.normal_pdf(grid), color="C3", label="N(0, 1)")
    right.set_title("central limit theorem: standardized means")
    right.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_posteriors(path: Path, posteriors: dict[int, tuple[float, float]], cfg: Config) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    grid = np.linspace(0.001, 0.999, 400)
    for seen, (alpha, beta) in posteriors.items():
        ax.plot(
            grid, P.beta_pdf(grid, alpha, beta), label=f"{seen} flips: Beta({alpha:g}, {beta:g})"
        )
    ax.axvline(cfg.coin_p, color="black", linestyle="--", label=f"true p = {cfg.coin_p}")
    ax.set_title("posterior of a coin's bias, uniform prior")
    ax.set_xlabel("p")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_coverage(path: Path, table: dict[int, dict[str, float]], cfg: Config) -> Path:
    sizes = list(table)
    series = {
        f"Wald, p={cfg.true_p}": (sizes, [table[n]["wald"] for n in sizes]),
        f"Wilson, p={cfg.true_p}": (sizes, [table[n]["wilson"] for n in sizes]),
        "t interval, exponential mean": (sizes, [table[n]["t_mean"] for n in sizes]),
        f"nominal {cfg.level:.0%}": (sizes, [cfg.level] * len(sizes)),
    }
    return runner.save_line_plot(
        path, series, f"coverage of {cfg.level:.0%} intervals", "sample size n", "coverage"
    )
