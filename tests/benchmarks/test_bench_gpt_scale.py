from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import pytest
import torch
from torch import Tensor
from torch.utils.flop_counter import FlopCounterMode

from groundup.models.gpt import GPT, GPTConfig

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gpt_scale.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gpt_scale", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)  # the benchmark sets its own count


def test_quick_run_prints_peak_speed_mfu_and_speedup(bench, capsys) -> None:
    assert bench.main(["--quick", "--threads", "1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["name"], x.get("impl")) for x in lines] == [
        ("matmul_peak", None),
        ("tokens_per_s", "groundup"),
        ("mfu", "groundup"),
        ("tokens_per_s", "transformers"),
        ("mfu", "transformers"),
        ("speedup", None),
    ]
    peak, ours, our_mfu, theirs, their_mfu, speedup = lines
    assert peak["value"] > 0 and peak["unit"] == "GFLOP/s"
    assert ours["value"] > 0 and theirs["value"] > 0
    assert our_mfu["value"] > 0 and their_mfu["value"] > 0
    # the same architecture on both sides: the same parameter count
    assert ours["params"] == theirs["params"]
    assert speedup["value"] == pytest.approx(ours["value"] / theirs["value"], rel=0.01)
    assert ours["model"] == "quick" and ours["threads"] == 1
    assert (ours["batch_size"], ours["seq_len"]) == (2, 32)


def test_gpt2_small_has_124M_parameters(bench) -> None:
    cfg = GPTConfig(**bench.GPT2_SMALL)
    with torch.device("meta"):  # shapes only: no memory, no time
        model = GPT(cfg)
    assert model.num_params() == 124_439_808 - 1024 * 768  # GPT-2's 124M, less positions


def math_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Causal attention as plain matmuls, which the FLOP counter sees (it does not count
    the CPU's fused SDPA kernel)."""
    t = q.size(-2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    mask = torch.ones(t, t, dtype=torch.bool).tril()
    return scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v


def test_flop_formula_matches_torchs_flop_counter(bench) -> None:
    """6 N + 12 L T d per token against FlopCounterMode, which counts every matmul of one
    forward and backward. The formula also counts the biases and LayerNorm gains in N
    (no matmul): within 1.5 % here (n_embd 128; less for wider models)."""
    cfg = GPTConfig(vocab_size=256, block_size=64, n_layer=2, n_head=4, n_embd=128)
    model = GPT(cfg)
    model.set_attention(math_attention)
    x = torch.randint(0, 256, (2, 64))
    with FlopCounterMode(display=False) as counter:
        _, loss = model(x, x)
        loss.backward()
    want = bench.flops_per_token(cfg, model.num_params(), seq_len=64) * x.numel()
    assert counter.get_total_flops() == pytest.approx(want, rel=0.015)
    attention = 12 * cfg.n_layer * 64 * cfg.n_embd * x.numel()  # the second term alone
    assert counter.get_flop_counts()["Global"][torch.ops.aten.bmm] == attention
