"""The transformer lab at its micro preset learns to translate unseen numbers, and with --data
a parallel corpus (generated here: English number words -> German word pieces)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
import torch

from groundup.data import numbers
from groundup.labs import runner
from groundup.labs import transformer as lab


def micro(tmp_path: Path, **overrides) -> lab.Config:
    return runner.make_config(
        lab.Config, lab.PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides
    )


def test_micro_translates_held_out_numbers(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    report = lab.run(micro(tmp_path))
    m = report.metrics
    # Untrained, the loss is about ln(39) = 3.7 nats. In 300 steps on numbers below 1000 it
    # falls to about 1.0 (label smoothing keeps it above ~0.6), and about a third of the
    # held-out numbers come out exactly right; the floors leave room for other machines.
    assert m["first_loss"] > 3.0
    assert m["held_out_loss"] < 1.5
    assert m["held_out_exact_match"] >= 0.1
    assert torch.get_num_threads() == threads

    for name in ("loss", "cross_attention", "metrics"):
        assert report.artifacts[name].stat().st_size > 0
    assert report.artifacts["cross_attention"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    assert len([r for r in records if "step" in r]) == lab.PRESETS["micro"]["steps"]
    assert [r["decoding"] for r in records if "decoding" in r] == ["greedy", "beam 1", "beam 4"]
    assert json.loads((tmp_path / "config.json").read_text())["max_number"] == 999
    # BLEU on the word pieces: about 55 at micro; a beam of 1 is greedy search again
    assert m["bleu_greedy"] >= 30
    assert m["bleu_beam_1"] == m["bleu_greedy"]
    assert m["exact_match_beam_1"] == m["held_out_exact_match"]
    assert m["bleu_beam"] >= m["bleu_greedy"] - 5
    table = list(csv.DictReader(report.artifacts["decoding"].open(encoding="utf-8")))
    assert [row["method"] for row in table] == ["greedy", "beam 1", "beam 4"]
    assert sum("->" in line for line in report.text.splitlines()) == 6


def write_corpus(folder: Path, count: int, held: int, seed: int = 0) -> None:
    """train.en/train.de and val.en/val.de: number words, German written in pieces so that
    a translation has several 13a tokens for BLEU to count."""
    folder.mkdir(parents=True, exist_ok=True)
    drawn = random.Random(seed).sample(range(1000), count + held)
    for split, part in (("train", drawn[:count]), ("val", drawn[count:])):
        english = "".join(numbers.english(n) + "\n" for n in part)
        german = "".join(" ".join(numbers.german_pieces(n)) + "\n" for n in part)
        (folder / f"{split}.en").write_text(english, encoding="utf-8")
        (folder / f"{split}.de").write_text(german, encoding="utf-8")


def test_micro_learns_a_parallel_corpus_with_bpe(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", 800, 100)
    report = lab.run(micro(tmp_path / "out", data=str(tmp_path / "corpus")))
    m = report.metrics
    # BPE with 400 tokens per side: untrained, about ln(400) = 6 nats; in 300 steps the
    # held-out loss falls to about 1.3, BLEU about 55 and 40 % exact (measured, seed 0)
    assert m["training_pairs"] == 800 and m["held_out_count"] == 100
    assert m["first_loss"] > 5.0 and m["held_out_loss"] < 2.0
    assert m["bleu_greedy"] >= 30 and m["held_out_exact_match"] >= 0.15
    assert m["bleu_beam_1"] == m["bleu_greedy"]
    assert "reference: " in report.text and "beam 4" in report.text


def test_corpus_without_held_out_files_holds_out_its_last_pairs(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", 60, 0)
    (tmp_path / "corpus" / "val.en").unlink()
    (tmp_path / "corpus" / "val.de").unlink()
    task = lab.corpus_task(micro(tmp_path, data=str(tmp_path / "corpus" / "train.en"),
                                 held_out=10, bpe_vocab=260))  # fmt: skip
    assert task.train_src.size(0) == 50 and len(task.references) == 10
    last = (tmp_path / "corpus" / "train.de").read_text(encoding="utf-8").splitlines()[-10:]
    assert task.references == last
    assert [task.to_text(row.tolist()[1:]) for row in task.held_tgt] == last  # BPE round trip


def test_misaligned_or_missing_corpus_is_refused(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", 50, 10)
    with (tmp_path / "corpus" / "train.de").open("a", encoding="utf-8") as file:
        file.write("eins\n")
    with pytest.raises(runner.LabError, match=r"train.en has 50 lines but .*train.de has 51"):
        lab.run(micro(tmp_path / "a", data=str(tmp_path / "corpus")))
    with pytest.raises(runner.LabError, match=r"missing: not found.*train.en and train.de"):
        lab.run(micro(tmp_path / "b", data=str(tmp_path / "missing")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(runner.LabError, match=r"train.en: file not found"):
        lab.run(micro(tmp_path / "c", data=str(tmp_path / "empty")))
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    with pytest.raises(runner.LabError, match=r"not a folder nor a .en file"):
        lab.run(micro(tmp_path / "d", data=str(tmp_path / "notes.txt")))


def test_trim_drops_all_padding_columns() -> None:
    ids = torch.tensor([[5, 6, 0, 0], [7, 0, 0, 0]])
    assert lab.trim(ids).tolist() == [[5, 6], [7, 0]]


def test_translate_writes_ids_by_greedy_and_beam_search() -> None:
    torch.manual_seed(0)
    model = lab.Seq2SeqTransformer(len(numbers.EN_VOCAB), len(numbers.DE_VOCAB), d_model=16,
                                   nhead=2, dim_feedforward=16)  # fmt: skip
    src, _ = numbers.to_tensors([5, 321])
    for width in (0, 1, 3):
        out = lab.translate(model, src, width, length_penalty=1.0, max_len=5)
        assert len(out) == 2 and all(len(ids) <= 5 for ids in out)
        assert all(isinstance(numbers.join_german(numbers.DE_VOCAB.decode(ids)), str)
                   for ids in out)  # fmt: skip


@pytest.mark.parametrize(
    "overrides",
    [{"d_model": 30, "n_heads": 4}, {"train_size": 1000, "held_out": 1}, {"steps": 0},
     {"beam_width": 0}, {"bpe_vocab": 100}],
)  # fmt: skip
def test_bad_settings_are_refused(tmp_path: Path, overrides: dict) -> None:
    with pytest.raises(runner.LabError):
        lab.run(micro(tmp_path, **overrides))


def test_every_extra_field_is_explained() -> None:
    from dataclasses import fields

    from groundup.i18n import LAB_FIELDS

    base = {f.name for f in fields(runner.LabConfig)}
    for field in fields(lab.Config):
        if field.name not in base and field.name not in LAB_FIELDS:
            help_text = lab.FIELD_HELP[field.name]
            assert help_text.en != help_text.de
