"""The seq2seq-attention lab at its micro preset: what attention buys, and its artefacts.

At micro (150 Adam steps per model, numbers below a million) the measured figures are: loss
3.67 -> 0.13 (Bahdanau), 0.49 (Luong), 0.80 (no attention); held-out exact match 0.89,
0.83 and 0.11; on the longest quarter of the sources 0.93, 0.89 and 0.00. The assertions
leave wide margins below those.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
import torch

from groundup.data import numbers
from groundup.labs import runner
from groundup.labs.seq2seq_attention import (
    BOS,
    EOS,
    PRESETS,
    Config,
    draw_numbers,
    number_task,
    run,
    search,
    translate,
)
from groundup.models.seq2seq import Seq2Seq


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("seq2seq_attention")
    return run(runner.make_config(Config, PRESETS, "micro", out=str(out), quiet=True))


def test_every_model_learned(report) -> None:
    m = report.metrics
    for name in ("none", "bahdanau", "luong"):
        assert m[f"{name}_first_loss"] > 3.0  # about ln(39 German pieces) at the start
        assert m[f"{name}_final_loss"] < m[f"{name}_first_loss"] / 2
    assert m["bahdanau_final_loss"] < m["bahdanau_first_loss"] / 10
    assert m["bahdanau_held_out_loss"] < 0.3


def test_attention_beats_the_fixed_size_bottleneck_most_on_long_sources(report) -> None:
    m = report.metrics
    assert m["bahdanau_exact_match"] > m["none_exact_match"] + 0.4
    assert m["luong_exact_match"] > m["none_exact_match"] + 0.3
    assert m["bahdanau_exact_match_long"] > 0.7
    assert m["none_exact_match_long"] < 0.3
    assert m["bahdanau_bleu"] > m["none_bleu"] + 10


def test_writes_plots_and_the_beam_table(report) -> None:
    out = report.out_dir
    for name in ("loss.png", "exact_by_length.png", "alignments.png", "config.json"):
        assert (out / name).stat().st_size > 10_000 or name == "config.json"
    rows = list(csv.DictReader((out / "beam_search.csv").open(encoding="utf-8")))
    assert [r["search"] for r in rows[:5]] == [
        "greedy",
        "beam1",
        "beam3",
        "beam5",
        "beam5_no_penalty",
    ]
    assert len(rows) == 15
    for row in rows:
        assert 0.0 <= float(row["exact_match"]) <= 1.0 and 0.0 <= float(row["bleu"]) <= 100.0
        if row["search"] == "beam1":  # beam width 1 is greedy search
            assert row["same_as_greedy"] == "True"
    assert "bahdanau" in report.text and "beam5" in report.text


def test_decoders_agree_with_the_library_greedy_and_beam_one() -> None:
    """greedy_search on the lab's step function = Seq2Seq.greedy = beam_search with 1 beam,
    on an untrained model (its argmax choices are arbitrary, so any slip shows)."""
    cfg = Config(train_size=20, held_out=40, max_number=9999, seed=3)
    task = number_task(cfg)
    torch.manual_seed(0)
    model = Seq2Seq(len(task.src_vocab), len(task.tgt_vocab), 8, 8, style="luong", score="dot")
    library = translate(model, task, task.held_src)
    assert library == search(model, task, task.held_src, beams=0, length_penalty=0.0)
    assert library == search(model, task, task.held_src, beams=1, length_penalty=1.0)
    wide = search(model, task, task.held_src, beams=3, length_penalty=1.0)
    assert len(wide) == 40 and wide != library  # a wider beam finds other outputs here
    assert BOS == 1 and EOS == 2


def test_draw_numbers_is_disjoint_and_covers_every_length() -> None:
    train, held = draw_numbers(3000, 500, 999_999_999, seed=1)
    assert len(set(train)) == 3000 and len(set(held)) == 500 and not set(train) & set(held)
    digits = [len(str(n)) for n in train + held]
    assert digits.count(1) == 10 and digits.count(2) == 90  # all of the few there are
    for d in range(3, 10):  # the rest share the draw about evenly
        assert 330 < digits.count(d) < 560
    assert draw_numbers(3000, 500, 999_999_999, seed=1) == (train, held)


def test_reads_a_parallel_corpus_and_reports_bleu_on_its_test_split(tmp_path: Path) -> None:
    """A tiny corpus of spaced-out number words below 1000, test numbers unseen in train."""
    drawn = random.Random(0).sample(range(1000), 430)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for split, chosen in (("train", drawn[:400]), ("test", drawn[400:])):
        english = "".join(" ".join(numbers.english_pieces(n)) + "\n" for n in chosen)
        german = "".join(" ".join(numbers.german_pieces(n)) + "\n" for n in chosen)
        (corpus / f"{split}.en").write_text(english, encoding="utf-8")
        (corpus / f"{split}.de").write_text(german, encoding="utf-8")
    cfg = runner.make_config(
        Config,
        PRESETS,
        "micro",
        data=str(corpus),
        quiet=True,
        out=str(tmp_path / "out"),
        steps=100,
        beam_examples=10,
    )
    m = run(cfg).metrics
    assert m["task"] == "corpus" and m["held_out_examples"] == 30
    assert m["bahdanau_bleu"] > 40  # chance output shares almost no 4-grams: BLEU near 0
    assert m["bahdanau_final_loss"] < m["bahdanau_first_loss"] / 4


def test_bad_data_and_settings_are_clear_errors(tmp_path: Path) -> None:
    def make(**kwargs):
        return runner.make_config(
            Config, PRESETS, "micro", quiet=True, out=str(tmp_path / "o"), **kwargs
        )

    with pytest.raises(runner.LabError, match="not a folder"):
        run(make(data=str(tmp_path / "missing")))
    corpus = tmp_path / "bad"
    corpus.mkdir()
    (corpus / "train.en").write_text("one\ntwo\n", encoding="utf-8")
    (corpus / "train.de").write_text("eins\n", encoding="utf-8")
    with pytest.raises(runner.LabError, match="train.en has 2 lines"):
        run(make(data=str(corpus)))
    with pytest.raises(runner.LabError, match="CPU"):
        run(make(device="cuda"))
    with pytest.raises(runner.LabError, match="steps"):
        run(make(steps=0))
    with pytest.raises(runner.LabError, match="max_number"):
        run(make(train_size=999, held_out=3, max_number=1000))
