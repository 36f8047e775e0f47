"""Lab: a tiny attention-only model learns to reverse (or copy) a sequence of random tokens.

Each example reads `x_1 ... x_n | y_1 ... y_n` with `y` the reverse of `x`. The model
predicts every next token but is graded only after the delimiter `|`. The tokens are random,
so there is nothing to memorise: to write y_j the model must look back and find x_{n+1-j}.
Attention can do exactly that, and the learned weights show it: for reversal, the rows of the
output positions light up along the anti-diagonal of the input block.

Model: token + position embeddings, a few causal self-attention layers (groundup's own
MultiHeadAttention) with residual connections and LayerNorm, then a linear read-out.
No feed-forward layers, so every bit of routing is done by attention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.nn.attention import MultiHeadAttention, causal_mask

TASKS = ("reverse", "copy")


@dataclass
class Config(runner.LabConfig):
    task: str = "reverse"  # reverse | copy
    seq_len: int = 12  # n, tokens before the delimiter
    vocab: int = 16  # random tokens 0 .. vocab-1; the delimiter is one more token
    d_model: int = 64
    n_heads: int = 1
    n_layers: int = 1
    steps: int = 1200
    batch_size: int = 64
    lr: float = 3e-3
    eval_every: int = 100
    eval_size: int = 1000  # fresh sequences for the accuracy figures


PRESETS: dict[str, dict] = {
    "micro": {"seq_len": 5, "d_model": 32, "steps": 100, "eval_every": 25, "eval_size": 256},
    "tiny": {},
    "full": {
        "seq_len": 16,
        "vocab": 20,
        "d_model": 128,
        "n_heads": 2,
        "n_layers": 2,
        "steps": 5000,
    },
}

TEXT = {
    "training": Msg("training", "Training"),
    "no_data": Msg(
        "this lab generates its own random sequences and takes no --data file",
        "dieses Lab erzeugt seine Zufallsfolgen selbst und nimmt keine --data-Datei",
    ),
    "bad_task": Msg(
        "unknown task '{task}'; choose reverse or copy",
        "unbekannte Aufgabe '{task}'; wählen Sie reverse oder copy",
    ),
    "too_small": Msg(
        "{field} must be at least {least}, got {value}",
        "{field} muss mindestens {least} sein, ist aber {value}",
    ),
    "heads": Msg(
        "d_model ({d_model}) must be divisible by n_heads ({n_heads})",
        "d_model ({d_model}) muss durch n_heads ({n_heads}) teilbar sein",
    ),
    "loss_title": Msg(
        "Training loss (answer tokens only)", "Trainingsverlust (nur Antwort-Tokens)"
    ),
    "map_title": Msg("Learned attention weights", "Gelernte Attention-Gewichte"),
    "query": Msg("query position (reads)", "Query-Position (liest)"),
    "key": Msg("key position (is read)", "Key-Position (wird gelesen)"),
    "right": Msg("right", "richtig"),
    "wrong": Msg("WRONG, expected {answer}", "FALSCH, erwartet {answer}"),
}


# ---------------------------------------------------------------- data


def make_batch(cfg: Config, batch_size: int, generator: torch.Generator) -> Tensor:
    """(batch_size, 2n+1) token ids: n random tokens, the delimiter, then the answer."""
    source = torch.randint(0, cfg.vocab, (batch_size, cfg.seq_len), generator=generator)
    answer = source.flip(dims=[1]) if cfg.task == "reverse" else source
    delimiter = torch.full((batch_size, 1), cfg.vocab)
    return torch.cat([source, delimiter, answer], dim=1)


# ---------------------------------------------------------------- model


class AttentionLayer(nn.Module):
    """x + MultiHeadAttention(LayerNorm(x)) with a causal mask: each position reads the past."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)

    def forward(self, x: Tensor, need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
        h = self.norm(x)
        mask = causal_mask(x.size(1), device=x.device)
        out, weights = self.attn(
            h, h, h, mask=mask, need_weights=need_weights, average_weights=False
        )
        return x + out, weights


class AttentionOnlyModel(nn.Module):
    def __init__(self, cfg: Config) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(cfg.vocab + 1, cfg.d_model)  # + the delimiter
        self.pos_emb = nn.Embedding(2 * cfg.seq_len, cfg.d_model)
        self.layers = nn.ModuleList(
            AttentionLayer(cfg.d_model, cfg.n_heads) for _ in range(cfg.n_layers)
        )
        self.norm = nn.LayerNorm(cfg.d_model)
        self.readout = nn.Linear(cfg.d_model, cfg.vocab)  # the delimiter is never an answer

    def forward(self, tokens: Tensor, need_weights: bool = False) -> tuple[Tensor, list[Tensor]]:
        """Logits (B, T, vocab) and, if asked, each layer's weights (B, heads, T, T)."""
        positions = torch.arange(tokens.size(1), device=tokens.device)
        x = self.tok_emb(tokens) + self.pos_emb(positions)
        maps = []
        for layer in self.layers:
            x, weights = layer(x, need_weights)
            if weights is not None:
                maps.append(weights)
        return self.readout(self.norm(x)), maps


def answer_loss_and_accuracy(
    model: AttentionOnlyModel, batch: Tensor, n: int
) -> tuple[Tensor, Tensor]:
    """Cross-entropy and token accuracy on the n answer tokens, given the true prefix."""
    inputs, targets = batch[:, :-1], batch[:, 1:]
    logits, _ = model(inputs)
    # Position n holds the delimiter and predicts y_1; positions n .. 2n-1 predict the answer.
    logits, targets = logits[:, n:], targets[:, n:]
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
    return loss, (logits.argmax(-1) == targets).float().mean()


def source_positions(cfg: Config) -> Tensor:
    """For the queries at positions n .. 2n-1, the input position holding what they must write."""
    j = torch.arange(cfg.seq_len)  # query n + j predicts y_{j+1}
    return cfg.seq_len - 1 - j if cfg.task == "reverse" else j


def attention_to_source(maps: list[Tensor], cfg: Config) -> float:
    """How much weight the answer queries put on the one input token they must copy.

    maps: each layer's weights (B, heads, T, T). Per query we take the best layer and head,
    then average over queries and examples: 1.0 means a perfectly sharp (anti-)diagonal.
    """
    n = cfg.seq_len
    answer_rows = torch.stack([m[:, :, n : 2 * n, :] for m in maps], dim=1)  # (B, L, H, n, T)
    index = source_positions(cfg).to(answer_rows.device)
    on_source = answer_rows[..., torch.arange(n, device=index.device), index]  # (B, L, H, n)
    return on_source.flatten(1, 2).amax(dim=1).mean().item()


@torch.no_grad()
def generate_answers(model: AttentionOnlyModel, batch: Tensor, n: int) -> Tensor:
    """Greedy decoding: from `x_1..x_n |` alone, write n tokens one at a time."""
    tokens = batch[:, : n + 1]
    for _ in range(n):
        logits, _ = model(tokens)
        tokens = torch.cat([tokens, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return tokens[:, n + 1 :]


# ---------------------------------------------------------------- the experiment


def validate(cfg: Config) -> None:
    if cfg.data is not None:
        raise runner.LabError(TEXT["no_data"].get())
    if cfg.task not in TASKS:
        raise runner.LabError(TEXT["bad_task"].get(task=cfg.task))
    for field, least in [("seq_len", 2), ("vocab", 2), ("d_model", 1), ("n_heads", 1),
                         ("n_layers", 1), ("steps", 1), ("batch_size", 1), ("eval_every", 1),
                         ("eval_size", 1)]:  # fmt: skip
        if getattr(cfg, field) < least:
            raise runner.LabError(
                TEXT["too_small"].get(field=field, least=least, value=getattr(cfg, field))
            )
    if cfg.d_model % cfg.n_heads != 0:
        raise runner.LabError(TEXT["heads"].get(d_model=cfg.d_model, n_heads=cfg.n_heads))


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        return train(cfg)


def train(cfg: Config) -> runner.LabReport:
    timer = runner.Timer()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, "attention")
    log = runner.MetricsLog(out / "metrics.jsonl")

    n = cfg.seq_len
    train_gen = torch.Generator().manual_seed(cfg.seed)
    eval_batch = make_batch(cfg, cfg.eval_size, torch.Generator().manual_seed(cfg.seed + 10_000))
    eval_batch = eval_batch.to(device)
    model = AttentionOnlyModel(cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    # Linear warm-up, then cosine decay to a tenth: large steps early, fine ones at the end.
    warmup = max(1, cfg.steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return cfg.lr * (step + 1) / warmup
        progress = (step - warmup) / max(1, cfg.steps - warmup)
        return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    losses: tuple[list[float], list[float]] = ([], [])
    eval_losses: tuple[list[float], list[float]] = ([], [])
    eval_accuracy = float("nan")
    with runner.progress(cfg.steps, TEXT["training"].get(), quiet=cfg.quiet) as bar:
        for step in range(1, cfg.steps + 1):
            model.train()
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step - 1)
            batch = make_batch(cfg, cfg.batch_size, train_gen).to(device)
            loss, accuracy = answer_loss_and_accuracy(model, batch, n)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[0].append(step)
            losses[1].append(loss.item())
            record = {"step": step, "loss": loss.item(), "train_accuracy": accuracy.item()}
            if step % cfg.eval_every == 0 or step == cfg.steps:
                model.eval()
                with torch.no_grad():
                    eval_loss, eval_acc = answer_loss_and_accuracy(model, eval_batch, n)
                eval_accuracy = eval_acc.item()
                eval_losses[0].append(step)
                eval_losses[1].append(eval_loss.item())
                record.update(eval_loss=eval_loss.item(), eval_accuracy=eval_accuracy)
            log.log(**record)
            bar.update(info=f"loss {loss.item():.3f} | eval acc {eval_accuracy:.3f}")
    log.close()

    model.eval()
    generated = generate_answers(model, eval_batch, n)
    answers = eval_batch[:, n + 1 :]
    sequence_accuracy = (generated == answers).all(dim=1).float().mean().item()
    with torch.no_grad():
        _, maps = model(eval_batch[:256, :-1], need_weights=True)

    loss_png = runner.save_line_plot(
        out / "loss.png",
        {"train": losses, "eval": eval_losses},
        title=TEXT["loss_title"].get(),
        xlabel="step",
        ylabel="cross-entropy",
        logy=True,
    )
    example = eval_batch[0, :-1].cpu()
    map_png = save_attention_map(
        out / "attention_map.png", [m[0].cpu() for m in maps], example, cfg
    )

    report = runner.LabReport(
        lab="attention",
        out_dir=out,
        metrics={
            "task": cfg.task,
            "first_loss": losses[1][0],
            "final_eval_loss": eval_losses[1][-1],
            "token_accuracy": eval_accuracy,
            "sequence_accuracy": sequence_accuracy,
            "attention_to_source": attention_to_source(maps, cfg),
            "chance_accuracy": 1 / cfg.vocab,
            "steps": cfg.steps,
        },
        artifacts={"loss": loss_png, "attention_map": map_png, "metrics": out / "metrics.jsonl"},
        text=examples(eval_batch[:4, : n + 1], generated[:4], answers[:4], cfg),
        seconds=timer.seconds,
    )
    return report


# ---------------------------------------------------------------- what to look at


def token_names(tokens: Tensor, cfg: Config) -> list[str]:
    return ["|" if t == cfg.vocab else str(int(t)) for t in tokens]


def examples(prompts: Tensor, generated: Tensor, answers: Tensor, cfg: Config) -> str:
    lines = []
    for prompt, got, want in zip(prompts, generated, answers, strict=True):
        verdict = (
            TEXT["right"].get()
            if torch.equal(got, want)
            else TEXT["wrong"].get(answer=" ".join(token_names(want, cfg)))
        )
        lines.append(" ".join(token_names(torch.cat([prompt, got]), cfg)) + "   " + verdict)
    return "\n".join(lines)


def save_attention_map(path: Path, maps: list[Tensor], tokens: Tensor, cfg: Config) -> Path:
    """One heatmap per layer and head: row = the position that reads, column = what it reads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers, heads = len(maps), maps[0].size(0)
    names = token_names(tokens, cfg)
    fig, axes = plt.subplots(
        layers, heads, figsize=(5.2 * heads, 5 * layers), dpi=110, squeeze=False
    )
    for layer, row in enumerate(axes):
        for head, ax in enumerate(row):
            image = ax.imshow(maps[layer][head].numpy(), cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks(range(len(names)), names, rotation=90)
            ax.set_yticks(range(len(names)), names)
            ax.tick_params(labelsize=8 if len(names) > 20 else 10)
            ax.set_xlabel(TEXT["key"].get())
            ax.set_ylabel(TEXT["query"].get())
            ax.set_title(f"layer {layer + 1}, head {head + 1}")
            fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle(f"{TEXT['map_title'].get()} ({cfg.task})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
