"""Training speed of a GPT-2 124M on this machine: ours against transformers', and the MFU.

Both models get GPT-2 small's architecture (12 layers, 12 heads, 768 dimensions, 50257
tokens, 1024 positions) with random weights, fp32, no dropout, and the same training step
on the same random batch of 4 x 256 tokens: forward with the loss, backward, AdamW step.
Ours (groundup.models.gpt.GPT) runs PyTorch's fused attention (SDPA) and the fused AdamW of
groundup.train.trainer.make_optimizer; transformers' GPT2LMHeadModel runs with its default
attention and torch.optim.AdamW's default (foreach) implementation.

Model FLOP utilization (MFU): the FLOPs a step must do, per second, as a fraction of the
fp32 matmul peak measured here with a large torch.mm. FLOPs per token, as in PaLM's
appendix B and nanoGPT's estimate_mfu:

    6 * N + 12 * n_layer * T * n_embd

N: parameters without the position embedding (the tied token embedding counts once, as the
output layer's matmul); 6 = 2 FLOPs per multiply-add x (forward + twice that backward);
the second term is attention's QK^T and AV over the full T x T scores (causal masking
halves the useful work, the kernel's cost depends on the implementation).

    python benchmarks/bench_gpt_scale.py           # GPT-2 124M, minutes on a CPU
    python benchmarks/bench_gpt_scale.py --quick   # a tiny model, seconds

The machine may be shared, so the two models take turns, step by step, and the matmul peak
is measured again before every round; each figure is the median over the rounds.

prints JSON lines: matmul_peak, then tokens_per_s and mfu for each implementation, then
speedup (ours / transformers').

Measured on 2 shared AMD EPYC cores (torch 2.13 CPU, 2 threads, load average 6-12 from other
work): a peak of 22-35 GFLOP/s; 18.5-22.5 tokens/s for ours against 16.8-21.2 for
transformers' (speedup 1.10, 0.99 and 1.07 in three runs), an MFU of 0.50-0.65 for both. The
matmuls are the same in both models and take nearly all the time, so on a CPU in fp32 the two
run at about the same speed; the fused optimizer and attention save a few per cent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

from groundup.models.gpt import GPT, GPTConfig
from groundup.train.trainer import TrainConfig, make_optimizer

GPT2_SMALL = {"vocab_size": 50257, "block_size": 1024, "n_layer": 12, "n_head": 12, "n_embd": 768}
QUICK = {"vocab_size": 512, "block_size": 64, "n_layer": 2, "n_head": 2, "n_embd": 64}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny model: for tests")
    parser.add_argument("--batch-size", type=int, help="default 4 (quick: 2)")
    parser.add_argument("--seq-len", type=int, help="tokens per row; default 256 (quick: 32)")
    parser.add_argument("--steps", type=int, help="timed steps; default 5 (quick: 2)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--matmul-size", type=int, help="n of the n x n peak matmul (2048)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--no-transformers", action="store_true", help="time ours only")
    args = parser.parse_args(argv)
    quick = args.quick
    args.batch_size = args.batch_size or (2 if quick else 4)
    args.seq_len = args.seq_len or (32 if quick else 256)
    args.steps = args.steps or (2 if quick else 5)
    args.matmul_size = args.matmul_size or (256 if quick else 2048)
    return args


def matmul_peak(n: int, repeats: int = 3) -> float:
    """FLOP/s of the fastest of a few n x n fp32 matrix products (2 n^3 FLOPs each)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)  # warm-up: threads, caches
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def flops_per_token(cfg: GPTConfig, n_params: int, seq_len: int) -> int:
    """Training FLOPs per token (forward + backward): 6 N + 12 n_layer T n_embd."""
    return 6 * n_params + 12 * cfg.n_layer * seq_len * cfg.n_embd


def seconds_of(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def groundup_step(cfg: GPTConfig, x: Tensor, y: Tensor) -> tuple[Callable[[], None], nn.Module]:
    model = GPT(cfg)
    optimizer = make_optimizer(model, TrainConfig())  # fused AdamW where available

    def step() -> None:
        _, loss = model(x, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step, model


def transformers_step(cfg: GPTConfig, x: Tensor) -> tuple[Callable[[], None], nn.Module]:
    from transformers import GPT2Config, GPT2LMHeadModel

    hf_cfg = GPT2Config(
        vocab_size=cfg.vocab_size,
        n_positions=cfg.block_size,
        n_embd=cfg.n_embd,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    model = GPT2LMHeadModel(hf_cfg)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)

    def step() -> None:
        loss = model(input_ids=x, labels=x).loss  # shifts the labels itself
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step, model


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = GPTConfig(**(QUICK if args.quick else GPT2_SMALL), dropout=0.0, bias=True)
    common = {
        "model": "quick" if args.quick else "gpt2-124M",
        **{k: getattr(cfg, k) for k in ("n_layer", "n_head", "n_embd", "vocab_size")},
        "batch_size": args.batch_size,
        "seq_len": args.seq_len,
        "steps": args.steps,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }

    def emit(name: str, value: float, unit: str, **extra: object) -> None:
        print(json.dumps({"name": name, "value": value, "unit": unit, **common, **extra}))

    torch.manual_seed(0)
    x = torch.randint(0, cfg.vocab_size, (args.batch_size, args.seq_len + 1))
    x, y = x[:, :-1].contiguous(), x[:, 1:].contiguous()
    # both models in memory (about 16 bytes per parameter each with AdamW)
    runs = {"groundup": groundup_step(cfg, x, y)}
    if not args.no_transformers:
        runs["transformers"] = transformers_step(cfg, x)
    for step, _ in runs.values():
        for _ in range(args.warmup):
            step()
    peaks, seconds = [], {impl: [] for impl in runs}
    for round_ in range(args.steps):  # the peak, then one step of each model, in turns
        peaks.append(matmul_peak(args.matmul_size))
        order = list(runs) if round_ % 2 == 0 else list(reversed(runs))
        for impl in order:
            seconds[impl].append(seconds_of(runs[impl][0]))

    peak = statistics.median(peaks)
    emit("matmul_peak", round(peak / 1e9, 2), "GFLOP/s", matmul_size=args.matmul_size)
    tokens = args.batch_size * args.seq_len
    speed = {}
    for impl, (_, model) in runs.items():
        n_params = sum(p.numel() for p in model.parameters()) - cfg.block_size * cfg.n_embd
        speed[impl] = tokens / statistics.median(seconds[impl])
        mfu = speed[impl] * flops_per_token(cfg, n_params, args.seq_len) / peak
        emit("tokens_per_s", round(speed[impl], 1), "tokens/s", impl=impl, params=n_params)
        emit("mfu", round(mfu, 4), "fraction of matmul peak", impl=impl)
    if "transformers" in speed:
        emit("speedup", round(speed["groundup"] / speed["transformers"], 3), "x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
