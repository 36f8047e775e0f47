"""Smoke tests of the recurrent benchmarks on tiny generated inputs (no real data)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)  # the benchmarks set their own count


def test_char_lstm_prints_speed_losses_and_ngram_figures(tmp_path: Path, capsys) -> None:
    bench = load("bench_char_lstm")
    data = tmp_path / "text.txt"
    data.write_text("To be, or not to be, that is the question.\n" * 300)
    args = ["--data", str(data), "--steps", "6", "--eval-iters", "2", "--hidden", "16"]
    assert bench.main([*args, "--ngram-orders", "1,3", "--quiet"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    names = [x["name"] for x in lines]
    assert names == ["ms_per_step", "torch_ms_per_step", "val_loss", "val_loss_stream",
                     "ngram_val_loss", "ngram_val_loss"]  # fmt: skip
    by_name = {x["name"]: x for x in lines[:4]}
    vocab = len(set(data.read_text()))
    assert by_name["ms_per_step"]["value"] > 0 and by_name["torch_ms_per_step"]["ratio"] > 0
    assert 0 < by_name["val_loss"]["value"] < math.log(vocab) + 0.5  # 6 steps: about ln(V)
    assert [x["order"] for x in lines[4:]] == [1, 3]
    assert lines[5]["value"] < lines[4]["value"]  # a repeated line: the trigram knows it
    assert lines[0]["hidden"] == 16 and lines[0]["data"] == "text.txt"


def test_lstm_classify_prints_accuracy_against_baselines(tmp_path: Path, capsys) -> None:
    bench = load("bench_lstm_classify")
    rows = ["sentence\tlabel"] + [
        f"{'a fine warm film' if i % 2 else 'a dull cold film'} number {i}\t{i % 2}"
        for i in range(200)
    ]
    for name in ("train.tsv", "dev.tsv"):
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    args = ["--data", str(tmp_path), "--steps", "40", "--hidden", "8", "--batch-size", "16"]
    assert bench.main([*args, "--quiet"]) == 0
    lines = {x["name"]: x for x in map(json.loads, capsys.readouterr().out.splitlines())}
    assert set(lines) == {"ms_per_step", "dev_accuracy", "bow_dev_accuracy",
                          "majority_dev_accuracy"}  # fmt: skip
    assert lines["majority_dev_accuracy"]["value"] == 0.5
    assert lines["bow_dev_accuracy"]["value"] == 1.0  # one word decides the label
    assert lines["dev_accuracy"]["value"] > 0.9  # so the biLSTM learns it in 40 steps
    assert lines["ms_per_step"]["train_examples"] == 200
