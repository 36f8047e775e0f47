"""SST-2 sentiment: all-MiniLM-L6-v2 fine-tuned against the same encoder randomly initialised.

    python benchmarks/bench_sst2.py --data ../shared/data/sst2 --threads 1

reads train.tsv and dev.tsv (GLUE format: sentence<TAB>label) from the folder. Both models
get the same budget: a random `--subset` of train.tsv (0: all of it), the same epochs,
batches, learning-rate schedule (AdamW, warm-up + linear decay, gradient clipping) and
max_length. Early stopping picks the best evaluation on `--holdout` examples set aside from
train.tsv; dev.tsv is only used for the reported figures (it is GLUE's labelled test split
for SST-2). Target: >= 0.88 dev accuracy for the fine-tuned model within 45 minutes on two
CPU cores.

Measured with the defaults (30,000 sentences, one epoch = 938 steps of 32, lr 1e-4, mean
pooling, max_length 64): dev accuracy 0.894 (F1 0.894); one step costs about 1.8 CPU
seconds on one thread, 28 minutes for the run. On a busy machine use --threads 1: two
threads that compete with other processes spent 4,000 CPU seconds on the same run.

Prints one JSON line per figure: name, value, unit and the configuration.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import torch

from groundup.data.glue import read_glue_tsv
from groundup.finetune.classification import (
    BertClassifier,
    FineTuneSettings,
    encode_texts,
    evaluate,
    fine_tune,
)
from groundup.labs import runner
from groundup.models.bert import Bert, default_folder
from groundup.text.wordpiece import WordPieceTokenizer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with train.tsv and dev.tsv")
    parser.add_argument("--model", default="", help="BERT folder (default all-MiniLM-L6-v2)")
    parser.add_argument("--subset", type=int, default=30000, help="training examples, 0 = all")
    parser.add_argument("--holdout", type=int, default=500, help="train examples for stopping")
    parser.add_argument("--dev-limit", type=int, default=0, help="dev examples scored, 0 = all")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--evals-per-epoch", type=int, default=4)
    parser.add_argument("--pooling", default="mean", choices=["mean", "cls", "pooler"])
    parser.add_argument("--models", default="finetuned,random", help="comma-separated")
    parser.add_argument(
        "--group-by-length",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="batches of sentences of similar length (less padding)",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def emit(name: str, value: float, unit: str, **config: Any) -> None:
    print(json.dumps({"name": name, "value": round(float(value), 6), "unit": unit, **config}))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(args.data)
    train_x, train_y = read_glue_tsv(folder / "train.tsv")
    dev_x, dev_y = read_glue_tsv(folder / "dev.tsv")
    if args.dev_limit:
        dev_x, dev_y = dev_x[: args.dev_limit], dev_y[: args.dev_limit]
    order = random.Random(args.seed).sample(range(len(train_x)), len(train_x))
    holdout = min(args.holdout, len(order) // 5)
    stop_ids = order[:holdout]
    train_ids = order[holdout:] if args.subset == 0 else order[holdout : holdout + args.subset]

    model_path = default_folder(args.model)
    tokenizer = WordPieceTokenizer.from_pretrained(model_path)
    pretrained = Bert.from_pretrained(model_path)

    def encoded(ids: list[int]) -> tuple[list, list[int]]:
        texts = [train_x[i] for i in ids]
        return encode_texts(tokenizer, texts, args.max_length), [train_y[i] for i in ids]

    train, stop = encoded(train_ids), encoded(stop_ids)
    dev = (encode_texts(tokenizer, dev_x, args.max_length), dev_y)
    num_labels = max(train_y) + 1
    common = {"data": folder.name, "train": len(train_ids), "holdout": holdout,
              "dev": len(dev_x), "epochs": args.epochs, "max_length": args.max_length,
              "batch_size": args.batch_size, "lr": args.lr, "pooling": args.pooling,
              "threads": args.threads, "device": args.device,
              "group_by_length": args.group_by_length}  # fmt: skip
    settings = FineTuneSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                evals_per_epoch=args.evals_per_epoch, patience=3,
                                seed=args.seed,
                                group_by_length=args.group_by_length)  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        for name in args.models.split(","):
            torch.manual_seed(args.seed)
            bert = pretrained if name == "finetuned" else Bert(pretrained.config)
            model = BertClassifier(bert, num_labels, pooling=args.pooling).to(args.device)
            start, cpu_start = time.perf_counter(), time.process_time()
            total = math.ceil(len(train_ids) / args.batch_size) * args.epochs
            with runner.progress(total, f"sst2 {name}") as bar:
                result = fine_tune(model, train, stop, tokenizer.pad_id, settings,
                                   on_step=lambda step, _, loss: bar.update(
                                       completed=step, info=f"loss {loss:.3f}"))  # fmt: skip
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
            scores = evaluate(model, *dev, tokenizer.pad_id)
            config = {**common, "model": name, "best_step": result.best_step,
                      "steps": len(result.losses), "holdout_accuracy": result.best_accuracy}  # fmt: skip
            emit(f"dev_accuracy_{name}", scores["accuracy"], "", **config)
            emit(f"dev_f1_{name}", scores["f1"], "", **config)
            emit(f"train_seconds_{name}", seconds, "s", **config)
            emit(f"train_cpu_seconds_{name}", cpu_seconds, "s", **config)
            emit(f"examples_per_second_{name}", len(result.losses) * args.batch_size / seconds,
                 "1/s", **config)  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
