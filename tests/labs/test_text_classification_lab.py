"""The text-classification lab at the micro preset.

micro replaces MiniLM by a small random BERT (2 layers, width 64, MiniLM's vocabulary) and
uses the plain templates only, so the test runs in seconds; it shows the fine-tuning
machinery learning, not the value of pretraining (that is the tiny preset's table).
Measured at micro (seed 0): dev accuracy 0.95, test accuracy 0.74 overall, 0.90 on the
test sentences whose adjectives were seen in training, 0.57 on the unseen ones; about
6 CPU seconds. The floors below sit under these.
"""

from __future__ import annotations

import json

import pytest

from groundup.labs import runner
from groundup.labs.runner import LabError
from groundup.labs.text_classification import (
    MODELS,
    NEGATIVE,
    POSITIVE,
    PRESETS,
    Config,
    embedded_splits,
    held_out_words,
    run,
)

PNG = b"\x89PNG\r\n\x1a\n"


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_fine_tuning_learns(tmp_path) -> None:
    report = run(micro(tmp_path))
    m = report.metrics
    assert m["train_examples"] == 160
    assert m["dev_accuracy_finetuned"] >= 0.85  # from chance (0.5) in 60 steps
    assert m["seen_words_accuracy_finetuned"] >= 0.8
    assert m["test_accuracy_finetuned"] >= 0.65
    for name in MODELS:
        assert 0.0 <= m[f"test_accuracy_{name}"] <= 1.0
        assert f"unseen_words_accuracy_{name}" in m
    assert m["trainable_params_probe"] == 64 * 2 + 2  # only the head learns
    assert m["trainable_params_finetuned"] == m["trainable_params_random"] > 1_000_000
    for name in ("learning_curves", "training_loss"):
        assert report.artifacts[name].read_bytes()[:8] == PNG
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    trained = {r["model"]: r for r in records if r["stage"] == "trained"}
    curve = [h["accuracy"] for h in trained["finetuned"]["history"]]
    assert max(curve) == m["dev_accuracy_finetuned"] and curve[0] < max(curve)
    assert "finetuned" in report.text and "tfidf" in report.text


def test_embedded_splits_hold_out_words_and_sentences() -> None:
    cfg = Config(train_size=200, dev_size=50, test_size=100)
    train, dev, test = embedded_splits(cfg)
    assert (len(train[0]), len(dev[0]), len(test[0])) == (200, 50, 100)
    assert not set(train[0]) & set(test[0]) and not set(train[0]) & set(dev[0])
    hidden = held_out_words(POSITIVE) | held_out_words(NEGATIVE)
    words = lambda texts: {w.strip(".,;") for t in texts for w in t.split()}  # noqa: E731
    assert not words(train[0]) & hidden and not words(dev[0]) & hidden
    with_hidden = sum(bool(set(t.replace(",", " ").replace(".", " ").split()) & hidden)
                      for t in test[0])  # fmt: skip
    assert with_hidden == 50  # half of the test split
    assert 0.35 < sum(train[1]) / 200 < 0.65
    negated = [t for t in train[0] if " not " in t or "never" in t or "far from" in t]
    assert len(negated) > 40  # negation is common, not a corner case


def test_bad_settings_and_data_are_clear_errors(tmp_path) -> None:
    with pytest.raises(LabError, match="pooling"):
        run(micro(tmp_path, pooling="max"))
    with pytest.raises(LabError, match="train.tsv"):
        run(micro(tmp_path, data=str(tmp_path / "missing")))
    (tmp_path / "glue").mkdir()
    (tmp_path / "glue" / "train.tsv").write_text("text\tlabel\nfine\t1\n", encoding="utf-8")
    (tmp_path / "glue" / "dev.tsv").write_text("sentence\tlabel\nok\t1\n", encoding="utf-8")
    with pytest.raises(LabError, match="sentence"):
        run(micro(tmp_path, data=str(tmp_path / "glue")))
