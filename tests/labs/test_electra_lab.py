"""The ELECTRA lab at the micro preset (the first 100,000 characters of the corpus).

Measured at micro (seed 0, 11-18 CPU s on one thread, depending on the load): held-out
unigram loss 5.05 nats, BERT's MLM loss 4.76, ELECTRA's generator 4.89; the discriminator's
replaced-token AUC 0.62 and its BCE 0.382 against 0.396 for the best constant guess;
ALBERT-style 18,060 parameters against BERT's 44,180.

The test asks that BERT's held-out MLM loss ends at least MARGIN nats below the unigram loss,
that the generator beats the unigram loss too, that the discriminator ranks replaced tokens
above original ones better than chance and beats the constant "nothing replaced" guess in
BCE, that every model got the same FLOP budget (to within one step), that the ALBERT-style
model has under half of BERT's parameters, and that the plots and probe results exist.
"""

from __future__ import annotations

import json
import random

import pytest

from groundup.labs import runner
from groundup.labs.electra import MODELS, PRESETS, Config, configs, run, step_flops
from groundup.labs.runner import LabError

MARGIN = 0.1


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_learns_and_spends_the_same_compute(tmp_path) -> None:
    cfg = micro(tmp_path)
    report = run(cfg)
    m = report.metrics
    assert m["bert_mlm_loss"] < m["unigram_loss"] - MARGIN
    assert m["generator_mlm_loss"] < m["unigram_loss"]
    assert m["discriminator_auc"] > 0.52
    assert m["discriminator_bce"] < m["all_original_bce"]
    assert m["albert_parameters"] < m["bert_parameters"] / 2

    shapes = configs(cfg, int(m["vocab_size"]))
    budget = m["budget_tflops"] * 1e12
    for name in MODELS:
        per_step = step_flops(name, shapes, cfg)
        assert abs(m[f"{name}_steps"] * per_step - budget) <= per_step / 2 + 1e-3
    assert m["electra_steps"] < m["bert_steps"]  # the generator's share costs steps

    for task in ("swapped_words", "replaced_word"):
        for encoder in ("random", "bert", "albert", "electra"):
            assert 0.0 <= m[f"{task}_{encoder}"] <= 1.0
        assert m[f"{task}_test_size"] >= 50
    rows = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    bert = [r["mlm_loss"] for r in rows if r.get("model") == "bert" and "mlm_loss" in r]
    assert bert[-1] < bert[0]
    for name in ("pretraining_plot", "downstream_plot"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [({"device": "cuda"}, "CPU"), ({"d_model": 30, "n_heads": 4}, "divisible"),
     ({"albert_embedding": 32}, "albert_embedding"), ({"generator_fraction": 0.0}, "generator"),
     ({"data": "/nonexistent/file.txt"}, "not found")],
)  # fmt: skip
def test_bad_settings_raise_lab_errors(tmp_path, overrides, words: str) -> None:
    with pytest.raises(LabError, match=words):
        run(micro(tmp_path, **overrides))


def test_a_user_file_runs_through_every_stage(tmp_path) -> None:
    rng = random.Random(0)
    nouns = ["river", "stone", "light", "garden", "window", "morning", "bread", "music"]
    verbs = ["holds", "finds", "keeps", "opens", "shows", "moves"]
    paragraphs = [
        " ".join(
            f"The {rng.choice(nouns)} {rng.choice(verbs)} a {rng.choice(nouns)} today."
            for _ in range(3)
        )
        for _ in range(240)
    ]
    path = tmp_path / "text.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    report = run(micro(tmp_path / "out", data=str(path), vocab=100, steps=10, eval_every=5))
    assert report.metrics["source"] == str(path)
    assert report.metrics["replaced_word_test_size"] >= 50
    assert report.artifacts["downstream_plot"].exists()


def test_every_own_setting_is_explained_in_both_languages() -> None:
    from dataclasses import fields

    from groundup.i18n import LAB_FIELDS
    from groundup.labs import electra as lab

    own = {f.name for f in fields(Config)} - {f.name for f in fields(runner.LabConfig)}
    assert own - set(LAB_FIELDS) <= set(lab.FIELD_HELP)
    assert all(msg.en != msg.de for msg in lab.FIELD_HELP.values())
