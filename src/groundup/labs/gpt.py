"""Lab `gpt`: train a GPT on characters or BPE tokens and let it write.

By default it learns from the docstrings of Python's standard library (built on the spot,
no download); `--data FILE` trains on any UTF-8 text instead, e.g. Tiny Shakespeare from
`groundup data get tinyshakespeare`. The tiny preset is nanoGPT's CPU "baby GPT" (4 layers,
4 heads, 128 dimensions, 64 characters of context); it takes a few minutes on two cores.

`tokenizer="bpe"` trains the byte-level BPE of groundup.text.bpe with `vocab_size` tokens
on the training split first, so the model reads subwords instead of characters. A loss per
token then no longer compares with a loss per character; bits per character (and per UTF-8
byte) do: the loss summed over the validation text, divided by its length.

Artefacts in the output folder: config.json, metrics.jsonl, loss.png (train and validation
loss), ckpt.pt (to `--resume`), model/ (weights in Hugging Face GPT-2 layout plus
tokenizer.json) and samples.txt.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from groundup.data.text import CharTokenizer
from groundup.files import atomic_write_text
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.models.gpt import GPT, GPTConfig
from groundup.text.bpe import BPETokenizer
from groundup.train.trainer import TrainConfig, Trainer

Tokenizer = CharTokenizer | BPETokenizer


@dataclass
class Config(LabConfig):
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64
    batch_size: int = 12
    max_iters: int = 2000
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_iters: int = 100
    eval_interval: int = 250
    eval_iters: int = 40
    dropout: float = 0.0
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    sample_tokens: int = 400
    temperature: float = 0.8
    top_k: int | None = None
    top_p: float | None = None
    resume: bool = False  # continue from ckpt.pt in the output folder
    tokenizer: str = "char"  # "char" or "bpe"
    vocab_size: int = 512  # BPE only: 256 bytes + the merges learned on the training split
    grad_accum_steps: int = 1
    compile: bool = False


FIELD_HELP: dict[str, Msg] = {
    "tokenizer": Msg(
        "char: one token per character; bpe: byte-level BPE trained on the training split",
        "char: ein Token pro Zeichen; bpe: Byte-Level-BPE, auf dem Trainingsteil gelernt",
    ),
    "vocab_size": Msg(
        "BPE vocabulary: 256 bytes plus learned merges (only with --tokenizer bpe)",
        "BPE-Vokabular: 256 Bytes plus gelernte Verschmelzungen (nur mit --tokenizer bpe)",
    ),
    "grad_accum_steps": Msg(
        "micro-batches per optimizer step (a step sees batch_size times as many rows)",
        "Mikro-Batches pro Optimiererschritt (ein Schritt sieht so viele Mal batch_size Zeilen)",
    ),
    "compile": Msg(
        "compile the model with torch.compile (faster steps after a slow start)",
        "das Modell mit torch.compile übersetzen (schnellere Schritte nach langsamem Start)",
    ),
}


PRESETS: dict[str, dict[str, object]] = {
    "micro": {
        "n_layer": 2,
        "n_head": 2,
        "n_embd": 48,
        "block_size": 32,
        "batch_size": 16,
        "max_iters": 200,
        "lr": 3e-3,
        "min_lr": 3e-4,
        "warmup_iters": 20,
        "eval_interval": 50,
        "eval_iters": 10,
        "sample_tokens": 120,
    },
    "tiny": {},
    # nanoGPT's shakespeare_char GPU configuration: minutes on a GPU, hours on a CPU
    "full": {
        "n_layer": 6,
        "n_head": 6,
        "n_embd": 384,
        "block_size": 256,
        "batch_size": 64,
        "max_iters": 5000,
        "eval_iters": 200,
        "dropout": 0.2,
        "sample_tokens": 1000,
    },
}

SAMPLES = 3

TRAINING = Msg("training", "Training")
SAMPLE = Msg("Sample", "Textprobe")
NO_CHECKPOINT = Msg(
    "--resume needs a checkpoint, but {file} does not exist. Run once without --resume.",
    "--resume braucht einen Checkpoint, aber {file} existiert nicht. Starten Sie einmal ohne --resume.",
)
CHECKPOINT_MISMATCH = Msg(
    "The checkpoint {file} does not fit these settings ({detail}). Use the settings it was "
    "trained with, or another --out.",
    "Der Checkpoint {file} passt nicht zu diesen Einstellungen ({detail}). Nehmen Sie die "
    "Einstellungen, mit denen er trainiert wurde, oder ein anderes --out.",
)
TOO_SHORT = Msg(
    "The validation text is only {tokens} tokens long; it needs more than block_size "
    "({block_size}). Use a longer text or a smaller block_size.",
    "Der Validierungstext hat nur {tokens} Tokens; er braucht mehr als block_size "
    "({block_size}). Nehmen Sie einen längeren Text oder ein kleineres block_size.",
)
BAD_TOKENIZER = Msg(
    "tokenizer must be char or bpe (got {value}); bpe needs a vocab_size of at least 257.",
    "tokenizer muss char oder bpe sein (nicht {value}); bpe braucht vocab_size ab 257.",
)


def run(cfg: Config) -> LabReport:
    timer = runner.Timer()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, "gpt")

    if cfg.tokenizer not in ("char", "bpe") or (cfg.tokenizer == "bpe" and cfg.vocab_size <= 256):
        raise LabError(BAD_TOKENIZER.get(value=cfg.tokenizer))
    text = _load_text(cfg)
    # not shuffled: neighbouring windows overlap, so a random split would leak validation text
    split = int(0.9 * len(text))
    train_text, val_text = text[:split], text[split:]
    tokenizer_path = out / "model" / "tokenizer.json"
    tokenizer = _tokenizer(cfg, text, split, tokenizer_path)
    try:
        train_ids, val_ids = _encode(tokenizer, train_text), _encode(tokenizer, val_text)
    except ValueError as e:
        raise LabError(CHECKPOINT_MISMATCH.get(file=tokenizer_path, detail=e)) from None
    dtype = torch.uint8 if tokenizer.vocab_size <= 256 else torch.int32
    train_data, val_data = torch.tensor(train_ids, dtype=dtype), torch.tensor(val_ids, dtype=dtype)
    if len(val_data) <= cfg.block_size:
        raise LabError(TOO_SHORT.get(tokens=len(val_data), block_size=cfg.block_size))

    model = GPT(
        GPTConfig(
            vocab_size=tokenizer.vocab_size,
            block_size=cfg.block_size,
            n_layer=cfg.n_layer,
            n_head=cfg.n_head,
            n_embd=cfg.n_embd,
            dropout=cfg.dropout,
        )
    )
    train_cfg = TrainConfig(
        max_iters=cfg.max_iters,
        batch_size=cfg.batch_size,
        block_size=cfg.block_size,
        lr=cfg.lr,
        min_lr=cfg.min_lr,
        warmup_iters=cfg.warmup_iters,
        weight_decay=cfg.weight_decay,
        grad_clip=cfg.grad_clip,
        eval_interval=cfg.eval_interval,
        eval_iters=cfg.eval_iters,
        seed=cfg.seed,
        device=device,
        grad_accum_steps=cfg.grad_accum_steps,
        compile=cfg.compile,
    )
    checkpoint = out / "ckpt.pt"
    # a resumed run continues metrics.jsonl from its checkpoint; a new run starts it afresh
    metrics = out / "metrics.jsonl"
    trainer = Trainer(
        model, train_data, val_data, train_cfg, checkpoint, None, dataclasses.asdict(cfg), metrics
    )
    if cfg.resume:
        _resume(trainer, checkpoint)
    else:
        tokenizer.save(tokenizer_path)  # first, so a resumed run finds the same vocabulary
    with runner.progress(cfg.max_iters, TRAINING.get(), quiet=cfg.quiet) as bar:
        result = trainer.fit(bar)

    model.save_pretrained(out / "model")
    unigram = unigram_loss(train_data, val_data, tokenizer.vocab_size)
    steps = [h["step"] for h in result.history]
    runner.save_line_plot(
        out / "loss.png",
        {
            "train": (steps, [h["train_loss"] for h in result.history]),
            "val": (steps, [h["val_loss"] for h in result.history]),
            "unigram baseline (val)": (steps, [unigram] * len(steps)),
        },
        title="GPT",
        xlabel="step",
        ylabel=f"cross-entropy (nats / {'character' if cfg.tokenizer == 'char' else 'token'})",
    )
    samples = _samples(model, tokenizer, cfg, device)
    atomic_write_text(
        out / "samples.txt", "".join(f"--- {i + 1} ---\n{s}\n\n" for i, s in enumerate(samples))
    )

    # the loss per token times tokens per character: the same unit for every tokenizer
    tokens_per_char = len(val_data) / len(val_text)
    chars_per_byte = len(val_text) / len(val_text.encode("utf-8"))
    bits_per_char = result.val_loss / math.log(2) * tokens_per_char
    return LabReport(
        lab="gpt",
        out_dir=out,
        metrics={
            "val_loss": result.val_loss,
            "val_perplexity": math.exp(result.val_loss),
            "val_bits_per_char": bits_per_char,
            "val_bits_per_byte": bits_per_char * chars_per_byte,
            "train_loss": result.train_loss,
            "unigram_val_loss": unigram,
            "uniform_loss": math.log(tokenizer.vocab_size),
            "chars_per_token": 1 / tokens_per_char,
            "tokens_per_s": round(result.tokens_per_s),
            "params": model.num_params(),
            "iters": result.steps,
            "tokenizer": cfg.tokenizer,
            "vocab_size": tokenizer.vocab_size,
        },
        artifacts={
            "metrics": out / "metrics.jsonl",
            "loss curve": out / "loss.png",
            "checkpoint": checkpoint,
            "model": out / "model",
            "samples": out / "samples.txt",
        },
        text=f"{SAMPLE.get()}:\n{samples[0]}",
        seconds=timer.seconds,
    )


def _load_text(cfg: Config) -> str:
    # the validation tenth must hold a few windows of block_size + 1 characters
    return runner.load_text(cfg.data, min_chars=max(1000, 20 * (cfg.block_size + 1)))[0]


def _tokenizer(cfg: Config, text: str, split: int, saved: Path) -> Tokenizer:
    """The saved tokenizer when resuming (the checkpoint's ids), else a new one. BPE merges
    are learned from the training split only, so validation text stays unseen; the
    characters come from the whole text (a character missing from it could not be encoded,
    and knowing the alphabet tells the model nothing about the order of characters)."""
    bpe = cfg.tokenizer == "bpe"
    if cfg.resume and saved.is_file():
        return BPETokenizer.load(saved) if bpe else CharTokenizer.load(saved)
    if bpe:
        return BPETokenizer.train(text[:split], cfg.vocab_size, special_tokens=())
    return CharTokenizer.from_text(text)


def _encode(tokenizer: Tokenizer, text: str) -> list[int]:
    if isinstance(tokenizer, BPETokenizer):
        return tokenizer.encode_ordinary(text)  # bytes: any text encodes
    return tokenizer.encode(text)


def _resume(trainer: Trainer, checkpoint: Path) -> None:
    if not checkpoint.is_file():
        raise LabError(NO_CHECKPOINT.get(file=checkpoint))
    try:
        trainer.resume(checkpoint)
    except (RuntimeError, KeyError, ValueError) as e:
        detail = str(e).splitlines()[0]
        raise LabError(CHECKPOINT_MISMATCH.get(file=checkpoint, detail=detail)) from None


def _samples(model: GPT, tokenizer: Tokenizer, cfg: Config, device: str) -> list[str]:
    if isinstance(tokenizer, BPETokenizer):
        start_id = tokenizer.encode_ordinary("\n")[0]
    else:
        start_id = tokenizer.stoi["\n" if "\n" in tokenizer.stoi else tokenizer.chars[0]]
    idx = torch.full((SAMPLES, 1), start_id, dtype=torch.long, device=device)
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    model.eval()
    out = model.generate(
        idx,
        cfg.sample_tokens,
        temperature=cfg.temperature,
        top_k=cfg.top_k,
        top_p=cfg.top_p,
        generator=generator,
    )
    return [tokenizer.decode(row[1:].tolist()) for row in out.cpu()]


def unigram_loss(train_data: torch.Tensor, val_data: torch.Tensor, vocab_size: int) -> float:
    """The baseline: cross-entropy on val of token frequencies counted on train (add-one
    smoothed). A model below it has learned more than which tokens are common."""
    counts = torch.bincount(train_data.long(), minlength=vocab_size).double() + 1.0
    log_p = (counts / counts.sum()).log()
    return -log_p[val_data.long()].mean().item()
