from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_autograd.py"

FIGURES = [
    ("mlp_step_ms_engine", "ms"),
    ("mlp_step_ms_torch", "ms"),
    ("mlp_step_ratio_engine_to_torch", "x"),
    ("moons_seconds_scalar", "s"),
    ("moons_seconds_tensor", "s"),
    ("moons_speedup_tensor_over_scalar", "x"),
    ("moons_accuracy_scalar", ""),
    ("moons_accuracy_tensor", ""),
]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_autograd", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def restore_threads():
    threads = torch.get_num_threads()
    blas = [info["num_threads"] for info in threadpool_info()]
    yield
    torch.set_num_threads(threads)  # the benchmark sets its own count
    assert [info["num_threads"] for info in threadpool_info()] == blas  # and gives BLAS back


def test_prints_every_figure_as_a_json_line_with_its_configuration(bench, capsys) -> None:
    assert bench.main(["--quick", "--threads", "1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["name"], x["unit"]) for x in lines] == FIGURES
    figures = {x["name"]: x for x in lines}
    for line in lines:
        assert isinstance(line["value"], float)
        assert line["value"] > 0 or line["name"].startswith("moons_accuracy")
        assert line["threads"] == 1 and line["torch"] == torch.__version__
        assert line["dtype"] == "float64"

    engine, reference = figures["mlp_step_ms_engine"], figures["mlp_step_ms_torch"]
    assert engine["sizes"] == [64, 128, 10] and engine["batch_size"] == 64
    assert engine["data"] == "sklearn digits" and engine["optimizer"] == "adam"
    ratio = figures["mlp_step_ratio_engine_to_torch"]
    assert ratio["value"] == pytest.approx(
        engine["value"] / reference["value"], rel=1e-2
    )  # values are rounded
    assert ratio["floor"] == 3.0
    # Same weights, same batches: the two implementations end at the same loss.
    assert engine["final_loss_engine"] == pytest.approx(engine["final_loss_torch"], abs=1e-6)

    scalar, tensor = figures["moons_seconds_scalar"], figures["moons_seconds_tensor"]
    assert scalar["sizes"] == [2, 16, 16, 1]
    speedup = figures["moons_speedup_tensor_over_scalar"]
    assert speedup["value"] == pytest.approx(
        scalar["value"] / tensor["value"], rel=1e-2
    )  # values are rounded
    assert speedup["floor"] == 100.0
    # Same starting weights and the same updates: the same predictions at the end.
    accuracies = figures["moons_accuracy_scalar"], figures["moons_accuracy_tensor"]
    assert accuracies[0]["value"] == accuracies[1]["value"] <= 1.0


def test_both_moons_trainers_follow_the_same_trajectory(bench) -> None:
    from sklearn.datasets import make_moons

    x, labels = make_moons(n_samples=12, noise=0.1, random_state=0)
    y = 2.0 * labels - 1.0
    scalar_model = bench.train_moons_scalar(x, y, steps=4, seed=3)
    tensor_model = bench.train_moons_tensor(x, y, steps=4, seed=3)
    for ours, theirs in zip(scalar_model.layers, tensor_model.layers, strict=True):
        weights = [[w.data for w in row] for row in ours.weight]
        np.testing.assert_allclose(weights, theirs.weight.data, atol=1e-12)
        np.testing.assert_allclose([b.data for b in ours.bias], theirs.bias.data, atol=1e-12)
    assert not np.allclose(
        tensor_model.layers[0].weight.data,
        bench.MLP(bench.MOONS_SIZES, np.random.default_rng(3)).layers[0].weight.data,
    )  # and they did move
