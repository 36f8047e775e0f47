"""Lab `positional-encodings`: train short, test long.

Six small causal character language models differ in one thing only, how they learn where a
token sits (groundup.nn.positions):

- none: no position information at all (the causal mask alone leaks some order)
- sinusoidal: the fixed sine/cosine table added to the token embeddings
- learned: one trained vector per position 0..seq_len-1 added to the token embeddings
- rope: queries and keys rotated by their position in every attention layer
- alibi: a linear distance penalty added to the attention scores in every layer
- t5: a learned penalty per head and bucket of distances (T5), added to the scores in every
  layer; distances of t5_max_distance and more share the last bucket. T5 trained on 512
  tokens with max_distance 128, so every bucket was trained; the default here keeps that
  relation (32 < 64). Set it above seq_len to see what untrained buckets do.

Each trains on windows of `seq_len` characters of the embedded corpus (or --data FILE) with the
same seed, the same batches and the same number of steps. Then every model reads the same
validation characters cut into windows of each length in `eval_lengths` (64 to 512 by
default) and the lab reports the mean cross-entropy per character: the extrapolation table of
Press et al.'s "Train Short, Test Long". A learned table has no vector for position
seq_len and beyond, so its longer lengths are "n/a".

Artefacts: extrapolation.csv and extrapolation.png (loss against evaluation length, one line
per kind), loss_by_position.png (loss at each position of the longest windows: where past the
trained length each model breaks down), metrics.jsonl and config.json.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.data.text import CharTokenizer, get_batch, train_val_split
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.nn.positions import (
    LearnedPositions,
    PositionalSelfAttention,
    PositionKind,
    sinusoidal_table,
)

LAB = "positional_encodings"
KINDS: tuple[str, ...] = ("none", "sinusoidal", "learned", "rope", "alibi", "t5")


@dataclass
class Config(LabConfig):
    kinds: str = "none,sinusoidal,learned,rope,alibi,t5"
    max_chars: int = 400_000  # 0: the whole text
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    seq_len: int = 64  # the training context: every model sees only this many characters
    batch_size: int = 32
    steps: int = 480
    lr: float = 3e-3
    grad_clip: float = 1.0
    t5_max_distance: int = 32  # > 16 (the exact buckets); < seq_len so the last bucket trains
    eval_lengths: str = "64,128,256,512"
    eval_chars: int = 8192  # validation characters read at every length (whole windows)


PRESETS: dict[str, dict] = {
    "micro": {
        "max_chars": 80_000,
        "n_layer": 1,
        "n_embd": 32,
        "seq_len": 32,
        "batch_size": 16,
        "steps": 250,
        "t5_max_distance": 24,
        "eval_lengths": "32,64,128",
        "eval_chars": 2048,
    },
    "tiny": {},
    "full": {
        "max_chars": 0,
        "n_layer": 4,
        "n_head": 4,
        "n_embd": 128,
        "seq_len": 128,
        "steps": 4000,
        "eval_lengths": "128,256,512,1024,2048",
        "eval_chars": 32_768,
    },
}

FIELD_HELP: dict[str, Msg] = {
    "kinds": Msg(
        "position schemes to compare, comma-separated: none, sinusoidal, learned, rope, alibi, t5",
        "zu vergleichende Positionsverfahren, durch Kommas getrennt: none, sinusoidal, "
        "learned, rope, alibi, t5",
    ),
    "t5_max_distance": Msg(
        "distance from which the t5 kind puts every offset in its last bucket (above 16)",
        "Abstand, ab dem die Variante t5 jeden Abstand in ihren letzten Bucket legt (über 16)",
    ),
    "eval_lengths": Msg(
        "window lengths the trained models are evaluated at, comma-separated",
        "Fensterlängen, bei denen die trainierten Modelle ausgewertet werden, durch Kommas "
        "getrennt",
    ),
    "eval_chars": Msg(
        "validation characters read at every evaluation length",
        "Validierungszeichen, die bei jeder Auswertungslänge gelesen werden",
    ),
}

TRAINING = Msg("Training with positions: {kind}", "Training mit Positionen: {kind}")
EVALUATING = Msg("Evaluating at longer lengths", "Auswertung bei größeren Längen")
TOO_SHORT = Msg("{source} is too short: {detail}", "{source} ist zu kurz: {detail}")


# ---------------------------------------------------------------- settings


def parse_kinds(value: str) -> list[str]:
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if not kinds or unknown:
        raise LabError(
            runner.BAD_SETTING.get(
                detail=f"kinds must be a subset of {','.join(KINDS)}, got {value!r}"
            )
        )
    return list(dict.fromkeys(kinds))  # in the order given, without repeats


def parse_lengths(value: str) -> list[int]:
    try:
        lengths = sorted({int(v) for v in value.split(",") if v.strip()})
    except ValueError:
        raise LabError(
            runner.BAD_SETTING.get(detail="eval_lengths must be integers like 64,128")
        ) from None
    if not lengths or lengths[0] < 2:
        raise LabError(runner.BAD_SETTING.get(detail=f"eval_lengths must be >= 2, got {value!r}"))
    return lengths


def check_config(cfg: Config) -> tuple[list[str], list[int]]:
    positive = ("n_layer", "n_head", "n_embd", "seq_len", "batch_size", "steps", "eval_chars")
    problems = [f"{name} must be >= 1" for name in positive if getattr(cfg, name) < 1]
    if cfg.n_embd % cfg.n_head or (cfg.n_embd // max(cfg.n_head, 1)) % 2:
        problems.append("n_embd / n_head must be an even whole number (RoPE rotates pairs)")
    if cfg.max_chars < 0:
        problems.append("max_chars must be >= 0")
    if cfg.lr <= 0 or cfg.grad_clip <= 0:
        problems.append("lr and grad_clip must be > 0")
    if cfg.t5_max_distance <= 16:
        problems.append("t5_max_distance must be > 16, beyond the 16 one-distance buckets")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))
    lengths = parse_lengths(cfg.eval_lengths)
    if cfg.eval_chars < lengths[-1]:
        raise LabError(
            runner.BAD_SETTING.get(detail=f"eval_chars must be >= the longest length {lengths[-1]}")
        )
    return parse_kinds(cfg.kinds), lengths


# ---------------------------------------------------------------- the model


class Block(nn.Module):
    """Pre-LayerNorm Transformer block (as in models/gpt.py) around a PositionalSelfAttention."""

    def __init__(self, n_embd: int, n_head: int, kind: PositionKind, t5_max_distance: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = PositionalSelfAttention(n_embd, n_head, kind, t5_max_distance=t5_max_distance)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class PositionalLM(nn.Module):
    """A small causal character LM whose only difference between kinds is the positions.

    Absolute kinds (sinusoidal, learned) add their vectors once, to the token embeddings, and
    the attention layers run without positions; relative kinds (rope, alibi, t5) act inside
    every attention layer, as in Llama, BLOOM and T5.
    """

    def __init__(
        self,
        vocab_size: int,
        kind: str,
        n_embd: int,
        n_head: int,
        n_layer: int,
        max_len: int,
        t5_max_distance: int = 128,
    ) -> None:
        super().__init__()
        self.kind = kind
        # Token vectors start at unit scale, the scale of the sinusoidal table's entries, so
        # neither drowns the other (the Transformer paper multiplies by sqrt(d) for this).
        self.tokens = nn.Embedding(vocab_size, n_embd)
        self.learned: LearnedPositions | None = None
        if kind == "learned":
            self.learned = LearnedPositions(max_len, n_embd)
            # GPT-2 draws token and position vectors at one scale; match the tokens' here.
            nn.init.normal_(self.learned.embedding.weight, std=1.0)
        inner: PositionKind = kind if kind in ("rope", "alibi", "t5") else "none"  # type: ignore[assignment]
        self.blocks = nn.ModuleList(
            Block(n_embd, n_head, inner, t5_max_distance) for _ in range(n_layer)
        )
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size)

    def max_length(self) -> int | None:
        """The longest input it can read: only a learned table has an end."""
        return None if self.learned is None else self.learned.max_len

    def forward(self, idx: Tensor) -> Tensor:
        """idx (B, T) -> next-character logits (B, T, vocab)."""
        T = idx.size(1)
        x = self.tokens(idx)
        if self.kind == "sinusoidal":
            x = x + sinusoidal_table(T, x.size(-1)).to(x)
        elif self.learned is not None:
            x = x + self.learned(T)  # raises past max_len: a learned table cannot extrapolate
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


# ---------------------------------------------------------------- training and evaluation


def train(
    model: PositionalLM, data: Tensor, cfg: Config, log: runner.MetricsLog, device: str
) -> float:
    """AdamW with cosine decay on random windows of seq_len; returns the last training loss.

    The batch generator is seeded the same for every kind, so all models see the same
    windows in the same order."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, cfg.steps, cfg.lr / 10)
    generator = torch.Generator().manual_seed(cfg.seed)
    smoothed = float("nan")
    with runner.progress(cfg.steps, TRAINING.get(kind=model.kind), cfg.quiet) as bar:
        for step in range(cfg.steps):
            x, y = (t.to(device) for t in get_batch(data, cfg.seq_len, cfg.batch_size, generator))
            loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            schedule.step()
            value = loss.item()
            smoothed = value if step == 0 else 0.95 * smoothed + 0.05 * value
            if step % 25 == 0 or step == cfg.steps - 1:
                log.log(part="train", kind=model.kind, step=step, loss=round(value, 4))
            bar.update(info=f"loss {smoothed:.3f}")
    return smoothed


@torch.no_grad()
def position_losses(
    model: PositionalLM, data: Tensor, length: int, eval_chars: int, device: str
) -> Tensor:
    """Cross-entropy at each position (length,) averaged over the windows of `length` that fit
    in the first eval_chars + 1 validation characters (targets are the next characters)."""
    windows = eval_chars // length
    x = data[: windows * length].view(windows, length).long().to(device)
    y = data[1 : windows * length + 1].view(windows, length).long().to(device)
    losses = []
    for start in range(0, windows, 8):  # a few windows at a time: attention is length^2
        logits = model(x[start : start + 8])
        losses.append(
            F.cross_entropy(logits.transpose(1, 2), y[start : start + 8], reduction="none")
        )
    return torch.cat(losses).mean(dim=0).cpu()


def unigram_loss(train_ids: Tensor, val_ids: Tensor, vocab_size: int) -> float:
    """Cross-entropy of character frequencies (add-one smoothed): the no-context baseline."""
    counts = torch.bincount(train_ids.long(), minlength=vocab_size).double() + 1
    log_p = (counts / counts.sum()).log()
    return float(-log_p[val_ids.long()].mean())


# ---------------------------------------------------------------- report


def extrapolation_table(results: dict[str, dict[int, float | None]], lengths: list[int]) -> str:
    header = "kind        " + "".join(f"{f'L={n}':>9}" for n in lengths)
    lines = [header]
    for kind, row in results.items():
        cells = "".join(f"{'n/a':>9}" if row[n] is None else f"{row[n]:9.3f}" for n in lengths)
        lines.append(f"{kind:<12}{cells}")
    return "\n".join(lines)


def save_table(path: Path, results: dict[str, dict[int, float | None]], lengths: list[int]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["kind", *[f"loss_{n}" for n in lengths]])
        for kind, row in results.items():
            writer.writerow(
                [kind, *["n/a" if row[n] is None else f"{row[n]:.4f}" for n in lengths]]
            )
    return path


def plot_by_position(path: Path, curves: dict[str, Tensor], trained: int) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    for kind, losses in curves.items():
        width = max(1, len(losses) // 32)  # average neighbouring positions into ~32 points
        usable = len(losses) // width * width
        smooth = losses[:usable].view(-1, width).mean(dim=1)
        positions = torch.arange(len(smooth)) * width + (width - 1) / 2
        ax.plot(positions.tolist(), smooth.tolist(), label=kind)
    ax.axvline(trained - 0.5, color="grey", linestyle="--", linewidth=1)
    ax.text(trained, 0.02, " trained length", color="grey", transform=ax.get_xaxis_transform())
    ax.set_title("Loss at each position of the longest windows")
    ax.set_xlabel("position in the window")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: curves fill the axes
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- the lab


def load_ids(cfg: Config, lengths: list[int]) -> tuple[CharTokenizer, Tensor, Tensor, str]:
    text, source = runner.load_text(cfg.data, max_chars=cfg.max_chars)
    tokenizer = CharTokenizer.from_text(text)
    train_ids, val_ids = train_val_split(torch.tensor(tokenizer.encode(text), dtype=torch.int32))
    if len(train_ids) <= cfg.seq_len + 1:
        detail = f"{len(train_ids)} training characters, need more than {cfg.seq_len + 1}"
        raise LabError(TOO_SHORT.get(source=source, detail=detail))
    if len(val_ids) <= max(cfg.eval_chars, lengths[-1]):
        detail = f"{len(val_ids)} validation characters (the last 10 %), need {cfg.eval_chars + 1}"
        raise LabError(TOO_SHORT.get(source=source, detail=detail))
    return tokenizer, train_ids, val_ids, source


def run(cfg: Config) -> LabReport:
    kinds, lengths = check_config(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    device = runner.resolve_device(cfg.device)
    tokenizer, train_ids, val_ids, source = load_ids(cfg, lengths)
    log = runner.MetricsLog(out / "metrics.jsonl")
    log.log(part="data", source=source, train_chars=len(train_ids), val_chars=len(val_ids))

    metrics: dict[str, float | int | str] = {
        "trained_length": cfg.seq_len,
        "unigram_loss": round(unigram_loss(train_ids, val_ids, tokenizer.vocab_size), 4),
    }
    results: dict[str, dict[int, float | None]] = {}
    curves: dict[str, Tensor] = {}
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        for kind in kinds:
            torch.manual_seed(cfg.seed)  # every kind starts from the same seed
            model = PositionalLM(
                tokenizer.vocab_size, kind, cfg.n_embd, cfg.n_head, cfg.n_layer, cfg.seq_len,
                cfg.t5_max_distance,
            ).to(device)  # fmt: skip
            metrics[f"train_loss_{kind}"] = round(train(model, train_ids, cfg, log, device), 4)
            model.eval()
            results[kind] = {}
            with runner.progress(len(lengths), EVALUATING.get(), cfg.quiet) as bar:
                for length in lengths:
                    limit = model.max_length()
                    if limit is not None and length > limit:
                        loss = None  # no position vectors exist there: nothing to evaluate
                    else:
                        by_position = position_losses(
                            model, val_ids, length, cfg.eval_chars, device
                        )
                        loss = float(by_position.mean())
                        if length == lengths[-1] or limit == length:
                            curves[kind] = by_position
                    results[kind][length] = loss
                    metrics[f"loss_{kind}_{length}"] = "n/a" if loss is None else round(loss, 4)
                    log.log(part="eval", kind=kind, length=length, loss=loss)
                    bar.update(info=f"{kind} L={length}")

    series = {
        kind: (
            [n for n in lengths if row[n] is not None],
            [v for v in row.values() if v is not None],
        )
        for kind, row in results.items()
    }
    artifacts = {
        "table": save_table(out / "extrapolation.csv", results, lengths),
        "plot": runner.save_line_plot(
            out / "extrapolation.png",
            series,
            f"Trained on {cfg.seq_len} characters, evaluated on longer windows",
            "evaluation length (characters)",
            "cross-entropy (nats per character)",
            logy=True,
        ),
        "by_position": plot_by_position(out / "loss_by_position.png", curves, cfg.seq_len),
        "metrics": out / "metrics.jsonl",
        "config": out / "config.json",
    }
    metrics["seconds"] = round(timer.seconds, 2)
    log.log(part="summary", **metrics)
    log.close()
    text = extrapolation_table(results, lengths)
    text += f"\n(unigram baseline {metrics['unigram_loss']:.3f} nats per character)"
    return LabReport(LAB, out, metrics, artifacts, text=text, seconds=timer.seconds)
