"""Byte-level BPE: training time, and encoding speed of ours against tokenizers and tiktoken.

    python benchmarks/bench_bpe.py [--data FILE] [--vocab-size 4096] [--train-mb 1]

The text is the embedded corpus (Python's standard-library docstrings, about 1.2 MB) or a
UTF-8 file. Our tokenizer is trained on the first --train-mb megabytes; for comparison
Hugging Face tokenizers' BpeTrainer (Rust, same pre-tokenizer) is trained on the same text.
Our vocabulary is then saved as tokenizer.json, loaded by `tokenizers`, and converted to a
`tiktoken.Encoding`, and all three encode the whole text (one thread, one call each);
throughput is UTF-8 megabytes per CPU second (process time, so a busy shared machine
does not distort it; all runs are single-threaded). `tokenizers` is also timed on the text
cut into paragraphs (encode_batch), its usual use; one huge string is its slow case. Ours is timed twice: cold (empty per-word
cache) and warm (every word already cached). The ids of the three must be equal.
Prints one JSON line per figure: name, value, unit and the configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # one thread, like ours

from groundup.data.corpus import load_corpus  # noqa: E402
from groundup.text.bpe import ENDOFTEXT, BPETokenizer  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="UTF-8 text file (default: the embedded corpus)")
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--train-mb", type=float, default=1.0, help="megabytes to train on")
    parser.add_argument("--no-hf-train", action="store_true", help="skip tokenizers' trainer")
    return parser.parse_args(argv)


def emit(name: str, value: float, unit: str, **config: Any) -> None:
    print(json.dumps({"name": name, "value": round(float(value), 6), "unit": unit, **config}))


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    """Result and CPU seconds of the process (the machine may be shared; wall time lies)."""
    start = time.process_time()
    result = fn(*args)
    return result, time.process_time() - start


def train_tokenizers(text: str, vocab_size: int) -> Any:
    """tokenizers' own BPE trainer with the GPT-2 byte-level setup, for the timing only."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[ENDOFTEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([text], trainer)
    return tokenizer


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    text = Path(args.data).read_text(encoding="utf-8") if args.data else load_corpus()
    data = args.data or "embedded corpus"
    train_text = text.encode("utf-8")[: int(args.train_mb * 1e6)].decode("utf-8", "ignore")
    config = {"vocab_size": args.vocab_size, "train_bytes": len(train_text.encode()), "data": data}

    ours, seconds = timed(BPETokenizer.train, train_text, args.vocab_size)
    emit("train_time_ours", seconds, "s", **config)
    if not args.no_hf_train:
        _, seconds = timed(train_tokenizers, train_text, args.vocab_size)
        emit("train_time_tokenizers", seconds, "s", **config)

    from tokenizers import Tokenizer

    with tempfile.TemporaryDirectory() as folder:
        hf = Tokenizer.from_file(str(ours.save(folder)))
    tk = ours.to_tiktoken()
    megabytes = len(text.encode("utf-8")) / 1e6
    config = {"vocab_size": ours.vocab_size, "megabytes": round(megabytes, 3), "data": data}

    fresh = BPETokenizer(ours.merges, ours.special_tokens)
    ids_ours, cold = timed(fresh.encode_ordinary, text)
    _, warm = timed(fresh.encode_ordinary, text)
    ids_hf, hf_seconds = timed(lambda t: hf.encode(t).ids, text)
    ids_tk, tk_seconds = timed(tk.encode_ordinary, text)
    _, hf_batch_seconds = timed(lambda t: hf.encode_batch(t.split("\n\n")), text)
    emit("encode_ours_cold", megabytes / cold, "MB/s", **config)
    emit("encode_ours_warm", megabytes / warm, "MB/s", **config)
    emit("encode_tokenizers", megabytes / hf_seconds, "MB/s", **config)
    emit("encode_tokenizers_paragraphs", megabytes / hf_batch_seconds, "MB/s", **config)
    emit("encode_tiktoken", megabytes / tk_seconds, "MB/s", **config)
    emit("bytes_per_token", megabytes * 1e6 / len(ids_ours), "bytes/token", **config)
    emit("ids_equal", float(ids_ours == ids_hf == ids_tk), "bool", **config)
    return 0 if ids_ours == ids_hf == ids_tk else 1


if __name__ == "__main__":
    raise SystemExit(main())
