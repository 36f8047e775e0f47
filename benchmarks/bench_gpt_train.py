"""Train nanoGPT's CPU "baby GPT" and report speed and quality as JSON lines.

The configuration is the CPU command of nanoGPT's README on shakespeare_char:
4 layers, 4 heads, 128 dimensions, 64 characters of context, batch 12, no dropout,
AdamW (lr 1e-3, betas 0.9/0.99, weight decay 0.1, clip 1.0), 100 warm-up steps and
a cosine decay to 1e-4 at the last step, 2000 steps, first 90 % of the text for training.
nanoGPT reports a validation loss of about 1.88 for it on Tiny Shakespeare.

    python benchmarks/bench_gpt_train.py --data ../shared/data/tinyshakespeare/input.txt

prints
    {"name": "ms_per_iter", "value": ..., "unit": "ms", "n_layer": 4, ...}   median step time
    {"name": "val_loss", "value": ..., "unit": "nats/char", "n_layer": 4, ...}
Without --data it trains on the embedded corpus (docstrings of the standard library).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch

from groundup.data.corpus import load_corpus
from groundup.data.text import CharTokenizer, read_text, train_val_split
from groundup.labs import runner
from groundup.models.gpt import GPT, GPTConfig
from groundup.train.trainer import TrainConfig, Trainer

WARMUP_STEPS = 10  # the first steps pay for allocations and lazy initialisation


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a UTF-8 text file (default: the embedded corpus)")
    parser.add_argument("--max-iters", type=int, default=2000)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    parser.add_argument("--eval-iters", type=int, default=200, help="val batches at the end")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = runner.resolve_device(args.device)
    text = read_text(args.data, min_chars=10_000) if args.data else load_corpus()
    tokenizer = CharTokenizer.from_text(text)
    train_data, val_data = train_val_split(torch.tensor(tokenizer.encode(text), dtype=torch.int32))

    torch.manual_seed(args.seed)
    # The model as the gpt step ships it: GPT-2's layout, biases included (nanoGPT's CPU
    # command turns them off; with them the same budget reaches a lower loss).
    model_cfg = GPTConfig(tokenizer.vocab_size, 64, n_layer=4, n_head=4, n_embd=128, bias=True)
    train_cfg = TrainConfig(
        max_iters=args.max_iters,
        batch_size=12,
        block_size=64,
        lr=1e-3,
        min_lr=1e-4,
        warmup_iters=100,
        weight_decay=0.1,
        beta1=0.9,
        beta2=0.99,
        grad_clip=1.0,
        eval_interval=args.max_iters,  # no evaluations in between: they would skew the timing
        eval_iters=1,
        seed=args.seed,
        device=device,
    )
    trainer = Trainer(GPT(model_cfg), train_data, val_data, train_cfg)
    with runner.progress(args.max_iters, "bench_gpt_train", quiet=args.quiet) as bar:
        trainer.fit(bar)
    val_loss = trainer.evaluate(iters=args.eval_iters, splits=("val",))["val"]

    timed = trainer.step_ms[WARMUP_STEPS:] or trainer.step_ms
    config = {
        "data": Path(args.data).name if args.data else "embedded corpus",
        "chars": len(text),
        "vocab_size": tokenizer.vocab_size,
        "params": trainer.model.num_params(),
        **{k: getattr(model_cfg, k) for k in ("n_layer", "n_head", "n_embd", "block_size", "bias")},
        "batch_size": train_cfg.batch_size,
        "max_iters": args.max_iters,
        "lr": train_cfg.lr,
        "min_lr": train_cfg.min_lr,
        "warmup_iters": trainer.schedule.warmup_iters,
        "device": device,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    figures = [
        ("ms_per_iter", statistics.median(timed), "ms"),
        ("val_loss", val_loss, "nats/char"),
    ]
    for name, value, unit in figures:
        extra = {"eval_iters": args.eval_iters} if name == "val_loss" else {}
        print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **config, **extra}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
