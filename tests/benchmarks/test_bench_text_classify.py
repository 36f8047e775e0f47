"""The text-classification benchmark on a tiny generated SST-2-like folder."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from threadpoolctl import threadpool_info

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_text_classify.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_text_classify", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_split(path: Path, n: int, seed: int) -> None:
    """Sentences of neutral words plus one or two sentiment words; label 1 = positive."""
    rng = np.random.default_rng(seed)
    good, bad = ["great", "moving", "funny", "superb"], ["dull", "awful", "flat", "tedious"]
    neutral = ["the", "film", "is", "a", "story", "of", "its", "cast", "and", "director"]
    lines = ["sentence\tlabel"]
    for i in range(n):
        label = int(i % 3 != 0)
        words = list(rng.choice(good if label else bad, 2)) + list(rng.choice(neutral, 6))
        lines.append(" ".join(rng.permutation(words)) + " \t" + str(label))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_prints_dev_accuracy_and_times_as_json_lines(bench, tmp_path, capsys) -> None:
    write_split(tmp_path / "train.tsv", 200, seed=0)
    write_split(tmp_path / "dev.tsv", 60, seed=1)
    before = {info["filepath"]: info["num_threads"] for info in threadpool_info()}
    assert bench.main(["--data", str(tmp_path), "--sklearn", "--choose-c"]) == 0
    after = {info["filepath"]: info["num_threads"] for info in threadpool_info()}
    assert {path: after[path] for path in before} == before  # BLAS threads given back
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    figures = {line["name"]: line for line in lines}
    assert figures["dev_accuracy_majority"]["value"] == pytest.approx(40 / 60, abs=1e-6)
    for name in ("bag_of_words", "tfidf"):
        dev = figures[f"dev_accuracy_{name}"]
        assert dev["value"] == 1.0 and dev["train"] == 200 and dev["dev"] == 60
        assert dev["C"] in bench.C_GRID and set(dev["validation_accuracy_by_C"]) == {
            str(c) for c in bench.C_GRID
        }
        assert figures[f"train_seconds_{name}"]["unit"] == "s"
        assert figures[f"vectorize_seconds_{name}"]["value"] > 0
        assert figures[f"sklearn_dev_accuracy_{name}"]["value"] == 1.0
        assert figures[f"max_probability_difference_{name}"]["value"] < 1e-3
    assert figures["dev_accuracy_tfidf"]["ngram_range"] == [1, 2]


def test_c_is_fixed_unless_chosen(bench, tmp_path, capsys) -> None:
    write_split(tmp_path / "train.tsv", 60, seed=2)
    write_split(tmp_path / "dev.tsv", 30, seed=3)
    assert bench.main(["--data", str(tmp_path), "--C", "2.5"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    dev = next(line for line in lines if line["name"] == "dev_accuracy_tfidf")
    assert dev["C"] == 2.5 and dev["validation_accuracy_by_C"] == {}
