"""Lab: a small Transformer learns to translate English number words into German.

    "three hundred twenty-one"  ->  "dreihunderteinundzwanzig"

Training follows the paper: label smoothing (section 5.4), Adam with beta2 = 0.98 and the
inverse-square-root learning rate with warm-up (section 5.3). The held-out numbers never
appear in training; the model is scored by writing their German form greedily, token by token,
and counting exact matches of the whole string. The cross-attention heatmap shows what the
decoder reads while it writes: to say "ein und zwanzig" it must look past "twenty" to "one".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from groundup.data import numbers
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.models.transformer import Seq2SeqTransformer, inverse_sqrt_lr
from groundup.nn.losses import cross_entropy


@dataclass
class Config(runner.LabConfig):
    train_size: int = 20_000  # distinct numbers to train on
    held_out: int = 1000  # other numbers, never trained on, for the exact-match score
    max_number: int = 999_999
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2  # encoder layers, and as many decoder layers
    dim_feedforward: int = 128
    dropout: float = 0.1
    norm_first: bool = True
    label_smoothing: float = 0.1
    warmup_iters: int = 200
    lr_factor: float = 2.0
    steps: int = 1000
    batch_size: int = 64
    eval_every: int = 250


PRESETS: dict[str, dict] = {
    "micro": {
        "train_size": 800,
        "held_out": 150,
        "max_number": 999,
        "d_model": 32,
        "n_heads": 2,
        "n_layers": 1,
        "dim_feedforward": 64,
        "steps": 300,
        "warmup_iters": 50,
        "eval_every": 100,
    },
    "tiny": {},
    "full": {"train_size": 100_000, "held_out": 5000, "d_model": 128, "steps": 6000},
}

FIELD_HELP: dict[str, Msg] = {
    "train_size": Msg(
        "how many distinct numbers the model trains on",
        "wie viele verschiedene Zahlen das Modell im Training sieht",
    ),
    "held_out": Msg(
        "numbers kept out of training, translated greedily for the exact-match score",
        "vom Training ausgeschlossene Zahlen, die für die Trefferquote gierig übersetzt werden",
    ),
    "max_number": Msg(
        "largest number drawn (0 up to this value)",
        "größte gezogene Zahl (von 0 bis zu diesem Wert)",
    ),
    "dim_feedforward": Msg(
        "width of the hidden layer of each position-wise feed-forward network",
        "Breite der verborgenen Schicht jedes positionsweisen Feed-Forward-Netzes",
    ),
    "norm_first": Msg(
        "true: pre-LN (normalise each sublayer's input); false: post-LN as in the paper",
        "true: Pre-LN (Eingabe jeder Teilschicht normalisieren); false: Post-LN wie im Paper",
    ),
    "label_smoothing": Msg(
        "share of the target probability spread evenly over all tokens",
        "Anteil der Zielwahrscheinlichkeit, der gleichmäßig auf alle Tokens verteilt wird",
    ),
    "lr_factor": Msg(
        "scale of the inverse-square-root schedule: lr = factor / sqrt(d_model) * ...",
        "Faktor des Zeitplans mit inverser Wurzel: lr = Faktor / sqrt(d_model) * ...",
    ),
}

TEXT = {
    "training": Msg("training", "Training"),
    "decoding": Msg("decoding held-out numbers", "Übersetzen der zurückgehaltenen Zahlen"),
    "no_data": Msg(
        "this lab generates its number pairs itself and takes no --data file",
        "dieses Lab erzeugt seine Zahlenpaare selbst und nimmt keine --data-Datei",
    ),
    "too_small": Msg(
        "{field} must be at least {least}, got {value}",
        "{field} muss mindestens {least} sein, ist aber {value}",
    ),
    "heads": Msg(
        "d_model ({d_model}) must be divisible by n_heads ({n_heads})",
        "d_model ({d_model}) muss durch n_heads ({n_heads}) teilbar sein",
    ),
    "too_many": Msg(
        "train_size + held_out ({count}) exceeds the {available} numbers from 0 to max_number",
        "train_size + held_out ({count}) übersteigt die {available} Zahlen von 0 bis max_number",
    ),
    "loss_title": Msg("Training loss (label-smoothed)", "Trainingsverlust (mit Label Smoothing)"),
    "map_title": Msg(
        "Cross-attention: what the decoder reads", "Cross-Attention: was der Decoder liest"
    ),
    "source": Msg("English source (keys)", "Englische Quelle (Keys)"),
    "target": Msg("German output (queries)", "Deutsche Ausgabe (Queries)"),
    "right": Msg("right", "richtig"),
    "wrong": Msg("WRONG, expected {answer}", "FALSCH, erwartet {answer}"),
}


def validate(cfg: Config) -> None:
    if cfg.data is not None:
        raise runner.LabError(TEXT["no_data"].get())
    for field, least in [("train_size", 1), ("held_out", 1), ("max_number", 1), ("d_model", 2),
                         ("n_heads", 1), ("n_layers", 1), ("dim_feedforward", 1), ("steps", 1),
                         ("batch_size", 1), ("eval_every", 1), ("warmup_iters", 1)]:  # fmt: skip
        if getattr(cfg, field) < least:
            raise runner.LabError(
                TEXT["too_small"].get(field=field, least=least, value=getattr(cfg, field))
            )
    if cfg.d_model % cfg.n_heads != 0:
        raise runner.LabError(TEXT["heads"].get(d_model=cfg.d_model, n_heads=cfg.n_heads))
    if cfg.train_size + cfg.held_out > cfg.max_number + 1:
        raise runner.LabError(
            TEXT["too_many"].get(count=cfg.train_size + cfg.held_out, available=cfg.max_number + 1)
        )


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # small matrices: a second thread mostly waits
        return train(cfg)


def loss_on(model: Seq2SeqTransformer, src: Tensor, tgt: Tensor, smoothing: float) -> Tensor:
    """Teacher forcing: read BOS y_1 .. y_{n-1}, predict y_1 .. y_n EOS; padding not counted."""
    logits = model(src, tgt[:, :-1])
    return cross_entropy(
        logits.transpose(1, 2), tgt[:, 1:], ignore_index=0, label_smoothing=smoothing
    )


@torch.no_grad()
def translate(model: Seq2SeqTransformer, src: Tensor, batch_size: int = 500) -> list[str]:
    model.eval()
    out: list[str] = []
    for start in range(0, src.size(0), batch_size):
        ids = model.greedy_decode(src[start : start + batch_size], bos_id=1, eos_id=2, max_len=24)
        out += [numbers.join_german(numbers.DE_VOCAB.decode(row.tolist())) for row in ids]
    return out


def train(cfg: Config) -> runner.LabReport:
    timer = runner.Timer()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, "transformer")
    log = runner.MetricsLog(out / "metrics.jsonl")

    train_numbers, held_numbers = numbers.split_numbers(
        cfg.train_size, cfg.held_out, cfg.max_number, cfg.seed
    )
    train_src, train_tgt = (t.to(device) for t in numbers.to_tensors(train_numbers))
    held_src, held_tgt = (t.to(device) for t in numbers.to_tensors(held_numbers))
    model = Seq2SeqTransformer(
        len(numbers.EN_VOCAB), len(numbers.DE_VOCAB), d_model=cfg.d_model, nhead=cfg.n_heads,
        num_encoder_layers=cfg.n_layers, num_decoder_layers=cfg.n_layers,
        dim_feedforward=cfg.dim_feedforward, dropout=cfg.dropout, norm_first=cfg.norm_first,
    ).to(device)  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    generator = torch.Generator().manual_seed(cfg.seed)

    losses: tuple[list[float], list[float]] = ([], [])
    held_losses: tuple[list[float], list[float]] = ([], [])
    with runner.progress(cfg.steps, TEXT["training"].get(), quiet=cfg.quiet) as bar:
        for step in range(1, cfg.steps + 1):
            model.train()
            lr = inverse_sqrt_lr(step, cfg.d_model, cfg.warmup_iters, cfg.lr_factor)
            for group in optimizer.param_groups:
                group["lr"] = lr
            rows = torch.randint(0, cfg.train_size, (cfg.batch_size,), generator=generator)
            src, tgt = train_src[rows.to(device)], train_tgt[rows.to(device)]
            src, tgt = trim(src), trim(tgt)
            loss = loss_on(model, src, tgt, cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[0].append(step)
            losses[1].append(loss.item())
            record = {"step": step, "loss": loss.item(), "lr": lr}
            if step % cfg.eval_every == 0 or step == cfg.steps:
                model.eval()
                with torch.no_grad():
                    held_loss = loss_on(model, held_src, held_tgt, cfg.label_smoothing).item()
                held_losses[0].append(step)
                held_losses[1].append(held_loss)
                record["held_out_loss"] = held_loss
            log.log(**record)
            bar.update(info=f"loss {loss.item():.3f} | lr {lr:.2e}")
    log.close()

    predictions = translate(model, held_src)
    answers = [numbers.german(n) for n in held_numbers]
    exact = sum(p == a for p, a in zip(predictions, answers, strict=True)) / len(answers)

    loss_png = runner.save_line_plot(
        out / "loss.png",
        {"train": losses, "held-out": held_losses},
        title=TEXT["loss_title"].get(),
        xlabel="step",
        ylabel="cross-entropy",
        logy=True,
    )
    example = max(held_numbers[:50], key=lambda n: len(numbers.german_pieces(n)))
    map_png = save_cross_attention(out / "cross_attention.png", model, example, device)
    lines = []
    for n, got, want in list(zip(held_numbers, predictions, answers, strict=True))[:6]:
        verdict = TEXT["right"].get() if got == want else TEXT["wrong"].get(answer=want)
        lines.append(f"{numbers.english(n)}  ->  {got}   {verdict}")

    return runner.LabReport(
        lab="transformer",
        out_dir=out,
        metrics={
            "first_loss": losses[1][0],
            "final_train_loss": sum(losses[1][-50:]) / len(losses[1][-50:]),
            "held_out_loss": held_losses[1][-1],
            "held_out_exact_match": exact,
            "held_out_numbers": len(held_numbers),
            "parameters": sum(p.numel() for p in model.parameters()),
            "steps": cfg.steps,
        },
        artifacts={"loss": loss_png, "cross_attention": map_png, "metrics": out / "metrics.jsonl"},
        text="\n".join(lines),
        seconds=timer.seconds,
    )


def trim(ids: Tensor) -> Tensor:
    """Drop columns that are padding in every row of the batch."""
    return ids[:, : int((ids != 0).sum(dim=1).max())]


@torch.no_grad()
def save_cross_attention(path: Path, model: Seq2SeqTransformer, n: int, device: str) -> Path:
    """Heatmap per decoder layer, averaged over heads: rows = German pieces being written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model.eval()
    src, _ = numbers.to_tensors([n])
    src = src.to(device)
    written = model.greedy_decode(src, bos_id=1, eos_id=2, max_len=24)
    tgt = torch.cat([torch.ones(1, 1, dtype=torch.long, device=device), written], dim=1)
    model.record_cross_attention(True)
    model(src, tgt[:, :-1])
    maps = [w[0].mean(dim=0).cpu() for w in model.cross_attention()]  # (T, S) per layer
    model.record_cross_attention(False)
    pieces = numbers.DE_VOCAB.decode(written[0].tolist())
    rows = [repr(p) if p == " " else p for p in pieces] + ["</s>"]
    columns = numbers.english_pieces(n)
    fig, axes = plt.subplots(1, len(maps), figsize=(5.5 * len(maps), 5.5), dpi=110, squeeze=False)
    for layer, (ax, weights) in enumerate(zip(axes[0], maps, strict=True)):
        shown = weights[: len(rows), : len(columns)].numpy()
        image = ax.imshow(shown, cmap="viridis", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right")
        ax.set_yticks(range(len(rows)), rows)
        ax.set_xlabel(TEXT["source"].get())
        ax.set_ylabel(TEXT["target"].get())
        ax.set_title(f"layer {layer + 1}")
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle(f"{TEXT['map_title'].get()}: {numbers.english(n)}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
