"""How fast generation.generate runs a GPT-2 with a KV cache, next to transformers' generate.

The model has GPT-2 small's architecture (124M parameters: 12 layers, 12 heads, 768
dimensions, 50,257 tokens, 1,024 positions) with random weights (GPT-2's initialisation),
float32 on the CPU. Both libraries get the same weights: ours are written with
`save_pretrained` and opened by `transformers.GPT2LMHeadModel.from_pretrained`. Each run
feeds a short random prompt and generates `--new-tokens` tokens greedily with a KV cache,
at batch 1 and at batch 8; the runners take turns, and each figure is the median of
`--repeats` runs. At batch 1 ours runs twice: as it is ("ours") and after
`fast_decoding.speed_up_decoding` ("ours_compiled": the one-row matrix products compiled
into one pass over the weights; the seconds that compiling took are a figure of their own,
and the untimed warm-up pays them). Ours also runs without the cache, for reference. Every
run checks that it produced the same tokens as transformers.

    python benchmarks/bench_generate.py [--threads 2] [--markdown summary.md]

prints one JSON line per figure, e.g.
    {"name": "tokens_per_s_ours_batch1", "value": ..., "unit": "tokens/s", ...}
    {"name": "speedup_ours_compiled_over_transformers_batch1", "value": ..., "unit": "x",
     "floor": 1.5, ...}
and a table on stderr. `--quick` uses a tiny model and a few tokens (for tests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from groundup.models.fast_decoding import speed_up_decoding
from groundup.models.generation import generate
from groundup.models.gpt import GPT, GPTConfig

GPT2_SMALL = dict(vocab_size=50257, block_size=1024, n_layer=12, n_head=12, n_embd=768)
TINY = dict(vocab_size=300, block_size=64, n_layer=2, n_head=2, n_embd=32)
FLOOR = 1.5  # ours (compiled, batch 1) must generate this many times as many tokens per second


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=200)
    parser.add_argument("--prompt-tokens", type=int, default=8)
    parser.add_argument(
        "--no-cache-tokens", type=int, help="new tokens of the uncached run (default: --new-tokens)"
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--quick", action="store_true", help="a tiny model and a few tokens")
    args = parser.parse_args(argv)
    args.model = TINY if args.quick else GPT2_SMALL
    if args.quick:
        args.new_tokens, args.repeats = 12, 1
    if args.no_cache_tokens is None or args.quick:
        args.no_cache_tokens = args.new_tokens
    return args


def seconds(
    run: Callable[[torch.Tensor, int], torch.Tensor], ids: torch.Tensor, new_tokens: int
) -> tuple[float, float, torch.Tensor]:
    """Wall-clock and CPU seconds of `run(ids, new_tokens)`, and its result. On a busy machine the wall
    clock also counts waiting for a core; the CPU time of this process does not."""
    start, start_cpu = time.perf_counter(), time.process_time()
    out = run(ids, new_tokens)
    return time.perf_counter() - start, time.process_time() - start_cpu, out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from transformers import GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    torch.manual_seed(args.seed)
    model = GPT(GPTConfig(**args.model)).eval()
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        hf = GPT2LMHeadModel.from_pretrained(folder).eval()
        compiled = GPT.from_pretrained(folder).eval()  # same weights, its own Linear layers
    start = time.perf_counter()
    speed_up_decoding(compiled)
    compile_seconds = time.perf_counter() - start

    config = {
        **{k: args.model[k] for k in ("n_layer", "n_head", "n_embd", "vocab_size")},
        "params": model.num_params(non_embedding=False),
        "prompt_tokens": args.prompt_tokens,
        "greedy": True,
        "dtype": "float32",
        "device": "cpu",
        "repeats": args.repeats,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": sys.modules["transformers"].__version__,
    }
    runners: dict[str, Callable[[torch.Tensor, int], torch.Tensor]] = {
        "ours": lambda ids, n: generate(model, ids, max_new_tokens=n, greedy=True),
        "transformers": lambda ids, n: hf.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=n,
            min_new_tokens=n,
            pad_token_id=0,
        ),
        "ours_compiled": lambda ids, n: generate(compiled, ids, max_new_tokens=n, greedy=True),
        "ours_no_cache": lambda ids, n: generate(
            model, ids, max_new_tokens=n, greedy=True, use_cache=False
        ),
    }
    new_tokens = {name: args.new_tokens for name in runners}
    new_tokens["ours_no_cache"] = args.no_cache_tokens
    generator = torch.Generator().manual_seed(args.seed)
    figures: list[dict] = [
        {
            "name": "compile_s_ours_compiled",
            "value": compile_seconds,
            "unit": "s",  # a fresh torch.compile cache takes longest; later runs read it
        }
    ]
    for batch in args.batch_sizes:
        ids = torch.randint(
            0, args.model["vocab_size"], (batch, args.prompt_tokens), generator=generator
        )
        # The compiled path only differs from ours for one row; no cache is slow, so only once.
        names = ["ours", "transformers"] + (
            ["ours_compiled", "ours_no_cache"] if batch == 1 else []
        )
        for name in names:  # a short untimed run each: lazy initialisation, allocator
            runners[name](ids, 3)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        outputs: dict[str, torch.Tensor] = {}
        for _ in range(args.repeats):  # take turns, so a busy spell hurts both alike
            for name in names:
                wall, cpu, outputs[name] = seconds(runners[name], ids, new_tokens[name])
                times[name].append((wall, cpu))
        reference = outputs["transformers"]
        for name in names:
            wall = statistics.median(t[0] for t in times[name])
            cpu = statistics.median(t[1] for t in times[name])
            # the uncached run may be shorter: compare it with the start of the reference
            same = torch.equal(outputs[name], reference[:, : outputs[name].size(1)])
            figures.append(
                {
                    "name": f"tokens_per_s_{name}_batch{batch}",
                    "value": batch * new_tokens[name] / wall,
                    "unit": "tokens/s",
                    "batch": batch,
                    "new_tokens": new_tokens[name],
                    "wall_s": round(wall, 4),
                    "cpu_s": round(cpu, 4),
                    "same_tokens_as_transformers": same,
                    # other processes slow the wall clock; the CPU time is less affected
                    "load_average_1min": round(os.getloadavg()[0], 2),
                }
            )
        speed = {f["name"]: f for f in figures[-len(names) :]}
        theirs = speed[f"tokens_per_s_transformers_batch{batch}"]
        for name in [n for n in names if n in ("ours", "ours_compiled")]:
            ours = speed[f"tokens_per_s_{name}_batch{batch}"]
            ratio = ours["value"] / theirs["value"]
            floor = FLOOR if name == "ours_compiled" else None
            figures.append(
                {
                    "name": f"speedup_{name}_over_transformers_batch{batch}",
                    "value": ratio,
                    "unit": "x",
                    "batch": batch,
                    "new_tokens": args.new_tokens,
                    "cpu_ratio": round(theirs["cpu_s"] / max(ours["cpu_s"], 1e-9), 4),
                    "floor": floor,
                    "meets_floor": None if floor is None else ratio >= floor,
                }
            )
    for figure in figures:
        figure["value"] = round(figure["value"], 4)
        print(json.dumps({**figure, **config}))
    report(figures, config, args.markdown)
    return 0


def report(figures: list[dict], config: dict, markdown: Path | None) -> None:
    """A table on stderr (stdout is for the JSON lines) and, if asked, a Markdown copy."""
    headers = ["figure", "value", "unit", "new tokens", "wall s", "cpu s", "same tokens", "load"]
    rows = [
        [
            f["name"],
            f"{f['value']:.2f}",
            f["unit"],
            str(f.get("new_tokens", "")),
            str(f.get("wall_s", "")),
            str(f.get("cpu_s", "")),
            str(f.get("same_tokens_as_transformers", "")),
            str(f.get("load_average_1min", "")),
        ]
        for f in figures
    ]
    title = (
        f"{config['params']:,} parameters, {config['prompt_tokens']} prompt tokens, greedy, "
        f"float32 on the CPU, {config['threads']} threads"
    )
    table = Table(*headers, title=title)
    for row in rows:
        table.add_row(*row)
    Console(stderr=True, width=120).print(table)
    if markdown is not None:
        lines = [f"{title}\n", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
