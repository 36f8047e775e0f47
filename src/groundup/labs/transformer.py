"""Lab: a small Transformer learns to translate, scored by exact match and BLEU.

Without --data it translates English number words into German, a task generated here:

    "three hundred twenty-one"  ->  "dreihunderteinundzwanzig"

With --data it translates a line-aligned parallel corpus (Multi30k, WMT's plain text, ...):
a folder with `train.en` and `train.de`, where line i of one file is the translation of
line i of the other, or the path of its `train.en` (then `train.de` lies beside it). The
held-out sentences come from `val.en`/`val.de` in the same folder (another split with
--eval-split), or, if there is none, from the end of the training files. Each language gets
its own byte-level BPE (groundup.text.bpe) trained on the training side only: subwords
have no unknown token, so rare names and long German compounds are spelt out in pieces,
and the vocabulary size is a setting rather than whatever the corpus happens to contain.

Training follows the paper: label smoothing (section 5.4), Adam with beta2 = 0.98 and the
inverse-square-root learning rate with warm-up (section 5.3). The held-out sentences never
appear in training. They are translated three ways, greedily, by beam search of width 1
(which must agree with greedy) and by a wider beam (groundup.models.decoding), and each
way is scored by exact match of the whole string and by corpus BLEU (groundup.metrics.bleu,
sacrebleu's 13a tokenization). German glues a number into one word, which 13a would count
as one token, so for the numbers BLEU is taken on the word pieces (drei hundert ein und
zwanzig). The cross-attention heatmap shows what the decoder reads while it writes: to say
"ein und zwanzig" it must look past "twenty" to "one".
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from groundup.data import numbers
from groundup.data.parallel import ParallelFormatError, read_parallel, read_parallel_split
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.metrics.bleu import corpus_bleu
from groundup.models.decoding import beam_search
from groundup.models.transformer import Seq2SeqTransformer, inverse_sqrt_lr
from groundup.nn.losses import cross_entropy
from groundup.text.bpe import BPETokenizer

PAD, BOS, EOS = 0, 1, 2  # the ids both tasks reserve; BPE tokens start at 3
SPECIALS = 3


@dataclass
class Config(runner.LabConfig):
    train_size: int = 20_000  # numbers to train on; with --data, at most this many pairs
    held_out: int = 1000  # numbers (or sentence pairs) kept out of training and scored
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
    beam_width: int = 4
    length_penalty: float = 1.0
    source_lang: str = "en"  # with --data: file suffixes of the two sides
    target_lang: str = "de"
    eval_split: str = "val"
    bpe_vocab: int = 2000  # per language, 256 byte tokens included
    max_tokens: int = 64  # longer training pairs are dropped


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
        "bpe_vocab": 400,
    },
    "tiny": {},
    "full": {
        "train_size": 100_000,
        "held_out": 5000,
        "d_model": 128,
        "steps": 6000,
        "bpe_vocab": 6000,
    },
}

FIELD_HELP: dict[str, Msg] = {
    "train_size": Msg(
        "how many distinct numbers the model trains on; with --data, at most this many pairs",
        "wie viele verschiedene Zahlen das Modell im Training sieht; mit --data höchstens so "
        "viele Satzpaare",
    ),
    "held_out": Msg(
        "numbers (with --data: sentence pairs) kept out of training and translated for the scores",
        "vom Training ausgeschlossene Zahlen (mit --data: Satzpaare), die für die Bewertung "
        "übersetzt werden",
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
    "beam_width": Msg(
        "hypotheses beam search keeps per sentence (compared with greedy and a beam of 1)",
        "Hypothesen, die die Strahlsuche je Satz behält (verglichen mit gierig und Breite 1)",
    ),
    "length_penalty": Msg(
        "beam search ranks finished hypotheses by log-probability / length ** this",
        "die Strahlsuche ordnet fertige Hypothesen nach Log-Wahrscheinlichkeit / Länge ** diesem "
        "Wert",
    ),
    "source_lang": Msg(
        "with --data: suffix of the source files (train.en -> en)",
        "mit --data: Endung der Quelldateien (train.en -> en)",
    ),
    "target_lang": Msg(
        "with --data: suffix of the target files (train.de -> de)",
        "mit --data: Endung der Zieldateien (train.de -> de)",
    ),
    "eval_split": Msg(
        "with --data: split scored after training (val -> val.en/val.de); if its files are "
        "missing, the last held_out training pairs are used",
        "mit --data: nach dem Training bewerteter Teil (val -> val.en/val.de); fehlen dessen "
        "Dateien, dienen die letzten held_out Trainingspaare",
    ),
    "bpe_vocab": Msg(
        "with --data: size of each language's byte-level BPE vocabulary (at least 256)",
        "mit --data: Größe des Byte-BPE-Vokabulars jeder Sprache (mindestens 256)",
    ),
    "max_tokens": Msg(
        "with --data: training pairs longer than this many BPE tokens are left out",
        "mit --data: Trainingspaare mit mehr BPE-Tokens als diesem Wert werden ausgelassen",
    ),
}

TEXT = {
    "training": Msg("training", "Training"),
    "decoding": Msg(
        "translating the held-out part: {method}", "Übersetzen der Testdaten: {method}"
    ),
    "tokenizing": Msg("training BPE on {lang}", "BPE-Training auf {lang}"),
    "no_corpus": Msg(
        "{detail}. --data takes a folder with line-aligned files {split}.{src} and {split}.{tgt} "
        "(line i of one is the translation of line i of the other), or the path of {split}.{src}",
        "{detail}. --data erwartet einen Ordner mit zeilenweise ausgerichteten Dateien "
        "{split}.{src} und {split}.{tgt} (Zeile i der einen übersetzt Zeile i der anderen) oder "
        "den Pfad von {split}.{src}",
    ),
    "too_few_pairs": Msg(
        "{source}: {count} usable training pairs (at most {max_tokens} BPE tokens each); "
        "at least 2 are needed",
        "{source}: {count} brauchbare Trainingspaare (höchstens {max_tokens} BPE-Tokens je "
        "Paar); mindestens 2 sind nötig",
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
    "source": Msg("source (keys)", "Quelle (Keys)"),
    "target": Msg("output (queries)", "Ausgabe (Queries)"),
    "right": Msg("right", "richtig"),
    "wrong": Msg("WRONG, expected {answer}", "FALSCH, erwartet {answer}"),
    "reference": Msg("reference", "Referenz"),
    "table": Msg(
        "Decoding the {count} held-out {kind}:", "Übersetzung der {count} zurückgehaltenen {kind}:"
    ),
    "numbers": Msg("numbers", "Zahlen"),
    "sentences": Msg("sentences", "Sätze"),
}

# ---------------------------------------------------------------- the two tasks


@dataclass
class Task:
    """What training and scoring need, whatever the data. Ids: 0 pad, 1 BOS, 2 EOS."""

    name: str  # where the pairs came from
    train_src: Tensor  # (N, S), padded with 0
    train_tgt: Tensor  # (N, T): BOS ... EOS, padded with 0
    held_src: Tensor
    held_tgt: Tensor
    sources: list[str]  # held-out source texts
    references: list[str]  # their translations, compared whole for exact match
    bleu_references: list[str]  # what BLEU compares with (numbers: pieces apart)
    to_text: Callable[[list[int]], str]  # written ids -> text
    to_bleu_text: Callable[[list[int]], str]
    source_pieces: Callable[[Tensor], list[str]]  # one source row -> token labels
    target_pieces: Callable[[list[int]], list[str]]
    src_vocab: int
    tgt_vocab: int
    max_len: int  # the most tokens a translation may have


def until_eos(ids: list[int]) -> list[int]:
    """Written ids up to (without) the first EOS, padding and BOS dropped."""
    out = []
    for i in ids:
        if i == EOS:
            break
        if i > EOS:
            out.append(i)
    return out


def numbers_task(cfg: Config) -> Task:
    train_numbers, held_numbers = numbers.split_numbers(
        cfg.train_size, cfg.held_out, cfg.max_number, cfg.seed
    )
    train_src, train_tgt = numbers.to_tensors(train_numbers)
    held_src, held_tgt = numbers.to_tensors(held_numbers)

    def spaced(pieces: list[str]) -> str:
        return " ".join(p for p in pieces if p != " ")

    return Task(
        name="English -> German number words",
        train_src=train_src,
        train_tgt=train_tgt,
        held_src=held_src,
        held_tgt=held_tgt,
        sources=[numbers.english(n) for n in held_numbers],
        references=[numbers.german(n) for n in held_numbers],
        bleu_references=[spaced(numbers.german_pieces(n)) for n in held_numbers],
        to_text=lambda ids: numbers.join_german(numbers.DE_VOCAB.decode(ids)),
        to_bleu_text=lambda ids: spaced(numbers.DE_VOCAB.decode(ids)),
        source_pieces=lambda row: numbers.EN_VOCAB.decode(row.tolist()),
        target_pieces=lambda ids: numbers.DE_VOCAB.decode(ids),
        src_vocab=len(numbers.EN_VOCAB),
        tgt_vocab=len(numbers.DE_VOCAB),
        max_len=24,
    )


def corpus_folder(cfg: Config) -> tuple[Path, str]:
    """(folder, training split) from --data: a folder, or the path of <split>.<source_lang>."""
    path = Path(cfg.data)
    if not path.exists():
        raise runner.LabError(corpus_error(cfg, f"{path}: not found"))
    if path.is_dir():
        return path, "train"
    if path.suffix == f".{cfg.source_lang}":
        return path.parent, path.name[: -len(path.suffix)]
    raise runner.LabError(corpus_error(cfg, f"{path}: not a folder nor a .{cfg.source_lang} file"))


def corpus_error(cfg: Config, detail: str, split: str = "train") -> str:
    return TEXT["no_corpus"].get(
        detail=detail, split=split, src=cfg.source_lang, tgt=cfg.target_lang
    )


def read_pairs(cfg: Config) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str]:
    """(training pairs, held-out pairs, a name for the corpus)."""
    folder, split = corpus_folder(cfg)
    try:
        pairs = read_parallel_split(folder, split, cfg.source_lang, cfg.target_lang)
        held_files = [folder / f"{cfg.eval_split}.{lang}" for lang in (cfg.source_lang,
                                                                       cfg.target_lang)]  # fmt: skip
        if cfg.eval_split != split and all(f.is_file() for f in held_files):
            held = read_parallel(*held_files)[: cfg.held_out]
            name = f"{folder} ({split} / {cfg.eval_split})"
        else:  # no held-out files: the end of the training files, never trained on
            cut = min(cfg.held_out, len(pairs) // 5)
            pairs, held = pairs[: len(pairs) - cut], pairs[len(pairs) - cut :]
            name = f"{folder} ({split}, last {cut} pairs held out)"
    except ParallelFormatError as error:
        raise runner.LabError(corpus_error(cfg, str(error), split)) from None
    if not held:
        raise runner.LabError(corpus_error(cfg, f"{folder}: too few pairs to hold any out"))
    return pairs[: cfg.train_size], held, name


def train_bpe(texts: list[str], vocab_size: int, lang: str, quiet: bool) -> BPETokenizer:
    merges = max(vocab_size - 256, 0)
    with runner.progress(merges, TEXT["tokenizing"].get(lang=lang), quiet=quiet) as bar:
        return BPETokenizer.train(
            "\n".join(texts), vocab_size, special_tokens=(), on_merge=lambda *_: bar.update()
        )


def pad_rows(rows: list[list[int]]) -> Tensor:
    out = torch.zeros(len(rows), max(len(r) for r in rows), dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def corpus_task(cfg: Config) -> Task:
    pairs, held, name = read_pairs(cfg)
    src_bpe = train_bpe([s for s, _ in pairs], cfg.bpe_vocab, cfg.source_lang, cfg.quiet)
    tgt_bpe = train_bpe([t for _, t in pairs], cfg.bpe_vocab, cfg.target_lang, cfg.quiet)

    def encode(bpe: BPETokenizer, text: str) -> list[int]:
        return [SPECIALS + i for i in bpe.encode(text)]

    def decode(ids: list[int]) -> str:
        return tgt_bpe.decode([i - SPECIALS for i in until_eos(ids)])

    train_rows = [(encode(src_bpe, s), [BOS, *encode(tgt_bpe, t), EOS]) for s, t in pairs]
    train_rows = [(s, t) for s, t in train_rows if len(s) <= cfg.max_tokens
                  and len(t) <= cfg.max_tokens + 2]  # fmt: skip
    if len(train_rows) < 2:
        raise runner.LabError(TEXT["too_few_pairs"].get(source=name, count=len(train_rows),
                                                        max_tokens=cfg.max_tokens))  # fmt: skip
    held_rows = [(encode(src_bpe, s)[: cfg.max_tokens] or [EOS],
                  [BOS, *encode(tgt_bpe, t)[: cfg.max_tokens], EOS]) for s, t in held]  # fmt: skip
    return Task(
        name=name,
        train_src=pad_rows([s for s, _ in train_rows]),
        train_tgt=pad_rows([t for _, t in train_rows]),
        held_src=pad_rows([s for s, _ in held_rows]),
        held_tgt=pad_rows([t for _, t in held_rows]),
        sources=[s for s, _ in held],
        references=[t for _, t in held],
        bleu_references=[t for _, t in held],
        to_text=decode,
        to_bleu_text=decode,
        source_pieces=lambda row: [src_bpe.decode([i - SPECIALS]) for i in until_eos(row.tolist())],
        target_pieces=lambda ids: [tgt_bpe.decode([i - SPECIALS]) for i in until_eos(ids)],
        src_vocab=src_bpe.vocab_size + SPECIALS,
        tgt_vocab=tgt_bpe.vocab_size + SPECIALS,
        max_len=cfg.max_tokens + 1,  # room for EOS
    )


# ---------------------------------------------------------------- settings


def validate(cfg: Config) -> None:
    for field, least in [("train_size", 1), ("held_out", 1), ("max_number", 1), ("d_model", 2),
                         ("n_heads", 1), ("n_layers", 1), ("dim_feedforward", 1), ("steps", 1),
                         ("batch_size", 1), ("eval_every", 1), ("warmup_iters", 1),
                         ("beam_width", 1), ("bpe_vocab", 256), ("max_tokens", 1)]:  # fmt: skip
        if getattr(cfg, field) < least:
            raise runner.LabError(
                TEXT["too_small"].get(field=field, least=least, value=getattr(cfg, field))
            )
    if cfg.d_model % cfg.n_heads != 0:
        raise runner.LabError(TEXT["heads"].get(d_model=cfg.d_model, n_heads=cfg.n_heads))
    if cfg.data is None and cfg.train_size + cfg.held_out > cfg.max_number + 1:
        raise runner.LabError(
            TEXT["too_many"].get(count=cfg.train_size + cfg.held_out, available=cfg.max_number + 1)
        )


def run(cfg: Config) -> runner.LabReport:
    validate(cfg)
    with runner.one_torch_thread():  # small matrices: a second thread mostly waits
        return train(cfg)


# ---------------------------------------------------------------- training


def loss_on(model: Seq2SeqTransformer, src: Tensor, tgt: Tensor, smoothing: float) -> Tensor:
    """Teacher forcing: read BOS y_1 .. y_{n-1}, predict y_1 .. y_n EOS; padding not counted."""
    logits = model(src, tgt[:, :-1])
    return cross_entropy(
        logits.transpose(1, 2), tgt[:, 1:], ignore_index=PAD, label_smoothing=smoothing
    )


def trim(ids: Tensor) -> Tensor:
    """Drop columns that are padding in every row of the batch."""
    return ids[:, : int((ids != PAD).sum(dim=1).max())]


def train(cfg: Config) -> runner.LabReport:
    timer = runner.Timer()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, "transformer")
    task = numbers_task(cfg) if cfg.data is None else corpus_task(cfg)
    train_src, train_tgt = task.train_src.to(device), task.train_tgt.to(device)
    held_src, held_tgt = task.held_src.to(device), task.held_tgt.to(device)
    longest = max(train_src.size(1), train_tgt.size(1), held_src.size(1), task.max_len + 1)
    model = Seq2SeqTransformer(
        task.src_vocab, task.tgt_vocab, d_model=cfg.d_model, nhead=cfg.n_heads,
        num_encoder_layers=cfg.n_layers, num_decoder_layers=cfg.n_layers,
        dim_feedforward=cfg.dim_feedforward, dropout=cfg.dropout, norm_first=cfg.norm_first,
        max_len=max(128, longest),
    ).to(device)  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    generator = torch.Generator().manual_seed(cfg.seed)
    log = runner.MetricsLog(out / "metrics.jsonl")

    n_train = train_src.size(0)
    losses: tuple[list[float], list[float]] = ([], [])
    held_losses: tuple[list[float], list[float]] = ([], [])
    with runner.progress(cfg.steps, TEXT["training"].get(), quiet=cfg.quiet) as bar:
        for step in range(1, cfg.steps + 1):
            model.train()
            lr = inverse_sqrt_lr(step, cfg.d_model, cfg.warmup_iters, cfg.lr_factor)
            for group in optimizer.param_groups:
                group["lr"] = lr
            rows = torch.randint(0, n_train, (cfg.batch_size,), generator=generator).to(device)
            loss = loss_on(model, trim(train_src[rows]), trim(train_tgt[rows]), cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[0].append(step)
            losses[1].append(loss.item())
            record = {"step": step, "loss": loss.item(), "lr": lr}
            if step % cfg.eval_every == 0 or step == cfg.steps:
                held_loss = held_out_loss(model, held_src, held_tgt, cfg.label_smoothing)
                held_losses[0].append(step)
                held_losses[1].append(held_loss)
                record["held_out_loss"] = held_loss
            log.log(**record)
            bar.update(info=f"loss {loss.item():.3f} | lr {lr:.2e}")

    # Translate the held-out part three ways; beam 1 is a check that it equals greedy.
    methods = {"greedy": 0, "beam 1": 1, f"beam {cfg.beam_width}": cfg.beam_width}
    rows_out, written = [], {}
    for method, width in methods.items():
        seconds = runner.Timer()
        written[method] = translate(model, held_src, width, cfg.length_penalty, task.max_len,
                                    TEXT["decoding"].get(method=method), cfg.quiet)  # fmt: skip
        texts = [task.to_text(ids) for ids in written[method]]
        bleu = corpus_bleu([task.to_bleu_text(ids) for ids in written[method]],
                           [task.bleu_references])  # fmt: skip
        exact = sum(p == r for p, r in zip(texts, task.references, strict=True)) / len(texts)
        rows_out.append({"method": method, "bleu": round(bleu.score, 2),
                         "exact_match": round(exact, 4), "seconds": round(seconds.seconds, 2),
                         "bleu_precisions": " / ".join(f"{p:.1f}" for p in bleu.precisions),
                         "brevity_penalty": round(bleu.bp, 4)})  # fmt: skip
        log.log(decoding=method, **{k: v for k, v in rows_out[-1].items() if k != "method"})
    log.close()
    greedy, beam1, beam = rows_out

    loss_png = runner.save_line_plot(
        out / "loss.png",
        {"train": losses, "held-out": held_losses},
        title=TEXT["loss_title"].get(),
        xlabel="step",
        ylabel="cross-entropy",
        logy=True,
    )
    example = pick_example(task)
    map_png = save_cross_attention(out / "cross_attention.png", model, task, example, device)
    table_csv = write_table(out / "decoding.csv", rows_out)

    kind = TEXT["numbers" if cfg.data is None else "sentences"].get()
    lines = [TEXT["table"].get(count=len(task.references), kind=kind), ""]
    lines += format_table(rows_out) + [""]
    best = written[f"beam {cfg.beam_width}"]
    for i in range(min(6, len(task.references))):
        got, want = task.to_text(written["greedy"][i]), task.references[i]
        if cfg.data is None:
            verdict = TEXT["right"].get() if got == want else TEXT["wrong"].get(answer=want)
            lines.append(f"{task.sources[i]}  ->  {got}   {verdict}")
            continue
        lines += [f"  {task.sources[i]}", f"    greedy: {got}"]
        if task.to_text(best[i]) != got:
            lines.append(f"    beam {cfg.beam_width}: {task.to_text(best[i])}")
        lines.append(f"    {TEXT['reference'].get()}: {want}")

    return runner.LabReport(
        lab="transformer",
        out_dir=out,
        metrics={
            "first_loss": losses[1][0],
            "final_train_loss": sum(losses[1][-50:]) / len(losses[1][-50:]),
            "held_out_loss": held_losses[1][-1],
            "held_out_exact_match": greedy["exact_match"],
            "exact_match_beam_1": beam1["exact_match"],
            "exact_match_beam": beam["exact_match"],
            "bleu_greedy": greedy["bleu"],
            "bleu_beam_1": beam1["bleu"],
            "bleu_beam": beam["bleu"],
            "beam_width": cfg.beam_width,
            "held_out_count": len(task.references),
            "training_pairs": n_train,
            "parameters": sum(p.numel() for p in model.parameters()),
            "steps": cfg.steps,
        },
        artifacts={
            "loss": loss_png,
            "cross_attention": map_png,
            "decoding": table_csv,
            "metrics": out / "metrics.jsonl",
        },  # fmt: skip
        text="\n".join(lines),
        seconds=timer.seconds,
    )


@torch.no_grad()
def held_out_loss(model: Seq2SeqTransformer, src: Tensor, tgt: Tensor, smoothing: float) -> float:
    model.eval()
    total, count = 0.0, 0
    for start in range(0, src.size(0), 250):
        s, t = trim(src[start : start + 250]), trim(tgt[start : start + 250])
        tokens = int((t[:, 1:] != PAD).sum())
        total += loss_on(model, s, t, smoothing).item() * tokens
        count += tokens
    return total / count


# ---------------------------------------------------------------- decoding


@torch.no_grad()
def translate(
    model: Seq2SeqTransformer,
    src: Tensor,
    width: int,
    length_penalty: float,
    max_len: int,
    description: str = "",
    quiet: bool = True,
    batch_size: int = 256,
) -> list[list[int]]:
    """Written ids (no BOS) per source row. width 0: the model's own greedy loop; width >= 1:
    decoding.beam_search, the source encoded once and shared by its `width` hypotheses."""
    model.eval()
    per_batch = max(1, batch_size // max(width, 1))
    out: list[list[int]] = []
    batches = range(0, src.size(0), per_batch)
    with runner.progress(len(batches), description, quiet=quiet) as bar:
        for start in batches:
            chunk = trim(src[start : start + per_batch])
            if width == 0:
                ids = model.greedy_decode(chunk, bos_id=BOS, eos_id=EOS, max_len=max_len)
            else:
                prompt = torch.full((chunk.size(0), 1), BOS, dtype=torch.long, device=src.device)
                found = beam_search(model.step_function(chunk, copies=width), prompt, width,
                                    max_new_tokens=max_len, length_penalty=length_penalty,
                                    eos_token_id=EOS, pad_token_id=PAD)  # fmt: skip
                ids = found.sequences[:, 1:]
            out += [row.tolist() for row in ids.cpu()]
            bar.update()
    return out


def format_table(rows: list[dict]) -> list[str]:
    lines = [f"  {'method':<10} {'BLEU':>6} {'exact':>7} {'seconds':>8}   n-gram precisions"]
    for row in rows:
        lines.append(f"  {row['method']:<10} {row['bleu']:>6.2f} {row['exact_match']:>7.1%} "
                     f"{row['seconds']:>8.1f}   {row['bleu_precisions']}")  # fmt: skip
    return lines


def write_table(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# ---------------------------------------------------------------- the heatmap


def pick_example(task: Task) -> int:
    """A held-out row worth looking at: the longest of the first 50 up to 14 tokens."""
    lengths = (task.held_src[:50] != PAD).sum(dim=1).tolist()
    fitting = [i for i, n in enumerate(lengths) if n <= 14] or [0]
    return max(fitting, key=lambda i: (lengths[i], -i))


@torch.no_grad()
def save_cross_attention(
    path: Path, model: Seq2SeqTransformer, task: Task, row: int, device: str
) -> Path:
    """Heatmap per decoder layer, averaged over heads: rows = target tokens being written."""
    plt = runner.pyplot()
    model.eval()
    src = trim(task.held_src[row : row + 1]).to(device)
    written = model.greedy_decode(src, bos_id=BOS, eos_id=EOS, max_len=task.max_len)
    tgt = torch.cat([torch.full((1, 1), BOS, dtype=torch.long, device=device), written], dim=1)
    model.record_cross_attention(True)
    model(src, tgt[:, :-1])
    maps = [w[0].mean(dim=0).cpu() for w in model.cross_attention()]  # (T, S) per layer
    model.record_cross_attention(False)
    pieces = task.target_pieces(written[0].tolist())
    rows = [repr(p) if not p.strip() else p for p in pieces] + ["</s>"]
    columns = [repr(p) if not p.strip() else p for p in task.source_pieces(src[0].cpu())]
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
    fig.suptitle(f"{TEXT['map_title'].get()}: {task.sources[row][:60]}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
