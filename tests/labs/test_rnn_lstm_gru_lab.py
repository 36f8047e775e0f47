"""The rnn-lstm-gru lab at its micro preset: what it must have learned, and its artefacts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from groundup.labs import runner
from groundup.labs.rnn_lstm_gru import PRESETS, Config, run, word_order_task


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("rnn_lstm_gru")
    cfg = runner.make_config(Config, PRESETS, "micro", out=str(out), quiet=True)
    return run(cfg)


def test_plain_rnn_gradient_vanishes_far_faster_than_the_lstms(report) -> None:
    m = report.metrics
    # over 40 steps at initialisation: the tanh RNN loses many more orders of magnitude
    assert m["grad_log10_first_over_last_rnn"] < m["grad_log10_first_over_last_lstm"] - 3
    assert m["grad_log10_first_over_last_rnn"] < m["grad_log10_first_over_last_gru"]
    assert m["grad_log10_first_over_last_rnn"] < -6


def test_char_lstm_beats_the_unigram_model(report) -> None:
    m = report.metrics
    assert m["char_val_loss"] < m["unigram_val_loss"] - 0.5  # nats per character


def test_bilstm_reads_word_order_that_bag_of_words_cannot(report) -> None:
    m = report.metrics
    assert m["cls_task"] == "word order"
    assert m["cls_test_accuracy"] > m["cls_majority"] + 0.08
    assert m["cls_bag_of_words"] < m["cls_majority"] + 0.06  # same words either way


def test_writes_table_plots_and_samples(report) -> None:
    out = report.out_dir
    rows = list(csv.DictReader((out / "perplexity.csv").open()))
    assert [r["model"] for r in rows] == ["kneser-ney order 1", "kneser-ney order 3", "LSTM 1x64"]
    for name in ("gradient_norms.png", "char_lm_loss.png", "samples.txt", "config.json"):
        assert (out / name).stat().st_size > 0
    parts = {json.loads(line)["part"] for line in (out / "metrics.jsonl").open()}
    assert parts == {"gradients", "char_lm", "classifier", "summary"}


def test_word_order_task_shuffles_exactly_the_negatives() -> None:
    rest = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    text = "\n\n".join(f"Word{i} {' '.join(rest)}, fine." for i in range(60))
    text += "\n\nSpam spam spam spam spam spam spam."  # no shuffle can change it: left out
    sentences, labels = word_order_task(text, 50, seed=0, max_words=40)
    assert len(sentences) == 50
    for s, label in zip(sentences, labels, strict=True):
        original = [next(w for w in s if w.startswith("word")), *rest, "fine"]
        assert sorted(s) == sorted(original)  # the same words, punctuation dropped
        assert (s == original) == bool(label)  # shuffled exactly when the label is 0
    assert 10 < sum(labels) < 40


def test_glue_data_and_bad_settings(tmp_path: Path) -> None:
    tsv = tmp_path / "data.tsv"
    with pytest.raises(runner.LabError, match="file not found"):
        run(runner.make_config(Config, PRESETS, "micro", data=str(tsv), quiet=True,
                               out=str(tmp_path / "o")))  # fmt: skip
    with pytest.raises(runner.LabError, match="steps"):
        run(runner.make_config(Config, PRESETS, "micro", steps=0, quiet=True,
                               out=str(tmp_path / "o")))  # fmt: skip


def test_reads_a_glue_directory_and_learns_its_labels(tmp_path: Path) -> None:
    rows = ["sentence\tlabel"] + [
        f"{'a fine warm film' if i % 2 else 'a dull cold film'} with scene {i}\t{i % 2}"
        for i in range(300)
    ]
    for name in ("train.tsv", "dev.tsv"):
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    settings = {"grad_steps": 5, "steps": 5, "ngram_orders": "1", "sample_chars": 5,
                "cls_steps": 40, "cls_hidden": 8, "seq_len": 16}  # fmt: skip
    cfg = runner.make_config(Config, PRESETS, "micro", data=str(tmp_path), quiet=True,
                             out=str(tmp_path / "out"), **settings)  # fmt: skip
    m = run(cfg).metrics
    assert m["cls_task"] == "glue"
    assert m["cls_train_examples"] == 300 and m["cls_test_examples"] == 300
    assert m["cls_bag_of_words"] == 1.0  # one word decides the label
    assert m["cls_test_accuracy"] > 0.9
