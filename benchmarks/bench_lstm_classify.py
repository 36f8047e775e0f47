"""Train a bidirectional LSTM sentence classifier (ours) on GLUE-style TSV, e.g. SST-2.

--data is a directory with train.tsv and dev.tsv (columns sentence, label). Words are the
lowercased tokens of groundup.text.tokenize.words; the `vocab` most frequent training words
are kept, the rest become <unk>. The model (groundup.labs.rnn_lstm_gru.BiLSTMClassifier):
word embedding, one bidirectional LSTM layer over the real words of each sentence (lengths,
no padding read), both final states, a linear layer. Adam (lr 3e-3), batches of 64
sentences drawn at random, gradient-norm clipping at 5. Baseline: logistic regression on
word counts (bag of words), fitted on the same training sentences.

    python benchmarks/bench_lstm_classify.py --data ../shared/data/sst2

prints one JSON line per figure: ms_per_step, dev_accuracy (biLSTM), bow_dev_accuracy,
majority_dev_accuracy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import torch

from groundup.data.glue import read_glue_tsv
from groundup.labs.rnn_lstm_gru import (
    accuracy,
    bag_of_words_accuracy,
    build_vocab,
    encode,
    train_classifier,
)
from groundup.text.tokenize import words


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a directory with train.tsv and dev.tsv")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=64, help="per direction; also the embedding")
    parser.add_argument("--vocab", type=int, default=16_000)
    parser.add_argument("--max-words", type=int, default=50, help="longer sentences are cut")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def tokens(sentences: list[str], max_words: int) -> list[list[str]]:
    return [[w.lower() for w in words(s)][:max_words] for s in sentences]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    folder = Path(args.data)
    x_train, y_train = read_glue_tsv(folder / "train.tsv")
    x_dev, y_dev = read_glue_tsv(folder / "dev.tsv")
    train_words, dev_words = tokens(x_train, args.max_words), tokens(x_dev, args.max_words)
    vocab = build_vocab(train_words, args.vocab)
    ids, lengths = encode(train_words, vocab)
    dev_ids, dev_lengths = encode(dev_words, vocab)
    classes = max(max(y_train), max(y_dev)) + 1

    started = time.perf_counter()
    model = train_classifier(
        (ids, lengths, torch.tensor(y_train)), len(vocab), classes, args.hidden, args.steps,
        args.batch_size, 3e-3, args.seed, quiet=args.quiet,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    dev_accuracy = accuracy(model, dev_ids, dev_lengths, torch.tensor(y_dev))
    bow = bag_of_words_accuracy(train_words, y_train, dev_words, y_dev)
    majority = Counter(y_dev).most_common(1)[0][1] / len(y_dev)

    config = {
        "data": folder.name,
        "train_examples": len(x_train),
        "dev_examples": len(x_dev),
        "vocab": len(vocab),
        "hidden": args.hidden,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "epochs": round(args.steps * args.batch_size / len(x_train), 2),
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    figures = [
        ("ms_per_step", 1000 * seconds / args.steps, "ms"),
        ("dev_accuracy", dev_accuracy, "fraction"),
        ("bow_dev_accuracy", bow, "fraction"),
        ("majority_dev_accuracy", majority, "fraction"),
    ]
    for name, value, unit in figures:
        print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **config}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
