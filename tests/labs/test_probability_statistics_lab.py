"""The probability-statistics lab at the micro preset shows what each part is about.

Measured at seed 0 (micro): KS distances 0.009 (normal) and 0.011 (exponential) with 4000
draws, below the 1 % critical distance 0.026; the running mean of 4000 exponential waits
is 0.01 from 1; standardized means of 10 draws are 0.05 from normal in KS distance, single
draws 0.16; gradient ascent ends 5e-4 (relative) from the closed-form MLE; after 100 flips
of a p=0.7 coin the posterior mean is 0.68 and the 95 % credible interval holds 0.7;
coverage at n=5, p=0.1: Wald 0.42, Wilson 0.92 (exact: 0.41 and 0.92).
Thresholds leave room for other seeds but not for a broken part.
"""

from __future__ import annotations

import json

import pytest

from groundup.labs import runner
from groundup.labs.probability_statistics import PRESETS, Config, run
from groundup.labs.runner import LabError


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_lab_shows_sampling_limits_mle_bayes_and_coverage(tmp_path) -> None:
    report = run(micro(tmp_path))
    m = report.metrics
    assert m["ks_normal"] < m["ks_critical_1pct"] and m["ks_exponential"] < m["ks_critical_1pct"]
    assert m["lln_error_last"] < 0.05
    # averaging ten skewed draws brings their distribution at least twice as close to normal
    assert m["clt_ks_to_normal"] < 0.5 * m["single_draw_ks_to_normal"]
    assert m["mle_worst_relative_gap"] < 1e-2
    assert abs(m["posterior_mean_100"] - 0.7) < 0.12 and m["credible_width_100"] < 0.25
    # Wald fails badly for a rare event in a small sample; Wilson stays near 95 %
    assert m["coverage_wald_n5"] < 0.6 and m["coverage_wilson_n5"] > 0.85
    assert abs(m["coverage_wilson_n100"] - 0.95) < 0.04
    assert abs(m["coverage_t_mean_n100"] - 0.95) < 0.04

    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    bayes = [r for r in records if r["part"] == "bayes"]
    assert [r["flips"] for r in bayes] == [0, 1, 5, 20, 100]
    assert bayes[0]["alpha"] == bayes[0]["beta"] == 1.0
    widths = [r["credible_high"] - r["credible_low"] for r in bayes]
    assert widths[-1] < widths[2] < widths[0]  # more flips, narrower posterior
    coverage = {r["n"]: r for r in records if r["part"] == "coverage"}
    assert list(coverage) == [5, 10, 20, 50, 100]
    for row in coverage.values():  # simulated coverage lies near the exact binomial sum
        assert abs(row["wald"] - row["wald_exact"]) < 0.05
        assert abs(row["wilson"] - row["wilson_exact"]) < 0.05
    for name in ("samplers_plot", "lln_clt_plot", "mle_plot", "posterior_plot", "coverage_plot"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Wilson" in report.text


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"device": "cuda"}, "CPU"),
        ({"data": "x.npz"}, "data"),
        ({"sizes": "5,a"}, "sizes"),
        ({"sizes": "1,5"}, "at least 2"),
        ({"level": 1.5}, "level"),
        ({"experiments": 1}, "experiments"),
    ],
)
def test_bad_settings_raise_lab_errors(tmp_path, overrides, words: str) -> None:
    with pytest.raises(LabError, match=words):
        run(micro(tmp_path, **overrides))
