"""Lab: where relative positions help. BERT against DeBERTa, same size, same data, same steps.

1. A WordPiece vocabulary is trained on the text (the embedded corpus of Python docstrings,
   or a UTF-8 file with --data); the paragraphs, shuffled, become one stream of token ids,
   10 % of it held out.
2. Three tiny encoders learn masked language modelling on random windows of seq_len tokens,
   with the same batches, masks, optimiser and number of steps:
   - bert: learned absolute positions added to the words at the bottom (a table of
     2 * seq_len rows, of which training reaches only the first seq_len);
   - deberta: no absolute positions, disentangled attention over relative distances
     (log buckets, a relative table of 2 * seq_len rows: exactly BERT's parameter count);
   - deberta+emd: the same plus the enhanced mask decoder, which adds an absolute position
     table just before the MLM head (the last layer runs twice more on H + P).
3. Held-out MLM loss and accuracy on the same masked tokens in three settings: windows of
   the training length; the same windows with seq_len // 2 padding tokens in front (every
   token moves right, the text is unchanged); and windows twice as long as any seen in
   training.
4. What the trained DeBERTa's attention scores are made of: the mean content-to-content,
   content-to-position and position-to-content terms at each relative distance.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.finetune.schedule import linear_warmup_decay
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.models.bert import BertConfig
from groundup.models.bert_pretraining import IGNORE, BertForPreTraining, mask_batch
from groundup.models.deberta import DebertaV2Config, DebertaV2ForMaskedLM
from groundup.text.wordpiece import PAD, WordPieceTokenizer

LAB = "deberta"
MODELS = ("bert", "deberta", "deberta+emd")
SETTINGS = ("same_length", "shifted", "twice_as_long")


@dataclass
class Config(LabConfig):
    max_chars: int = 300_000  # 0: the whole text
    vocab: int = 1000
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    seq_len: int = 64  # training windows; evaluation also at 2 * seq_len
    steps: int = 500
    batch_size: int = 32
    lr: float = 2e-3
    warmup_iters: int = 50
    weight_decay: float = 0.01
    mlm_probability: float = 0.15
    eval_every: int = 50
    eval_windows: int = 96  # held-out windows per setting
    emd: bool = True  # also train DeBERTa with the enhanced mask decoder


PRESETS: dict[str, dict] = {
    "micro": {"max_chars": 60_000, "vocab": 400, "d_model": 32, "n_heads": 2, "seq_len": 24,
              "steps": 250, "batch_size": 16, "lr": 5e-3, "warmup_iters": 25, "eval_every": 50,
              "eval_windows": 48},
    "tiny": {},
    "full": {"max_chars": 0, "vocab": 4000, "d_model": 256, "n_layers": 4, "seq_len": 128,
             "steps": 4000, "eval_every": 250, "lr": 5e-4, "warmup_iters": 400,
             "eval_windows": 256},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "mlm_probability": Msg(
        "share of tokens chosen for prediction (80 % [MASK], 10 % random, 10 % kept)",
        "Anteil der Tokens, die vorhergesagt werden (80 % [MASK], 10 % zufällig, 10 % unverändert)",
    ),
    "eval_windows": Msg(
        "held-out windows per evaluation setting (same length, shifted, twice as long)",
        "zurückgehaltene Fenster je Auswertungsfall (gleiche Länge, verschoben, doppelt so lang)",
    ),
    "emd": Msg(
        "also train DeBERTa with the enhanced mask decoder (absolute positions before the head)",
        "DeBERTa zusätzlich mit dem Enhanced Mask Decoder trainieren (absolute Positionen vor "
        "dem Kopf)",
    ),
}

TRAINING = Msg("Training {model}", "{model} wird trainiert")
ONLY_CPU = Msg(
    "This lab trains on the CPU only; use --device cpu or auto.",
    "Dieses Lab trainiert nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_SMALL = Msg(
    "{source}: {tokens} tokens after tokenisation; this lab needs {needed}.",
    "{source}: {tokens} Tokens nach der Tokenisierung; dieses Lab braucht {needed}.",
)
TABLE_TITLE = Msg(
    "Held-out MLM loss (nats) on the same masked tokens:",
    "MLM-Loss (nats) auf denselben maskierten, zurückgehaltenen Tokens:",
)
SETTING_NAMES = {
    "same_length": Msg("same length", "gleiche Länge"),
    "shifted": Msg("shifted right", "verschoben"),
    "twice_as_long": Msg("twice as long", "doppelt so lang"),
}


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if min(cfg.d_model, cfg.n_heads, cfg.steps, cfg.batch_size, cfg.eval_every,
           cfg.eval_windows) < 1 or cfg.n_layers < 2:  # fmt: skip
        problems.append("d_model, n_heads, steps, batch_size, eval_every and eval_windows "
                        "must be >= 1, n_layers >= 2")  # fmt: skip
    if cfg.d_model % cfg.n_heads:
        problems.append("d_model must be divisible by n_heads")
    if cfg.vocab < 100 or cfg.seq_len < 16:
        problems.append("vocab must be >= 100 and seq_len >= 16")
    if not 0 < cfg.mlm_probability < 1 or cfg.lr <= 0 or cfg.max_chars < 0:
        problems.append("mlm_probability must lie in (0, 1), lr > 0, max_chars >= 0")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


# ---------------------------------------------------------------- data


def token_streams(text: str, cfg: Config) -> tuple[WordPieceTokenizer, list[int], list[int]]:
    """(tokenizer, training ids, held-out ids): paragraphs shuffled, the last tenth held out."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    random.Random(cfg.seed).shuffle(paragraphs)
    tokenizer = WordPieceTokenizer.train(paragraphs, cfg.vocab)
    ids = [tokenizer.encode(p, add_special_tokens=False).input_ids for p in paragraphs]
    cut = len(ids) - max(1, len(ids) // 10)
    train = [t for paragraph in ids[:cut] for t in paragraph]
    held_out = [t for paragraph in ids[cut:] for t in paragraph]
    return tokenizer, train, held_out


def windows(stream: list[int], length: int, count: int) -> Tensor:
    """(count, length) consecutive windows from the start of the stream (wrapping around)."""
    needed = length * count
    repeated = (stream * (needed // len(stream) + 1))[:needed]
    return torch.tensor(repeated).view(count, length)


def random_windows(stream: Tensor, length: int, count: int, g: torch.Generator) -> Tensor:
    starts = torch.randint(0, len(stream) - length, (count,), generator=g)
    return torch.stack([stream[s : s + length] for s in starts.tolist()])


def shift_right(batch: dict[str, Tensor], by: int, pad_id: int) -> dict[str, Tensor]:
    """`by` padding tokens in front: the text is the same, every token sits `by` places later."""
    B = batch["input_ids"].shape[0]
    pad = torch.full((B, by), pad_id, dtype=torch.long)
    return {
        "input_ids": torch.cat([pad, batch["input_ids"]], 1),
        "attention_mask": torch.cat([torch.zeros_like(pad), batch["attention_mask"]], 1),
        "labels": torch.cat([torch.full_like(pad, IGNORE), batch["labels"]], 1),
    }


def masked(ids: Tensor, tokenizer: WordPieceTokenizer, cfg: Config, g: torch.Generator) -> dict:
    inputs, labels = mask_batch(ids, tokenizer, cfg.mlm_probability, g)
    return {"input_ids": inputs, "attention_mask": torch.ones_like(ids), "labels": labels}


def unigram_loss(train: list[int], labels: Tensor, vocab: int) -> float:
    """Cross-entropy of the held-out targets under the training frequencies (add-one): what a
    model gets that ignores the context."""
    counts = Counter(train)
    total = len(train) + vocab
    targets = labels[labels != IGNORE].tolist()
    return -sum(math.log((counts[t] + 1) / total) for t in targets) / len(targets)


# ---------------------------------------------------------------- the three encoders


def build_models(cfg: Config, vocab: int) -> dict[str, nn.Module]:
    """BERT and DeBERTa of the same width and depth; the same seed draws each one's weights."""
    positions = 2 * cfg.seq_len  # the longest evaluation; training reaches half of it
    models: dict[str, nn.Module] = {}
    torch.manual_seed(cfg.seed)
    bert = BertConfig(vocab_size=vocab, hidden_size=cfg.d_model, num_hidden_layers=cfg.n_layers,
                      num_attention_heads=cfg.n_heads, intermediate_size=4 * cfg.d_model,
                      max_position_embeddings=positions, hidden_dropout_prob=0.0,
                      attention_probs_dropout_prob=0.0)  # fmt: skip
    models["bert"] = BertForPreTraining(bert, nsp=False)
    # A relative table of 2 * seq_len rows (BERT's position count). Distances up to
    # seq_len / 2 keep their own row; beyond, log buckets reach the table's edge at about
    # 0.7 * seq_len, so the edge rows are trained and longer distances reuse them.
    deberta = DebertaV2Config(vocab_size=vocab, hidden_size=cfg.d_model,
                              num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads,
                              intermediate_size=4 * cfg.d_model, max_position_embeddings=positions,
                              hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                              position_buckets=cfg.seq_len,
                              max_relative_positions=3 * cfg.seq_len // 4, pad_token_id=0,
                              layer_norm_eps=1e-12)  # fmt: skip
    torch.manual_seed(cfg.seed)
    models["deberta"] = DebertaV2ForMaskedLM(deberta)
    if cfg.emd:
        torch.manual_seed(cfg.seed)
        models["deberta+emd"] = DebertaV2ForMaskedLM(deberta, emd=True)
    return models


def head_input(model: nn.Module, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """What the MLM head reads, (B, T, H)."""
    if isinstance(model, BertForPreTraining):
        return model.bert(input_ids, attention_mask).last_hidden_state
    return model.encode(input_ids, attention_mask)[0]


def mlm_loss(model: nn.Module, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """(loss, accuracy) at the masked places only: the vocabulary-sized decoder runs there
    alone, the rest of its logits would be ignored anyway."""
    hidden = head_input(model, batch["input_ids"], batch["attention_mask"])
    chosen = batch["labels"] != IGNORE
    logits = model.cls.predictions(hidden[chosen])
    targets = batch["labels"][chosen]
    return F.cross_entropy(logits, targets), (logits.argmax(-1) == targets).float().mean()


@torch.no_grad()
def evaluate(model: nn.Module, batch: dict[str, Tensor], chunk: int = 32) -> dict[str, float]:
    model.eval()
    losses, hits, count = 0.0, 0.0, 0
    for start in range(0, batch["input_ids"].shape[0], chunk):
        part = {k: v[start : start + chunk] for k, v in batch.items()}
        n = int((part["labels"] != IGNORE).sum())
        loss, accuracy = mlm_loss(model, part)
        losses, hits, count = losses + loss.item() * n, hits + accuracy.item() * n, count + n
    model.train()
    return {"loss": losses / count, "accuracy": hits / count}


def parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- what the scores are made of


@torch.no_grad()
def terms_by_distance(
    model: DebertaV2ForMaskedLM, input_ids: Tensor, reach: int
) -> dict[str, Tensor]:
    """Mean c2c, c2p and p2c score (scaled, as the softmax sees them) at each relative
    distance i - j in -reach..reach: "layer{l}.{term}" -> (heads, 2 * reach + 1)."""
    model.eval()
    encoder = model.deberta.encoder
    T = input_ids.shape[1]
    states = model.deberta(input_ids).hidden_states
    relative_pos = encoder.relative_positions(T, input_ids.device)
    table = encoder.relative_table()
    distance = torch.arange(T)[:, None] - torch.arange(T)[None, :]
    result = {}
    for index, layer in enumerate(encoder.layer):
        attention = layer.attention.self
        x = states[index]
        q = attention.split_heads(attention.query_proj(x))
        k = attention.split_heads(attention.key_proj(x))
        for name, term in attention.score_terms(q, k, relative_pos, table).items():
            mean = term.mean(0)  # (heads, T, T), averaged over the batch
            result[f"layer{index + 1}.{name}"] = torch.stack(
                [mean[:, distance == d].mean(-1) for d in range(-reach, reach + 1)], dim=-1
            )
    model.train()
    return result


def terms_plot(path: Path, terms: dict[str, Tensor], reach: int, n_layers: int) -> Path:
    plt = runner.pyplot()
    fig, axes = plt.subplots(2, n_layers, figsize=(5.5 * n_layers, 8), dpi=110, squeeze=False)
    distances = list(range(-reach, reach + 1))
    for layer in range(1, n_layers + 1):
        top, bottom = axes[0][layer - 1], axes[1][layer - 1]
        for name, style in (("c2c", "-"), ("c2p", "--"), ("p2c", ":")):
            top.plot(distances, terms[f"layer{layer}.{name}"].mean(0).numpy(), style, label=name)
        top.axvline(0, color="grey", lw=0.5)
        top.set_title(f"layer {layer}: mean term (all heads)")
        top.set_xlabel("relative distance i - j (query i, key j)")
        top.set_ylabel("score / sqrt(3d)")
        top.legend()
        position = terms[f"layer{layer}.c2p"] + terms[f"layer{layer}.p2c"]
        image = bottom.imshow(position.numpy(), aspect="auto", cmap="coolwarm",
                              extent=(-reach - 0.5, reach + 0.5, position.shape[0] - 0.5, -0.5))  # fmt: skip
        bottom.set_title(f"layer {layer}: c2p + p2c per head")
        bottom.set_xlabel("relative distance i - j")
        bottom.set_ylabel("head")
        fig.colorbar(image, ax=bottom)
    fig.suptitle("What DeBERTa's attention scores are made of, by relative distance")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def settings_plot(path: Path, results: dict[str, dict[str, float]], baseline: float) -> Path:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    width = 0.8 / len(results)
    for n, (model, losses) in enumerate(results.items()):
        xs = [i + (n - (len(results) - 1) / 2) * width for i in range(len(SETTINGS))]
        bars = ax.bar(xs, [losses[s] for s in SETTINGS], width, label=model)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.axhline(baseline, color="grey", ls="--", lw=1, label="unigram (no context)")
    lowest = min(min(losses.values()) for losses in results.values())
    ax.set_ylim(lowest - 0.4, baseline + 0.2)  # the differences, not the distance from zero
    ax.set_xticks(range(len(SETTINGS)), [SETTING_NAMES[s].get() for s in SETTINGS])
    ax.set_ylabel("held-out MLM loss (nats)")
    ax.set_title("Same masked tokens, moved right or in longer windows")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- the lab


def train(
    name: str,
    model: nn.Module,
    stream: Tensor,
    eval_batch: dict,
    cfg: Config,
    tokenizer: WordPieceTokenizer,
    log: runner.MetricsLog,
) -> tuple[list[float], list[float]]:
    """Train on random windows; the data and masking generators restart for every model, so
    all see the same batches. Returns the held-out loss curve (steps, losses)."""
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: linear_warmup_decay(s, cfg.warmup_iters, cfg.steps)
    )
    data, masking = (
        torch.Generator().manual_seed(cfg.seed),
        torch.Generator().manual_seed(cfg.seed + 1),
    )
    curve: tuple[list[float], list[float]] = ([], [])
    with runner.progress(cfg.steps, TRAINING.get(model=name), cfg.quiet) as bar:
        for step in range(1, cfg.steps + 1):
            ids = random_windows(stream, cfg.seq_len, cfg.batch_size, data)
            loss, _ = mlm_loss(model, masked(ids, tokenizer, cfg, masking))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            if step % cfg.eval_every == 0 or step == cfg.steps:
                held_out = evaluate(model, eval_batch)
                log.log(model=name, step=step, train_loss=loss.item(), **held_out)
                curve[0].append(step)
                curve[1].append(held_out["loss"])
                bar.update(info=f"held-out {held_out['loss']:.2f}")
            else:
                bar.update()
    return curve


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    text, source = runner.load_text(cfg.data, min_chars=1000, max_chars=cfg.max_chars)
    eval_windows = cfg.eval_windows + cfg.eval_windows % 2  # pairs make the long windows

    with runner.one_torch_thread():
        cpu_start = time.process_time()
        tokenizer, train_ids, held_out = token_streams(text, cfg)
        needed = 4 * cfg.seq_len
        if len(train_ids) < needed or len(held_out) < 2 * cfg.seq_len:
            raise LabError(TOO_SMALL.get(source=source, tokens=len(train_ids) + len(held_out),
                                         needed=needed + 2 * cfg.seq_len))  # fmt: skip
        # One masked set of held-out tokens, seen three ways: as trained, moved right by
        # padding in front, and two consecutive windows joined into one twice as long.
        same = masked(windows(held_out, cfg.seq_len, eval_windows), tokenizer, cfg,
                      torch.Generator().manual_seed(0))  # fmt: skip
        batches = {
            "same_length": same,
            "shifted": shift_right(same, cfg.seq_len // 2, tokenizer.vocab[PAD]),
            "twice_as_long": {k: v.reshape(eval_windows // 2, 2 * cfg.seq_len)
                              for k, v in same.items()},
        }  # fmt: skip
        baseline = unigram_loss(train_ids, same["labels"], tokenizer.vocab_size)
        models = build_models(cfg, tokenizer.vocab_size)
        stream = torch.tensor(train_ids)
        log = runner.MetricsLog(out / "metrics.jsonl")
        curves: dict[str, tuple[list[float], list[float]]] = {}
        results: dict[str, dict[str, dict[str, float]]] = {}
        for name, model in models.items():
            curves[name] = train(name, model, stream, same, cfg, tokenizer, log)
            results[name] = {s: evaluate(model, batch) for s, batch in batches.items()}
        log.close()
        reach = cfg.seq_len - 1
        raw = windows(held_out, cfg.seq_len, min(eval_windows, 32))
        terms = terms_by_distance(models["deberta"], raw, reach)
        cpu_seconds = time.process_time() - cpu_start

    losses = {name: {s: r[s]["loss"] for s in SETTINGS} for name, r in results.items()}
    artifacts = {
        "metrics": out / "metrics.jsonl",
        "loss_plot": runner.save_line_plot(
            out / "mlm_loss.png",
            {
                **{f"{name} (held-out)": curve for name, curve in curves.items()},
                "unigram (no context)": ([1, cfg.steps], [baseline, baseline]),
            },
            "Held-out masked language modelling loss, windows of the training length",
            "step",
            "cross-entropy (nats)",
        ),  # fmt: skip
        "settings_plot": settings_plot(out / "settings.png", losses, baseline),
        "terms_plot": terms_plot(out / "score_terms.png", terms, reach, cfg.n_layers),
    }
    summary: dict[str, float | int | str] = {
        "source": source,
        "vocab_size": tokenizer.vocab_size,
        "train_tokens": len(train_ids),
        "unigram_loss": baseline,
    }
    for name, model in models.items():
        summary[f"{name}_parameters"] = parameters(model)
        for setting in SETTINGS:
            summary[f"{name}_{setting}_loss"] = results[name][setting]["loss"]
        summary[f"{name}_same_length_accuracy"] = results[name]["same_length"]["accuracy"]
    for layer in range(1, cfg.n_layers + 1):
        for name in ("c2c", "c2p", "p2c"):
            by_distance = terms[f"layer{layer}.{name}"].mean(0)
            summary[f"layer{layer}_{name}_range"] = (by_distance.max() - by_distance.min()).item()
    summary["cpu_seconds"] = cpu_seconds

    header = f"  {'':<12}" + "".join(f"{SETTING_NAMES[s].get():>16}" for s in SETTINGS)
    rows = [f"  {name:<12}" + "".join(f"{losses[name][s]:>16.3f}" for s in SETTINGS)
            for name in losses]  # fmt: skip
    text_out = "\n".join([TABLE_TITLE.get(), header, *rows])
    return LabReport(LAB, out, summary, artifacts, text=text_out, seconds=timer.seconds)
