"""The BPE benchmark on a small mixed-language file: figures come out and ids agree."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_bpe.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_bpe", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prints_timings_and_equal_ids_as_json_lines(bench, tmp_path, capsys) -> None:
    text = "The quick brown fox. Grüße aus München! 日本語 👍🏽 def f(x): return x**2\n\n" * 200
    (tmp_path / "text.txt").write_text(text, encoding="utf-8")
    code = bench.main(["--data", str(tmp_path / "text.txt"), "--vocab-size", "400"])
    figures = {}
    for line in capsys.readouterr().out.splitlines():
        record = json.loads(line)
        figures[record["name"]] = record
    assert code == 0 and figures["ids_equal"]["value"] == 1.0
    for name in ("encode_ours_cold", "encode_ours_warm", "encode_tokenizers", "encode_tiktoken"):
        assert figures[name]["unit"] == "MB/s" and figures[name]["value"] > 0
    assert figures["train_time_ours"]["value"] > 0 and "train_time_tokenizers" in figures
    assert figures["bytes_per_token"]["value"] > 3  # a repeated text compresses well
