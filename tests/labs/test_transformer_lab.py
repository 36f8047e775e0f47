"""The transformer lab at its micro preset learns to translate unseen numbers."""

from __future__ import annotations

import json
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
    assert len(records) == lab.PRESETS["micro"]["steps"]
    assert json.loads((tmp_path / "config.json").read_text())["max_number"] == 999
    assert len(report.text.splitlines()) == 6


def test_trim_drops_all_padding_columns() -> None:
    ids = torch.tensor([[5, 6, 0, 0], [7, 0, 0, 0]])
    assert lab.trim(ids).tolist() == [[5, 6], [7, 0]]


def test_translate_decodes_to_german_text() -> None:
    torch.manual_seed(0)
    model = lab.Seq2SeqTransformer(len(numbers.EN_VOCAB), len(numbers.DE_VOCAB), d_model=16,
                                   nhead=2, dim_feedforward=16)  # fmt: skip
    src, _ = numbers.to_tensors([5, 321])
    out = lab.translate(model, src)
    assert len(out) == 2 and all(isinstance(s, str) for s in out)


@pytest.mark.parametrize(
    "overrides",
    [{"data": "x.txt"}, {"d_model": 30, "n_heads": 4}, {"train_size": 1000, "held_out": 1},
     {"steps": 0}],
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
