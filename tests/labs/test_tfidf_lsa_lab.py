"""The TF-IDF and LSA lab at the micro preset (70 docstrings from each of six families).

Measured at micro (seed 0): test accuracy bag of words 0.62, TF-IDF 0.72, LSA (30
components) 0.70, majority label 0.17; the nearest training document shares the label for
68 % (TF-IDF) and 70 % (LSA) of the test documents. The test asks for TF-IDF at least 0.05
above the bag-of-words baseline and every classifier far above chance.

Summaries of the eight embedded texts, two sentences each (ROUGE-1 F1, seed 0): TextRank
0.424 with either similarity, lead-2 0.390, random-2 0.379, the oracle 0.539.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from groundup.labs import runner
from groundup.labs.runner import LabError
from groundup.labs.tfidf_lsa import (
    FAMILIES,
    PRESETS,
    SUMMARIZERS,
    Config,
    choose_sentences,
    rouge_f1,
    run,
    stratified_split,
)

PNG = b"\x89PNG\r\n\x1a\n"


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_tfidf_beats_bag_of_words_and_lsa_finds_neighbours(tmp_path) -> None:
    report = run(micro(tmp_path))
    m = report.metrics
    assert m["documents"] == 70 * len(FAMILIES) and m["labels"] == 6
    assert m["accuracy_majority_label"] == pytest.approx(1 / 6, abs=0.01)
    assert m["accuracy_tfidf"] >= m["accuracy_bag_of_words"] + 0.05
    assert m["accuracy_tfidf"] >= 0.65 and m["accuracy_lsa"] >= 0.6
    assert m["train_accuracy_tfidf"] > 0.95  # C = 10: a weak penalty, the training set is fit
    assert min(m["nearest_same_label_tfidf"], m["nearest_same_label_lsa"]) >= 0.6
    assert m["lsa_components"] == 30 and 0 < m["lsa_explained_variance"] < 1

    for name in ("document_map", "loss_plot"):
        assert report.artifacts[name].read_bytes()[:8] == PNG
    topics = list(csv.DictReader(report.artifacts["topics_table"].open(encoding="utf-8")))
    assert len(topics) == 6 * 8 and {row["component"] for row in topics} == set("123456")
    assert not {row["term"] for row in topics} & {"the", "of", "and", "to"}  # stop words gone
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    trained = [r for r in records if r["stage"] == "classify"]
    assert [r["model"] for r in trained] == ["bag_of_words", "tfidf", "lsa"]
    assert all(r["loss"] < np.log(6) / 2 for r in trained)  # from ln 6 at the zero start
    assert "LSA topics" in report.text and report.text.count("[") >= 6 * 4

    # summaries: TextRank beats both blind baselines, and nothing beats the oracle
    best_textrank = max(m["rouge1_textrank_overlap"], m["rouge1_textrank_tfidf"])
    assert best_textrank >= m["rouge1_random_k"] + 0.03
    assert best_textrank >= m["rouge1_lead_k"] + 0.02
    for rouge_type in ("rouge1", "rouge2", "rougeL"):
        others = [m[f"{rouge_type}_{name.replace('-', '_')}"] for name in SUMMARIZERS]
        assert all(0 < value < 1 for value in others)
    assert m["rouge1_oracle_k"] == max(m[f"rouge1_{n.replace('-', '_')}"] for n in SUMMARIZERS)
    table = list(csv.DictReader(report.artifacts["summary_table"].open(encoding="utf-8")))
    assert [row["method"] for row in table] == list(SUMMARIZERS)
    assert report.artifacts["summary_plot"].read_bytes()[:8] == PNG
    assert sum(r["stage"] == "summarize" for r in records) == len(SUMMARIZERS)
    assert "[textrank-overlap]" in report.text and "rougeL" in report.text


def test_summarizers_on_a_text_whose_best_summary_is_known() -> None:
    sentences = ["Cats sleep a lot.", "The river floods every spring.", "Tea is a drink.",
                 "Farmers near the river plant rice after the flood.", "Snow is cold."]  # fmt: skip
    reference = "The river floods every spring.\nFarmers near the river plant rice after the flood."
    assert choose_sentences("lead-k", sentences, 2, reference) == [0, 1]
    assert choose_sentences("oracle-k", sentences, 2, reference) == [1, 3]
    assert rouge_f1(reference, sentences, [3, 1]) == [1.0, 1.0, 1.0]  # order restored
    # the two river sentences share words with each other and with nothing else: TextRank's
    # graph has one edge, and those two sentences are the central ones
    assert choose_sentences("textrank-overlap", sentences, 2, reference) == [1, 3]
    assert choose_sentences("textrank-tfidf", sentences, 2, reference) == [1, 3]


def write_reviews(path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    good, bad = ["great", "fine", "superb", "lovely", "fun"], ["awful", "dull", "poor", "boring"]
    neutral = ["the", "film", "plot", "acting", "was", "really", "and", "music"]
    lines = ["sentence\tlabel"]
    for i in range(n):
        label = i % 2
        words = list(rng.choice(good if label else bad, 2)) + list(rng.choice(neutral, 5))
        lines.append(" ".join(rng.permutation(words)) + " \t" + str(label))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_glue_tsv_file_for_classification(tmp_path) -> None:
    write_reviews(tmp_path / "reviews.tsv", 120, seed=0)
    m = run(micro(tmp_path / "out", data=str(tmp_path / "reviews.tsv"), components=10)).metrics
    assert m["documents"] == 120 and m["labels"] == 2
    assert m["accuracy_tfidf"] == 1.0 and m["accuracy_bag_of_words"] == 1.0


def test_glue_folder_keeps_its_train_dev_split(tmp_path) -> None:
    write_reviews(tmp_path / "train.tsv", 100, seed=1)
    write_reviews(tmp_path / "dev.tsv", 30, seed=2)
    report = run(micro(tmp_path / "out", data=str(tmp_path), components=10, max_docs=80))
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    assert records[0]["train"] == 80 and records[0]["test"] == 30  # max_docs per file
    assert report.metrics["accuracy_tfidf"] == 1.0


def test_stratified_split_keeps_the_label_shares() -> None:
    labels = ["a"] * 40 + ["b"] * 20
    train, test = stratified_split(labels, 0.25, seed=1)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(60))
    assert sum(labels[i] == "a" for i in test) == 10 and sum(labels[i] == "b" for i in test) == 5


@pytest.mark.parametrize(
    ("overrides", "words"),
    [({"device": "cuda"}, "CPU"), ({"test_fraction": 1.0}, "test_fraction"),
     ({"C": 0.0}, "C must be"), ({"components": 0}, "components"),
     ({"data": "/nonexistent/train.tsv"}, "not found"),
     ({"summary_sentences": 0}, "summary_sentences")],
)  # fmt: skip
def test_bad_settings_raise_lab_errors(tmp_path, overrides, words: str) -> None:
    with pytest.raises(LabError, match=words):
        run(micro(tmp_path, **overrides))


def test_bad_files_raise_lab_errors_with_file_and_line(tmp_path) -> None:
    broken = tmp_path / "broken.tsv"
    broken.write_text("sentence\tlabel\ngood\t1\nbad\tnegative\n", encoding="utf-8")
    with pytest.raises(LabError, match=r"broken.tsv:3: the label must be an integer"):
        run(micro(tmp_path / "a", data=str(broken)))
    one_label = tmp_path / "one.tsv"
    one_label.write_text("sentence\tlabel\n" + "nice film\t1\n" * 10, encoding="utf-8")
    with pytest.raises(LabError, match="at least two labels"):
        run(micro(tmp_path / "b", data=str(one_label)))
