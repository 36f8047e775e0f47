"""Named-entity recognition on CoNLL-2003 or WNUT-17: MiniLM fine-tuned vs random init.

    python benchmarks/bench_ner.py --data ../shared/data/conll2003
    python benchmarks/bench_ner.py --data ../shared/data/wnut17 --epochs 5

reads the train, dev and test files of the folder (CoNLL-2003: train.txt, valid.txt,
test.txt; WNUT-17: wnut17train.conll, emerging.dev.conll, emerging.test.annotated) with
groundup.finetune.ner.read_conll, fine-tunes a token classifier (BERT + linear) from the
pretrained all-MiniLM-L6-v2 encoder (or --model FOLDER) and the same architecture from random
weights, keeps the epoch with the best dev entity F1 and reports the test entity F1 (exact
spans, seqeval's default mode; micro and per type). --subset N trains on the first N training
sentences, --eval-subset N evaluates on the first N dev and test sentences (0: all).
Prints one JSON line per figure: name, value, unit and the configuration.

Measured on a subset (1000 training sentences, the first 300 dev and test sentences, 2
epochs, --max-length 64 --batch-size 16 --lr 3e-4 --random-lr 1e-3, one thread): test F1
0.797 for MiniLM (PER 0.85, LOC 0.89, MISC 0.72, ORG 0.44) and 0.337 from random weights,
about 115 CPU seconds per model (0.05 CPU-s per sentence and epoch). The whole of CoNLL-2003
is 14 times that per epoch. The whole of it, pretrained model only, 2 epochs, lr 2e-4:
test F1 0.865 (PER 0.934, LOC 0.903, ORG 0.816, MISC 0.734; dev 0.882 and 0.910 after each
epoch) in 1,704 CPU seconds on one thread:

    python benchmarks/bench_ner.py --data ../shared/data/conll2003 --models pretrained \
        --epochs 2 --lr 2e-4 --threads 1

The same with --group-by-length (batches of sentences of similar length): test F1 0.854 in
732 CPU seconds, 2.3 times faster. The same architecture from random weights (--models
random, lr 5e-4, 2 epochs, one thread): test F1 0.621 in 1,842 CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import torch

from groundup.finetune.ner import (
    ConllError,
    FitSettings,
    TokenClassifier,
    encode_sentences,
    entity_scores,
    fine_tune,
    label_list,
    predict,
    read_conll,
)
from groundup.labs import runner
from groundup.labs.ner import find_split
from groundup.labs.runner import LabError
from groundup.models.bert import Bert, default_folder
from groundup.text.wordpiece import WordPieceTokenizer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a CoNLL folder with train/dev/test")
    parser.add_argument("--model", default="", help="BERT folder (default: all-MiniLM-L6-v2)")
    parser.add_argument("--models", default="pretrained,random", help="which to train")
    parser.add_argument("--subset", type=int, default=0, help="training sentences (0: all)")
    parser.add_argument("--eval-subset", type=int, default=0, help="dev/test sentences (0: all)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=128, help="sub-word tokens")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-4, help="peak LR, pretrained")
    parser.add_argument("--random-lr", type=float, default=5e-4, help="peak LR, random init")
    parser.add_argument("--layer-decay", type=float, default=0.9)
    parser.add_argument(
        "--group-by-length",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="batches of sentences of similar length (less padding)",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", default="cpu")
    return parser.parse_args(argv)


def emit(name: str, value: float, unit: str, **config: Any) -> None:
    print(json.dumps({"name": name, "value": round(float(value), 6), "unit": unit, **config}),
          flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        raise SystemExit(f"--data {data}: not a folder")
    splits = {}
    for split in ("train", "dev", "test"):
        try:
            sentences = read_conll(find_split(data, split))
        except (LabError, ConllError) as error:
            raise SystemExit(str(error)) from None
        limit = args.subset if split == "train" else args.eval_subset
        splits[split] = sentences[:limit] if limit else sentences
    folder = default_folder(args.model)
    tokenizer = WordPieceTokenizer.from_pretrained(folder)
    labels = label_list(splits["train"] + splits["dev"] + splits["test"])
    encoded = {
        k: encode_sentences(v, tokenizer, labels, args.max_length) for k, v in splits.items()
    }
    cut = sum(len(e.input_ids) == args.max_length for e in encoded["test"])
    common = {"data": data.name, "train": len(splits["train"]), "test": len(splits["test"]),
              "epochs": args.epochs, "max_length": args.max_length, "threads": args.threads,
              "group_by_length": args.group_by_length,
              "model": args.model or "all-MiniLM-L6-v2"}  # fmt: skip
    emit("test_sentences_truncated", cut, "", **common)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        for name in args.models.split(","):
            torch.manual_seed(0)
            if name == "pretrained":
                model = TokenClassifier.from_pretrained(folder, len(labels))
            else:
                model = TokenClassifier(Bert.from_pretrained(folder).config, len(labels))
            model.to(args.device)
            lr = args.lr if name == "pretrained" else args.random_lr
            settings = FitSettings(epochs=args.epochs, batch_size=args.batch_size, lr=lr,
                                   layer_decay=args.layer_decay, patience=args.epochs,
                                   device=args.device,
                                   group_by_length=args.group_by_length)  # fmt: skip
            start, cpu = time.perf_counter(), time.process_time()
            total = math.ceil(len(encoded["train"]) / args.batch_size) * args.epochs
            with runner.progress(total, f"{data.name} {name}") as bar:
                history = fine_tune(model, encoded["train"], encoded["dev"],
                                    [s.tags for s in splits["dev"]], labels, tokenizer.pad_id,
                                    settings, on_step=lambda step, _, loss: bar.update(
                                        completed=step, info=f"loss {loss:.3f}"))  # fmt: skip
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
            predicted = predict(model, encoded["test"], labels, tokenizer.pad_id,
                                device=args.device)  # fmt: skip
            scores = entity_scores([s.tags for s in splits["test"]], predicted)
            config = {**common, "init": name, "lr": lr, "dev_f1_by_epoch":
                      [round(f, 4) for f in history["dev_f1"]]}  # fmt: skip
            emit(f"test_f1_{name}", scores["micro"].f1, "", **config,
                 precision=round(scores["micro"].precision, 4),
                 recall=round(scores["micro"].recall, 4))  # fmt: skip
            for kind, s in scores.items():
                if kind != "micro":
                    emit(f"test_f1_{name}_{kind}", s.f1, "", support=s.support, **config)
            emit(f"train_seconds_{name}", seconds, "s", cpu_seconds=round(cpu_seconds, 1),
                 **config)  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
