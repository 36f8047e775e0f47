"""Train a character-level LSTM (groundup.nn.recurrent, ours) and compare it with n-grams.

The text is cut as nanoGPT cuts shakespeare_char: the first 90 % of the characters for
training, the rest for validation. The model: character embedding (64), one LSTM layer
(256 units), a linear read-out; Adam (lr 2e-3, cosine decay to 2e-4), batches of 32
windows of 64 characters, gradient-norm clipping at 1.0.

    python benchmarks/bench_char_lstm.py --data ../shared/data/tinyshakespeare/input.txt

prints one JSON line per figure:
    ms_per_step        median training step, ours
    torch_ms_per_step  the same step with torch.nn.LSTM in place of ours (speed reference only)
    val_loss           nats/char on eval_iters random 64-character windows of the validation
                       text, each read from a zero state: nanoGPT's estimate (GPT: ~1.89)
    val_loss_stream    nats/char over the whole validation text, the state carried along
    ngram_val_loss     interpolated Kneser-Ney of each order in --ngram-orders, same split
Without --data it trains on the embedded corpus (docstrings of the standard library).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from groundup.data.corpus import load_corpus
from groundup.data.text import CharTokenizer, get_batch, read_text, train_val_split
from groundup.labs import runner
from groundup.labs.rnn_lstm_gru import CharLSTM, stream_loss
from groundup.text.ngram_lm import KneserNey, char_split

BLOCK, BATCH, EMBED = 64, 32, 64


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a UTF-8 text file (default: the embedded corpus)")
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--eval-iters", type=int, default=200, help="val windows batches")
    parser.add_argument("--ngram-orders", default="3,5", help="comma-separated; '' for none")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: fastest for these small matrices)"
    )
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def step_time(model: nn.Module, data: torch.Tensor, steps: int, g: torch.Generator) -> float:
    """Median milliseconds of a forward + backward step (no update), for the speed ratio."""
    times = []
    for _ in range(steps):
        x, y = get_batch(data, BLOCK, BATCH, generator=g)
        start = time.perf_counter()
        logits, _ = model(x)
        F.cross_entropy(logits.flatten(0, 1), y.flatten()).backward()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


class TorchCharLSTM(CharLSTM):
    """The same model with torch.nn.LSTM inside: only to time it against ours."""

    def __init__(self, vocab: int, embed: int, hidden: int, layers: int) -> None:
        super().__init__(vocab, embed, hidden, layers)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    text = read_text(args.data, min_chars=10_000) if args.data else load_corpus()
    tokenizer = CharTokenizer.from_text(text)
    data = torch.tensor(tokenizer.encode(text), dtype=torch.int32)
    train, val = train_val_split(data)
    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    model = CharLSTM(tokenizer.vocab_size, EMBED, args.hidden, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps, eta_min=2e-4)
    step_ms = []
    started = time.perf_counter()
    with runner.progress(args.steps, "bench_char_lstm", quiet=args.quiet) as bar:
        for _ in range(args.steps):
            start = time.perf_counter()
            x, y = get_batch(train, BLOCK, BATCH, generator=g)
            logits, _ = model(x)
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            step_ms.append(1000 * (time.perf_counter() - start))
            bar.update(info=f"loss {loss.item():.3f}")
    train_seconds = time.perf_counter() - started

    model.eval()
    with torch.no_grad():
        losses = []
        for _ in range(args.eval_iters):
            x, y = get_batch(val, BLOCK, BATCH, generator=g)
            logits, _ = model(x)
            losses.append(F.cross_entropy(logits.flatten(0, 1), y.flatten()).item())
    val_loss = statistics.mean(losses)
    val_stream = stream_loss(model, val, BLOCK)

    reference = TorchCharLSTM(tokenizer.vocab_size, EMBED, args.hidden, 1)
    reference.load_state_dict(model.state_dict())  # same parameter names
    ours_ms = step_time(model, train, 10, g)
    torch_ms = step_time(reference, train, 10, g)

    config = {
        "data": Path(args.data).name if args.data else "embedded corpus",
        "chars": len(text),
        "vocab_size": tokenizer.vocab_size,
        "params": sum(p.numel() for p in model.parameters()),
        "embed": EMBED,
        "hidden": args.hidden,
        "layers": 1,
        "block_size": BLOCK,
        "batch_size": BATCH,
        "steps": args.steps,
        "train_seconds": round(train_seconds, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    figures = [
        ("ms_per_step", statistics.median(step_ms), "ms", {}),
        ("torch_ms_per_step", torch_ms, "ms",
         {"ours_forward_backward_ms": round(ours_ms, 2), "ratio": round(ours_ms / torch_ms, 2)}),
        ("val_loss", val_loss, "nats/char", {"eval_iters": args.eval_iters}),
        ("val_loss_stream", val_stream, "nats/char", {}),
    ]  # fmt: skip
    train_text, val_text = char_split(text)
    for order in [int(o) for o in args.ngram_orders.split(",") if o.strip()]:
        ce = KneserNey(order, boundaries=False).fit([train_text]).cross_entropy([val_text])
        figures.append(("ngram_val_loss", ce, "nats/char", {"order": order}))
    for name, value, unit, extra in figures:
        line = {"name": name, "value": round(value, 4), "unit": unit, **config, **extra}
        print(json.dumps(line), flush=True)
    return 0 if math.isfinite(val_loss) else 1


if __name__ == "__main__":
    sys.exit(main())
