"""The n-gram lab at the micro preset (the first 80,000 characters of the corpus).

Measured at micro: validation perplexity, characters: Kneser-Ney 9.8 at order 4 against
add-1's best 16.5 (order 3); words: Kneser-Ney 73.9 at order 4 against add-1's best 153
(order 1, since add-1 gets worse with every order above). The test asks that Kneser-Ney
beats add-1 by at least 25 % on both levels and that its best order is above 1.
"""

from __future__ import annotations

import csv

import pytest

from groundup.labs import runner
from groundup.labs.ngram_lm import LEVELS, PRESETS, Config, run
from groundup.labs.runner import LabError


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_kneser_ney_beats_add_one_and_context_helps(tmp_path) -> None:
    report = run(micro(tmp_path))
    m = report.metrics
    for level in LEVELS:
        assert m[f"{level}_kn_best_perplexity"] < 0.75 * m[f"{level}_add-1_best_perplexity"]
        assert m[f"{level}_kn_best_order"] > 1
    rows = list(csv.DictReader(report.artifacts["perplexity_table"].open(encoding="utf-8")))
    assert len(rows) == 2 * 4 * 3  # levels x orders x (add-0.1, add-1, kneser-ney)
    chars = {(r["smoothing"], int(r["order"])): float(r["perplexity"]) for r in rows
             if r["level"] == "char"}  # fmt: skip
    # unigrams: smoothing hardly matters; order 4: add-1 spreads too much mass on unseen grams
    assert chars[("kneser-ney", 1)] == pytest.approx(chars[("add-1", 1)], rel=0.02)
    assert chars[("add-1", 4)] > chars[("add-1", 3)]
    assert report.artifacts["perplexity_plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    samples = report.artifacts["samples"].read_text(encoding="utf-8")
    assert samples.count("--- char") == 3 and samples.count("--- word") == 3
    assert "validation perplexity, word level" in report.text


def test_user_file(tmp_path) -> None:
    path = tmp_path / "text.txt"
    sentences = [f"The {a} sat on the {b}." for a in ("cat", "dog", "bird") for b in ("mat", "rug")]
    path.write_text(" ".join(sentences * 20) + "\n\n", encoding="utf-8")
    m = run(micro(tmp_path / "out", data=str(path), max_order=3)).metrics
    assert m["word_kn_best_perplexity"] < 5 and m["char_kn_best_order"] == 3


@pytest.mark.parametrize(
    ("overrides", "words"),
    [({"device": "cuda"}, "CPU"), ({"ks": "0.1,x"}, "ks"), ({"ks": "-1"}, "ks"),
     ({"max_order": 0}, "max_order"), ({"data": "/nonexistent/file.txt"}, "not found")],
)  # fmt: skip
def test_bad_settings_raise_lab_errors(tmp_path, overrides, words: str) -> None:
    with pytest.raises(LabError, match=words):
        run(micro(tmp_path, **overrides))


def test_too_short_text_raises_a_lab_error(tmp_path) -> None:
    short = tmp_path / "short.txt"
    short.write_text("Only a few words here.", encoding="utf-8")
    with pytest.raises(LabError, match="validation words"):
        run(micro(tmp_path / "out", data=str(short)))
