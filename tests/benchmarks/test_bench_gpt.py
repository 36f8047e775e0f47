from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gpt_train.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gpt_train", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)  # the benchmark sets its own count


def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "text.txt"
    path.write_text("All the world's a stage, and all the men and women merely players.\n" * 300)
    return path


def test_prints_ms_per_iter_and_val_loss_as_json_lines(bench, tmp_path: Path, capsys) -> None:
    data = text_file(tmp_path)
    args = ["--data", str(data), "--max-iters", "12", "--eval-iters", "3", "--threads", "1"]
    assert bench.main([*args, "--quiet"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["name"], x["unit"]) for x in lines] == [
        ("ms_per_iter", "ms"),
        ("val_loss", "nats/char"),
    ]
    ms, val = lines
    assert ms["value"] > 0
    vocab = len(set(data.read_text()))
    assert 0 < val["value"] < math.log(vocab) + 0.5  # 12 steps: about ln(V), not diverged
    # nanoGPT's CPU baby GPT
    assert {k: ms[k] for k in ("n_layer", "n_head", "n_embd", "block_size", "batch_size")} == {
        "n_layer": 4,
        "n_head": 4,
        "n_embd": 128,
        "block_size": 64,
        "batch_size": 12,
    }
    assert ms["max_iters"] == 12 and ms["vocab_size"] == vocab
    assert ms["data"] == "text.txt" and ms["threads"] == 1
    assert val["eval_iters"] == 3


def test_without_data_it_uses_the_embedded_corpus(bench, monkeypatch, capsys) -> None:
    corpus = "Return a new list containing all items from the iterable.\n" * 300
    monkeypatch.setattr(bench, "load_corpus", lambda: corpus)
    bench.main(["--max-iters", "2", "--eval-iters", "1", "--threads", "1", "--quiet"])
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["data"] == "embedded corpus"
    assert first["chars"] == len(corpus)
