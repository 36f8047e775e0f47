"""Lab: what attention buys a recurrent encoder-decoder, on the number-translation task.

    "three hundred twenty-one"  ->  "dreihunderteinundzwanzig"

Three GRU encoder-decoders (groundup.models.seq2seq) train with the same data, width, steps
and optimiser, by teacher forcing:

  none      no attention: the decoder sees the source only through the encoder's final
            state, one fixed-size vector for a number of any length (Cho et al. 2014)
  bahdanau  additive attention, queried with the previous decoder state (Bahdanau et al.)
  luong     general (bilinear) attention on the current state, with input feeding (Luong)

The held-out numbers never appear in training. Each model translates them greedily; the lab
reports exact match of the German spelling and BLEU (groundup.metrics.bleu, equal to
sacreBLEU) on the word pieces, because the real spelling glues a number into one "word" and
BLEU on it is little more than exact match. It then plots the loss curves, exact match
against the length of the source (where the fixed-size bottleneck shows), the attention
weights of a few held-out numbers, and compares greedy search with beam search of widths
1, 3 and 5 (groundup.models.decoding; beam width 1 is greedy search).

With --data DIR it reads a line-aligned parallel corpus instead (DIR/train.en and
DIR/train.de, groundup.data.parallel), split into words by BLEU's 13a tokenizer, and reports
BLEU on DIR/test.* (else DIR/valid.* or DIR/dev.*, else the last `held_out` training pairs,
at most a fifth of them).
"""

from __future__ import annotations

import csv
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from groundup.data import numbers
from groundup.data.parallel import ParallelFormatError, read_parallel_split
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.metrics.bleu import corpus_bleu, tokenize_13a
from groundup.models.decoding import beam_search, greedy_search
from groundup.models.seq2seq import Seq2Seq

LAB = "seq2seq_attention"
PAD, BOS, EOS, UNK = 0, 1, 2, 3
MODELS = {  # name -> (style, score)
    "none": ("none", "additive"),
    "bahdanau": ("bahdanau", "additive"),
    "luong": ("luong", "general"),
}
BEAM_WIDTHS = (1, 3, 5)


@dataclass
class Config(runner.LabConfig):
    train_size: int = 20_000  # distinct numbers to train on
    held_out: int = 500  # other numbers (or corpus pairs), never trained on
    max_number: int = 999_999_999
    embed_size: int = 32
    hidden_size: int = 32  # per encoder direction; the decoder state has the same width
    steps: int = 700  # for each of the three models
    batch_size: int = 64
    lr: float = 3e-3
    grad_clip: float = 1.0
    eval_every: int = 100
    length_penalty: float = 1.0
    beam_examples: int = 300  # held-out examples decoded with every beam width
    max_vocab: int = 8000  # --data: most frequent words kept per language, the rest <unk>
    max_tokens: int = 30  # --data: longer training pairs are skipped, sources cut


PRESETS: dict[str, dict] = {
    "micro": {
        "train_size": 1000,
        "held_out": 120,
        "max_number": 999_999,
        "embed_size": 16,
        "hidden_size": 24,
        "steps": 150,
        "eval_every": 50,
        "beam_examples": 30,
    },
    "tiny": {},
    "full": {
        "train_size": 100_000,
        "held_out": 2000,
        "hidden_size": 64,
        "steps": 4000,
        "eval_every": 250,
        "beam_examples": 1000,
    },
}

FIELD_HELP: dict[str, Msg] = {
    "train_size": Msg(
        "how many distinct numbers the models train on",
        "wie viele verschiedene Zahlen die Modelle im Training sehen",
    ),
    "held_out": Msg(
        "numbers (or corpus pairs) kept out of training, translated for the scores",
        "vom Training ausgeschlossene Zahlen (oder Satzpaare), die für die Bewertung übersetzt "
        "werden",
    ),
    "max_number": Msg(
        "largest number drawn (0 up to this value)",
        "größte gezogene Zahl (von 0 bis zu diesem Wert)",
    ),
    "embed_size": Msg(
        "width of the token embeddings of encoder and decoder",
        "Breite der Token-Embeddings von Encoder und Decoder",
    ),
    "hidden_size": Msg(
        "GRU state width (per direction in the bidirectional encoder)",
        "Breite des GRU-Zustands (je Richtung im bidirektionalen Encoder)",
    ),
    "length_penalty": Msg(
        "beam search ranks a hypothesis by log-probability / length ** this (0: no penalty)",
        "Beam Search bewertet eine Hypothese mit Log-Wahrscheinlichkeit / Länge ** diesem Wert "
        "(0: keine Korrektur)",
    ),
    "beam_examples": Msg(
        "held-out examples decoded with every beam width for the beam-search table",
        "zurückgehaltene Beispiele, die für die Beam-Search-Tabelle mit jeder Strahlbreite "
        "dekodiert werden",
    ),
    "max_vocab": Msg(
        "with --data: the most frequent words kept per language; the others become <unk>",
        "mit --data: die häufigsten Wörter je Sprache; alle anderen werden zu <unk>",
    ),
    "max_tokens": Msg(
        "with --data: longer training pairs are skipped and longer sources cut",
        "mit --data: längere Trainingspaare werden übersprungen, längere Quellsätze gekürzt",
    ),
}

TEXT = {
    "training": Msg("training {model}", "Training {model}"),
    "decoding": Msg("beam search", "Beam Search"),
    "only_cpu": Msg(
        "this lab runs its recurrences step by step with small batches, on the CPU only; "
        "use --device cpu or auto",
        "dieses Lab rechnet seine Rekurrenzen Schritt für Schritt mit kleinen Batches und "
        "läuft nur auf der CPU; nehmen Sie --device cpu oder auto",
    ),
    "too_small": Msg(
        "{field} must be at least {least}, got {value}",
        "{field} muss mindestens {least} sein, ist aber {value}",
    ),
    "too_many": Msg(
        "train_size + held_out ({count}) exceeds the {available} numbers from 0 to max_number",
        "train_size + held_out ({count}) übersteigt die {available} Zahlen von 0 bis max_number",
    ),
    "bad_data": Msg(
        "--data must be a folder with train.en and train.de (line i of one is the "
        "translation of line i of the other): {detail}",
        "--data muss ein Ordner mit train.en und train.de sein (Zeile i der einen Datei ist "
        "die Übersetzung von Zeile i der anderen): {detail}",
    ),
    "few_pairs": Msg(
        "{source}: {count} usable training pairs; at least 2 are needed",
        "{source}: {count} brauchbare Trainingspaare; mindestens 2 sind nötig",
    ),
    "loss_title": Msg(
        "Training loss, same budget for all three",
        "Trainingsverlust, gleiches Budget für alle drei",
    ),
    "length_title": Msg(
        "Held-out exact match by source length",
        "Exakte Treffer nach Quelllänge (zurückgehaltene Daten)",
    ),
    "length_axis": Msg("source length (tokens)", "Quelllänge (Tokens)"),
    "map_title": Msg(
        "Attention weights: which source token each output token reads",
        "Attention-Gewichte: welches Quelltoken jedes Ausgabetoken liest",
    ),
    "source": Msg("source", "Quelle"),
    "target": Msg("output", "Ausgabe"),
    "right": Msg("right", "richtig"),
    "wrong": Msg("WRONG, expected {answer}", "FALSCH, erwartet {answer}"),
}


# ---------------------------------------------------------------- the task as tensors


@dataclass
class Task:
    """Training and held-out pairs as padded id tensors, and how to turn output into text."""

    name: str
    src_vocab: numbers.Vocab
    tgt_vocab: numbers.Vocab
    train_src: Tensor  # (N, S) ids, padded with 0
    train_tgt: Tensor  # (N, T) BOS ... EOS, padded with 0
    held_src: Tensor
    held_tgt: Tensor
    held_source_tokens: list[list[str]]
    references: list[str]  # the held-out targets as text, for exact match
    bleu_references: list[str]  # the text BLEU compares with
    to_text: Callable[[list[str]], str]  # output pieces -> text for exact match
    to_bleu_text: Callable[[list[str]], str]  # output pieces -> text for BLEU


def draw_numbers(
    count: int, held_out: int, max_number: int, seed: int
) -> tuple[list[int], list[int]]:
    """Distinct numbers whose digit count is uniform (then the value uniform within it), so
    short and long numbers are equally common; drawn uniformly from 0..10^9 almost all would
    have nine digits. Disjoint train/held-out split."""
    rng = random.Random(seed)
    digits = len(str(max_number))
    if count + held_out > max_number + 1:
        raise ValueError(f"cannot draw {count + held_out} distinct numbers from 0..{max_number}")
    drawn: dict[int, None] = {}  # insertion-ordered set: the split does not depend on hashing
    while len(drawn) < count + held_out:
        d = rng.randint(1, digits)
        low = 0 if d == 1 else 10 ** (d - 1)
        drawn[rng.randint(low, min(10**d - 1, max_number))] = None
    chosen = list(drawn)
    rng.shuffle(chosen)  # the few short numbers would otherwise all land in training
    return chosen[:count], chosen[count:]


def number_task(cfg: Config) -> Task:
    train_numbers, held_numbers = draw_numbers(
        cfg.train_size, cfg.held_out, cfg.max_number, cfg.seed
    )
    train_src, train_tgt = numbers.to_tensors(train_numbers)
    held_src, held_tgt = numbers.to_tensors(held_numbers)
    return Task(
        name="numbers",
        src_vocab=numbers.EN_VOCAB,
        tgt_vocab=numbers.DE_VOCAB,
        train_src=train_src,
        train_tgt=train_tgt,
        held_src=held_src,
        held_tgt=held_tgt,
        held_source_tokens=[numbers.english_pieces(n) for n in held_numbers],
        references=[numbers.german(n) for n in held_numbers],
        # BLEU on pieces ("drei hundert ein und zwanzig"): on the glued spelling a number
        # is one token and BLEU could give no partial credit
        bleu_references=[" ".join(numbers.german_pieces(n)) for n in held_numbers],
        to_text=numbers.join_german,
        to_bleu_text=" ".join,
    )


def build_vocab(sentences: list[list[str]], max_vocab: int) -> numbers.Vocab:
    counts = Counter(token for sentence in sentences for token in sentence)
    kept = [token for token, _ in counts.most_common(max_vocab)]
    return numbers.Vocab(("<pad>", "<s>", "</s>", "<unk>", *kept))


def encode(vocab: numbers.Vocab, tokens: list[str]) -> list[int]:
    index = vocab.index
    return [index.get(token, UNK) for token in tokens]


def pad(rows: list[list[int]]) -> Tensor:
    out = torch.zeros(len(rows), max(len(r) for r in rows), dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def corpus_task(cfg: Config, folder: str) -> Task:
    """A parallel corpus, split into words by the 13a tokenizer that BLEU also uses."""
    try:
        train_pairs = read_parallel_split(folder, "train")
        held_pairs = None
        for split in ("test", "valid", "dev"):
            if (Path(folder) / f"{split}.en").exists():
                held_pairs = read_parallel_split(folder, split)[: cfg.held_out]
                break
    except ParallelFormatError as error:
        raise runner.LabError(TEXT["bad_data"].get(detail=str(error))) from None
    if held_pairs is None:  # no test split: hold out the end of train
        cut = max(1, min(cfg.held_out, len(train_pairs) // 5))
        train_pairs, held_pairs = train_pairs[:-cut], train_pairs[-cut:]
    split = [(tokenize_13a(en).split(), tokenize_13a(de).split()) for en, de in train_pairs]
    split = [(en, de) for en, de in split if len(en) <= cfg.max_tokens >= len(de)]
    if len(split) < 2:
        raise runner.LabError(TEXT["few_pairs"].get(source=folder, count=len(split)))
    src_vocab = build_vocab([en for en, _ in split], cfg.max_vocab)
    tgt_vocab = build_vocab([de for _, de in split], cfg.max_vocab)
    held_en = [tokenize_13a(en).split()[: cfg.max_tokens] for en, _ in held_pairs]
    held_de = [tokenize_13a(de).split() for _, de in held_pairs]
    references = [de for _, de in held_pairs]
    return Task(
        name=Path(folder).name,
        src_vocab=src_vocab,
        tgt_vocab=tgt_vocab,
        train_src=pad([encode(src_vocab, en) for en, _ in split]),
        train_tgt=pad([[BOS, *encode(tgt_vocab, de), EOS] for _, de in split]),
        held_src=pad([encode(src_vocab, en) or [UNK] for en in held_en]),
        held_tgt=pad([[BOS, *encode(tgt_vocab, de[: cfg.max_tokens]), EOS] for de in held_de]),
        held_source_tokens=held_en,
        references=[" ".join(de) for de in held_de],
        bleu_references=references,  # BLEU tokenizes the raw reference itself
        to_text=" ".join,
        to_bleu_text=" ".join,
    )


# ---------------------------------------------------------------- training


def lengths_of(ids: Tensor) -> Tensor:
    return (ids != PAD).sum(dim=1).clamp(min=1)


def trim(ids: Tensor) -> Tensor:
    """Drop columns that are padding in every row of the batch."""
    return ids[:, : int(lengths_of(ids).max())]


def loss_on(model: Seq2Seq, src: Tensor, tgt: Tensor) -> Tensor:
    """Teacher forcing: read BOS y_1 .. y_{n-1}, predict y_1 .. y_n EOS; padding not counted."""
    src, tgt = trim(src), trim(tgt)
    logits, _ = model(src, lengths_of(src), tgt[:, :-1])
    return F.cross_entropy(logits.flatten(0, 1), tgt[:, 1:].flatten(), ignore_index=PAD)


def train_model(
    name: str, task: Task, cfg: Config, log: runner.MetricsLog
) -> tuple[Seq2Seq, dict[str, list[float]]]:
    style, score = MODELS[name]
    torch.manual_seed(cfg.seed)  # the same initial embeddings and encoder for every model
    model = Seq2Seq(
        len(task.src_vocab),
        len(task.tgt_vocab),
        cfg.embed_size,
        cfg.hidden_size,
        style=style,
        score=score,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    generator = torch.Generator().manual_seed(cfg.seed)  # the same batches for every model
    curves: dict[str, list[float]] = {"step": [], "loss": [], "eval_step": [], "held_loss": []}
    n = task.train_src.size(0)
    with runner.progress(cfg.steps, TEXT["training"].get(model=name), quiet=cfg.quiet) as bar:
        for step in range(1, cfg.steps + 1):
            model.train()
            rows = torch.randint(0, n, (cfg.batch_size,), generator=generator)
            loss = loss_on(model, task.train_src[rows], task.train_tgt[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            curves["step"].append(step)
            curves["loss"].append(loss.item())
            record = {"model": name, "step": step, "loss": loss.item()}
            if step % cfg.eval_every == 0 or step == cfg.steps:
                model.eval()
                with torch.no_grad():
                    held = loss_on(model, task.held_src, task.held_tgt).item()
                curves["eval_step"].append(step)
                curves["held_loss"].append(held)
                record["held_out_loss"] = held
            log.log(**record)
            bar.update(info=f"loss {loss.item():.3f}")
    return model, curves


# ---------------------------------------------------------------- decoding and scores


def max_output(task: Task) -> int:
    return task.held_tgt.size(1) + 2


def step_function(model: Seq2Seq, src: Tensor, beams: int) -> Callable[[Tensor], Tensor]:
    """For greedy_search / beam_search: tokens so far (N, t) -> next-token logits (N, V).
    The source is encoded once; row i of the N = B * beams rows belongs to source i // beams.
    Each call re-runs the decoder over the whole prefix (no cache): simple, fast enough."""
    keys, mask, final = model.encode(src, lengths_of(src))
    keys, mask, final = (x.repeat_interleave(beams, dim=0) for x in (keys, mask, final))

    def step(tokens: Tensor) -> Tensor:
        logits, _ = model.decoder(tokens, keys, mask, final)
        return logits[:, -1]

    return step


@torch.no_grad()
def translate(model: Seq2Seq, task: Task, src: Tensor, batch: int = 250) -> list[list[str]]:
    """Greedy output pieces (the library's stepwise greedy decoder, O(T) per sequence)."""
    model.eval()
    out: list[list[str]] = []
    for start in range(0, src.size(0), batch):
        chunk = trim(src[start : start + batch])
        ids, _ = model.greedy(chunk, lengths_of(chunk), BOS, max_output(task), EOS)
        out += [task.tgt_vocab.decode(row.tolist()) for row in ids]
    return out


@torch.no_grad()
def search(
    model: Seq2Seq, task: Task, src: Tensor, beams: int, length_penalty: float, batch: int = 100
) -> list[list[str]]:
    """Output pieces by greedy_search (beams = 0) or beam_search with `beams` beams."""
    model.eval()
    out: list[list[str]] = []
    for start in range(0, src.size(0), batch):
        chunk = trim(src[start : start + batch])
        prompt = torch.full((chunk.size(0), 1), BOS, dtype=torch.long)
        step = step_function(model, chunk, max(beams, 1))
        if beams == 0:
            result = greedy_search(step, prompt, max_output(task), EOS, PAD)
        else:
            result = beam_search(
                step,
                prompt,
                beams,
                max_output(task),
                length_penalty,
                eos_token_id=EOS,
                pad_token_id=PAD,
            )
        out += [task.tgt_vocab.decode(row[1:].tolist()) for row in result.sequences]
    return out


def scores(task: Task, outputs: list[list[str]], count: int | None = None) -> dict[str, float]:
    """Exact match of the text, BLEU (sacreBLEU's defaults) and mean output length."""
    count = len(outputs) if count is None else count
    texts = [task.to_text(pieces) for pieces in outputs]
    exact = sum(t == r for t, r in zip(texts, task.references[:count], strict=True)) / count
    bleu = corpus_bleu([task.to_bleu_text(p) for p in outputs], [task.bleu_references[:count]])
    length = sum(len(p) for p in outputs) / count
    return {"exact_match": exact, "bleu": bleu.score, "mean_length": length}


def exact_by_length(task: Task, outputs: list[list[str]]) -> dict[int, float]:
    hits: dict[int, list[bool]] = defaultdict(list)
    for tokens, pieces, reference in zip(
        task.held_source_tokens, outputs, task.references, strict=True
    ):
        hits[len(tokens)].append(task.to_text(pieces) == reference)
    return {n: sum(h) / len(h) for n, h in sorted(hits.items())}


# ---------------------------------------------------------------- plots


def save_loss_plot(path: Path, curves: dict[str, dict[str, list[float]]]) -> Path:
    """Training loss (running mean) solid, held-out loss dashed, one colour per model."""
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for i, (name, c) in enumerate(curves.items()):
        color = f"C{i}"
        ax.plot(c["step"], smooth(c["loss"]), color=color, label=f"{name} train")
        ax.plot(
            c["eval_step"],
            c["held_loss"],
            "--o",
            color=color,
            markersize=3,
            label=f"{name} held-out",
        )
    ax.set_yscale("log")
    ax.set_title(TEXT["loss_title"].get())
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def save_length_plot(path: Path, by_model: dict[str, dict[int, float]], task: Task) -> Path:
    plt = runner.pyplot()
    counts = Counter(len(tokens) for tokens in task.held_source_tokens)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for name, by_length in by_model.items():
        shown = {n: v for n, v in by_length.items() if counts[n] >= 5}  # no one-example points
        ax.plot(list(shown), list(shown.values()), marker="o", markersize=3, label=name)
    ax2 = ax.twinx()  # how many examples each point stands on
    ax2.bar(list(counts), list(counts.values()), color="grey", alpha=0.15, width=0.8)
    ax2.set_ylabel("examples")
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(TEXT["length_title"].get())
    ax.set_xlabel(TEXT["length_axis"].get())
    ax.set_ylabel("exact match")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


@torch.no_grad()
def save_alignments(
    path: Path, models: dict[str, Seq2Seq], task: Task, examples: list[int]
) -> Path:
    """One heatmap per (attentive model, example): rows = output tokens, columns = source."""
    plt = runner.pyplot()
    names = [name for name in models if MODELS[name][0] != "none"]
    fig, axes = plt.subplots(
        len(names),
        len(examples),
        dpi=100,
        squeeze=False,
        figsize=(4.6 * len(examples), 4.4 * len(names)),
    )
    for row, name in enumerate(names):
        model = models[name].eval()
        for col, i in enumerate(examples):
            src = trim(task.held_src[i : i + 1])
            ids, weights = model.greedy(src, lengths_of(src), BOS, max_output(task), EOS)
            pieces = task.tgt_vocab.decode(ids[0].tolist())
            rows = [repr(p) if p.isspace() else p for p in pieces] + ["</s>"]
            columns = task.held_source_tokens[i][: src.size(1)]
            shown = weights[0, : len(rows), : len(columns)].numpy()
            ax = axes[row][col]
            ax.imshow(shown, cmap="viridis", vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=8)
            ax.set_yticks(range(len(rows)), rows, fontsize=8)
            ax.set_title(f"{name}: {' '.join(columns)}"[:60], fontsize=9)
            if col == 0:
                ax.set_ylabel(TEXT["target"].get())
            if row == len(names) - 1:
                ax.set_xlabel(TEXT["source"].get())
    fig.suptitle(TEXT["map_title"].get())
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- the lab


def validate(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise runner.LabError(TEXT["only_cpu"].get())
    for field, least in [
        ("train_size", 2),
        ("held_out", 1),
        ("max_number", 1),
        ("embed_size", 1),
        ("hidden_size", 1),
        ("steps", 1),
        ("batch_size", 1),
        ("eval_every", 1),
        ("beam_examples", 1),
        ("max_vocab", 1),
        ("max_tokens", 1),
    ]:
        value = getattr(cfg, field)
        if value < least:
            raise runner.LabError(TEXT["too_small"].get(field=field, least=least, value=value))
    if cfg.length_penalty < 0:
        raise runner.LabError(
            TEXT["too_small"].get(field="length_penalty", least=0, value=cfg.length_penalty)
        )
    if cfg.data is None and cfg.train_size + cfg.held_out > cfg.max_number + 1:
        raise runner.LabError(
            TEXT["too_many"].get(count=cfg.train_size + cfg.held_out, available=cfg.max_number + 1)
        )


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # small matrices: a second thread mostly waits
        return experiment(cfg)


def experiment(cfg: Config) -> runner.LabReport:
    timer, cpu_start = runner.Timer(), time.process_time()
    out = runner.start(cfg, LAB)
    task = number_task(cfg) if cfg.data is None else corpus_task(cfg, cfg.data)
    log = runner.MetricsLog(out / "metrics.jsonl")

    models: dict[str, Seq2Seq] = {}
    curves: dict[str, dict[str, list[float]]] = {}
    for name in MODELS:
        models[name], curves[name] = train_model(name, task, cfg, log)

    metrics: dict[str, float | int | str] = {"task": task.name}
    metrics["held_out_examples"] = task.held_src.size(0)
    greedy_outputs, by_length = {}, {}
    for name, model in models.items():
        greedy_outputs[name] = translate(model, task, task.held_src)
        result = scores(task, greedy_outputs[name])
        by_length[name] = exact_by_length(task, greedy_outputs[name])
        metrics[f"{name}_first_loss"] = curves[name]["loss"][0]
        last = curves[name]["loss"][-20:]
        metrics[f"{name}_final_loss"] = sum(last) / len(last)
        metrics[f"{name}_held_out_loss"] = curves[name]["held_loss"][-1]
        metrics[f"{name}_exact_match"] = result["exact_match"]
        metrics[f"{name}_bleu"] = result["bleu"]
        log.log(model=name, **result, exact_by_length=by_length[name])
    metrics.update(long_source_metrics(task, greedy_outputs))

    beam_rows = beam_table(models, task, cfg)
    log.close()
    exact = {(row["model"], row["search"]): row["exact_match"] for row in beam_rows}
    for name, model in models.items():
        metrics[f"{name}_beam5_gain"] = exact[name, "beam5"] - exact[name, "greedy"]
        metrics[f"{name}_parameters"] = sum(p.numel() for p in model.parameters())
    metrics["steps_per_model"] = cfg.steps

    with open(out / "beam_search.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(beam_rows[0]))
        writer.writeheader()
        writer.writerows(beam_rows)
    loss_png = save_loss_plot(out / "loss.png", curves)
    length_png = save_length_plot(out / "exact_by_length.png", by_length, task)
    examples = pick_examples(task)
    map_png = save_alignments(out / "alignments.png", models, task, examples)
    metrics["cpu_seconds"] = round(time.process_time() - cpu_start, 1)

    return runner.LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts={
            "loss": loss_png,
            "exact_by_length": length_png,
            "alignments": map_png,
            "beam_search": out / "beam_search.csv",
            "metrics": out / "metrics.jsonl",
        },
        text=summary_text(task, greedy_outputs, beam_rows),
        seconds=timer.seconds,
    )


def smooth(values: list[float], window: int = 20) -> list[float]:
    """Running mean over the last `window` steps: one batch's loss is noisy."""
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def long_source_metrics(task: Task, outputs: dict[str, list[list[str]]]) -> dict[str, float]:
    """Exact match on the longest quarter of the held-out sources, where a fixed-size
    summary has to carry the most."""
    lengths = sorted(len(tokens) for tokens in task.held_source_tokens)
    threshold = lengths[(3 * len(lengths)) // 4]
    long = [i for i, t in enumerate(task.held_source_tokens) if len(t) >= threshold]
    metrics: dict[str, float] = {"long_source_min_tokens": threshold}
    for name, pieces in outputs.items():
        hits = [task.to_text(pieces[i]) == task.references[i] for i in long]
        metrics[f"{name}_exact_match_long"] = sum(hits) / len(hits)
    return metrics


def beam_table(models: dict[str, Seq2Seq], task: Task, cfg: Config) -> list[dict]:
    """Greedy search, then beam widths 1, 3, 5 with the length penalty, and width 5 without it."""
    count = min(cfg.beam_examples, task.held_src.size(0))
    src = task.held_src[:count]
    searches = [("greedy", 0, 0.0)] + [(f"beam{k}", k, cfg.length_penalty) for k in BEAM_WIDTHS]
    searches.append(("beam5_no_penalty", 5, 0.0))
    rows = []
    with runner.progress(
        len(models) * len(searches), TEXT["decoding"].get(), quiet=cfg.quiet
    ) as bar:
        for name, model in models.items():
            greedy = None
            for label, beams, penalty in searches:
                outputs = search(model, task, src, beams, penalty)
                if beams == 0:
                    greedy = outputs
                row = {
                    "model": name,
                    "search": label,
                    "length_penalty": penalty,
                    **scores(task, outputs, count),
                }
                if beams == 1:
                    row["same_as_greedy"] = outputs == greedy
                rows.append(row)
                bar.update(info=f"{name} {label}")
    for row in rows:
        row.setdefault("same_as_greedy", "")
    return rows


def pick_examples(task: Task, count: int = 3) -> list[int]:
    """Held-out examples of short, middle and long source length."""
    order = sorted(
        range(len(task.held_source_tokens)), key=lambda i: (len(task.held_source_tokens[i]), i)
    )
    return sorted({order[int(q * (len(order) - 1))] for q in (0.5, 0.8, 1.0)})[:count]


def summary_text(task: Task, outputs: dict[str, list[list[str]]], beam_rows: list[dict]) -> str:
    lines = []
    for i in pick_examples(task):
        lines.append(" ".join(task.held_source_tokens[i]))
        for name, pieces in outputs.items():
            got = task.to_text(pieces[i])
            verdict = (
                TEXT["right"].get()
                if got == task.references[i]
                else TEXT["wrong"].get(answer=task.references[i])
            )
            lines.append(f"  {name:9s} -> {got}   {verdict}")
    lines.append("")
    lines.append(f"{'model':9s} {'search':17s} {'exact':>6s} {'BLEU':>6s} {'length':>6s}")
    for row in beam_rows:
        lines.append(
            f"{row['model']:9s} {row['search']:17s} {row['exact_match']:6.3f} "
            f"{row['bleu']:6.1f} {row['mean_length']:6.2f}"
        )
    return "\n".join(lines)
