from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_generate.py"

FIGURES = [
    ("compile_s_ours_compiled", "s"),
    ("tokens_per_s_ours_batch1", "tokens/s"),
    ("tokens_per_s_transformers_batch1", "tokens/s"),
    ("tokens_per_s_ours_compiled_batch1", "tokens/s"),
    ("tokens_per_s_ours_no_cache_batch1", "tokens/s"),
    ("speedup_ours_over_transformers_batch1", "x"),
    ("speedup_ours_compiled_over_transformers_batch1", "x"),
    ("tokens_per_s_ours_batch8", "tokens/s"),
    ("tokens_per_s_transformers_batch8", "tokens/s"),
    ("speedup_ours_over_transformers_batch8", "x"),
]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)  # the benchmark sets its own count


def test_quick_run_prints_every_figure_and_both_libraries_agree(bench, tmp_path, capsys) -> None:
    summary = tmp_path / "summary.md"
    assert bench.main(["--quick", "--threads", "1", "--markdown", str(summary)]) == 0
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [(x["name"], x["unit"]) for x in lines] == FIGURES
    figures = {x["name"]: x for x in lines}
    for line in lines:
        assert line["value"] > 0
        assert line["threads"] == 1 and line["dtype"] == "float32" and line["greedy"]
        assert line.get("new_tokens", 12) == 12
        assert {k: line[k] for k in ("n_layer", "n_head", "n_embd")} == {
            "n_layer": 2,
            "n_head": 2,
            "n_embd": 32,
        }
        if line["unit"] == "tokens/s":  # the same greedy tokens, with and without the cache
            assert line["same_tokens_as_transformers"] is True
            assert line["value"] == pytest.approx(line["batch"] * 12 / line["wall_s"], rel=1e-2)
    for name, batch in [("ours", 1), ("ours_compiled", 1), ("ours", 8)]:
        ratio = figures[f"speedup_{name}_over_transformers_batch{batch}"]
        ours = figures[f"tokens_per_s_{name}_batch{batch}"]["value"]
        theirs = figures[f"tokens_per_s_transformers_batch{batch}"]["value"]
        assert ratio["value"] == pytest.approx(ours / theirs, rel=1e-3)
        if name == "ours_compiled":  # the floor is on the compiled path at batch 1
            assert ratio["floor"] == 1.5 and ratio["meets_floor"] == (ratio["value"] >= 1.5)
        else:
            assert ratio["floor"] is None and ratio["meets_floor"] is None
    table = summary.read_text()
    assert (
        table.count("\n| tokens_per_s_") == 6 and "speedup_ours_over_transformers_batch8" in table
    )
    assert "speedup_ours_over_transformers_batch1" in out.err  # the rich table


def test_gpt2_small_is_the_default_model(bench) -> None:
    args = bench.parse_args([])
    assert args.model == {
        "vocab_size": 50257,
        "block_size": 1024,
        "n_layer": 12,
        "n_head": 12,
        "n_embd": 768,
    }
    assert args.new_tokens == 200 and args.batch_sizes == [1, 8] and args.no_cache_tokens == 200
