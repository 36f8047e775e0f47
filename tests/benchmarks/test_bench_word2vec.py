"""Smoke test of benchmarks/bench_word2vec.py on a small generated text (ours only: the
gensim comparison is for the benchmark run, not the test suite)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_word2vec.py"


def test_bench_runs_on_a_small_text(tmp_path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_word2vec", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = np.random.default_rng(0)
    words = ["read", "write", "file", "open", "close", "list", "lists", "string", "strings"]
    text = "\n\n".join(" ".join(rng.choice(words, 12)) for _ in range(200))
    path = tmp_path / "text.txt"
    path.write_text(text, encoding="utf-8")
    rows = bench.main(["--data", str(path), "--epochs", "1", "--min-count", "1", "--no-gensim"])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == rows and [r["model"] for r in rows] == ["skipgram", "cbow"]
    assert all(r["words_per_s"] > 0 and r["words"] == 2400 and r["pairs"] > 0 for r in rows)
