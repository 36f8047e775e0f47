"""Lab `gpt`: train a character-level GPT and let it write.

By default it learns from the docstrings of Python's standard library (built on the spot,
no download); `--data FILE` trains on any UTF-8 text instead, e.g. Tiny Shakespeare from
`groundup data get tinyshakespeare`. The tiny preset is nanoGPT's CPU "baby GPT" (4 layers,
4 heads, 128 dimensions, 64 characters of context); it takes a few minutes on two cores.

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

from groundup.data.text import CharTokenizer, train_val_split
from groundup.files import atomic_write_text
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.models.gpt import GPT, GPTConfig
from groundup.train.trainer import TrainConfig, Trainer


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


def run(cfg: Config) -> LabReport:
    timer = runner.Timer()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, "gpt")

    text = _load_text(cfg)
    tokenizer_path = out / "model" / "tokenizer.json"
    if cfg.resume and tokenizer_path.is_file():
        tokenizer = CharTokenizer.load(tokenizer_path)  # same ids as the checkpoint
    else:
        tokenizer = CharTokenizer.from_text(text)
    try:
        ids = tokenizer.encode(text)
    except ValueError as e:
        raise LabError(CHECKPOINT_MISMATCH.get(file=tokenizer_path, detail=e)) from None
    data = torch.tensor(ids, dtype=torch.uint8 if tokenizer.vocab_size <= 256 else torch.int32)
    train_data, val_data = train_val_split(data)

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
    )
    checkpoint = out / "ckpt.pt"
    metrics = runner.MetricsLog(out / "metrics.jsonl", append=cfg.resume)
    trainer = Trainer(
        model, train_data, val_data, train_cfg, checkpoint, metrics.log, dataclasses.asdict(cfg)
    )
    if cfg.resume:
        _resume(trainer, checkpoint)
    else:
        tokenizer.save(tokenizer_path)  # first, so a resumed run finds the same vocabulary
    try:
        with runner.progress(cfg.max_iters, TRAINING.get(), quiet=cfg.quiet) as bar:
            result = trainer.fit(bar)
    finally:
        metrics.close()

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
        ylabel="cross-entropy (nats / character)",
    )
    samples = _samples(model, tokenizer, cfg, device)
    atomic_write_text(
        out / "samples.txt", "".join(f"--- {i + 1} ---\n{s}\n\n" for i, s in enumerate(samples))
    )

    return LabReport(
        lab="gpt",
        out_dir=out,
        metrics={
            "val_loss": result.val_loss,
            "train_loss": result.train_loss,
            "unigram_val_loss": unigram,
            "uniform_loss": math.log(tokenizer.vocab_size),
            "tokens_per_s": round(result.tokens_per_s),
            "params": model.num_params(),
            "iters": result.steps,
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


def _resume(trainer: Trainer, checkpoint: Path) -> None:
    if not checkpoint.is_file():
        raise LabError(NO_CHECKPOINT.get(file=checkpoint))
    try:
        trainer.resume(checkpoint)
    except (RuntimeError, KeyError, ValueError) as e:
        detail = str(e).splitlines()[0]
        raise LabError(CHECKPOINT_MISMATCH.get(file=checkpoint, detail=detail)) from None


def _samples(model: GPT, tokenizer: CharTokenizer, cfg: Config, device: str) -> list[str]:
    start = "\n" if "\n" in tokenizer.stoi else tokenizer.chars[0]
    idx = torch.full((SAMPLES, 1), tokenizer.stoi[start], dtype=torch.long, device=device)
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
    return [tokenizer.decode(row[1:]) for row in out.cpu()]


def unigram_loss(train_data: torch.Tensor, val_data: torch.Tensor, vocab_size: int) -> float:
    """The baseline: cross-entropy on val of character frequencies counted on train (add-one
    smoothed). A model below it has learned more than which characters are common."""
    counts = torch.bincount(train_data.long(), minlength=vocab_size).double() + 1.0
    log_p = (counts / counts.sum()).log()
    return -log_p[val_data.long()].mean().item()
