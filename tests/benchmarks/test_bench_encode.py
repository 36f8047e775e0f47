"""The sentence-embedding benchmark in quick mode: every figure, equal embeddings."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_encode.py"

FIGURES = [
    ("sentences_per_s_ours", "sentences/CPU s"),
    ("wall_s_ours", "s"),
    ("sentences_per_s_sentence_transformers", "sentences/CPU s"),
    ("wall_s_sentence_transformers", "s"),
    ("speedup", "x"),
    ("max_abs_difference", ""),
    ("embeddings_equal", "bool"),
]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_encode", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def restore_threads():
    threads = torch.get_num_threads()
    yield
    assert torch.get_num_threads() == threads  # the benchmark puts the count back


def test_quick_run_prints_every_figure_and_equal_embeddings(bench, capsys) -> None:
    assert bench.main(["--quick"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["name"], x["unit"]) for x in lines] == FIGURES
    figures = {x["name"]: x for x in lines}
    for line in lines:
        assert line["sentences"] == 64 and line["batch_size"] == 32 and line["threads"] == 1
        assert line["data"] == "generated" and line["model"] == "all-MiniLM-L6-v2"
    assert figures["embeddings_equal"]["value"] == 1.0
    assert 0 <= figures["max_abs_difference"]["value"] <= 1e-5
    ours, theirs = (
        figures[f"sentences_per_s_{n}"]["value"] for n in ("ours", "sentence_transformers")
    )
    speedup = figures["speedup"]
    assert speedup["value"] == pytest.approx(ours / theirs, rel=1e-3)
    assert speedup["floor"] == 1.0 and speedup["meets_floor"] == (speedup["value"] >= 1.0)
    assert figures["sentences_per_s_ours"]["tokens"] > 64 * 8  # sentences of several words


def test_reads_sentences_from_a_file(bench, tmp_path, capsys) -> None:
    data = tmp_path / "lines.txt"
    data.write_text("Ein Satz auf Deutsch.\n\nA sentence in English.\n日本語の文。\n" * 4)
    assert bench.main(["--data", str(data), "--quick", "--batch-size", "5"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["data"] == "lines.txt" and first["sentences"] == 12  # blank lines skipped


def test_generated_sentences_are_varied(bench) -> None:
    sentences = bench.generate_sentences(200)
    assert len(set(sentences)) > 190
    lengths = [len(s.split()) for s in sentences]
    assert min(lengths) <= 6 and max(lengths) >= 25
    assert any("é" in s or "ü" in s for s in sentences)
