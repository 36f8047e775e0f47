"""Lab: vanishing gradients, a character-level LSTM language model, a (bi)LSTM classifier.

Every recurrent network here is groundup.nn.recurrent (ours, not torch.nn.LSTM).

1. Vanishing gradients. A plain tanh RNN, an LSTM and a GRU of the same width read the same
   random sequence of `grad_steps` steps at their initial weights; the loss reads only the
   last hidden state. The lab plots ||dL/dh_t|| against t on a log scale: how much the loss
   can still tell the state at step t. The LSTM's forget-gate bias starts at `forget_bias`
   (1 is the usual choice, Jozefowicz et al. 2015), so at the start its cell keeps about
   sigmoid(1) = 73 % of itself per step.
2. Character language model. An LSTM learns to predict the next character of the embedded
   corpus (or --data FILE), trained on random windows with gradient-norm clipping. The text
   is cut 90/10 as in groundup.data.text.train_val_split. Its validation cross-entropy is
   set against interpolated Kneser-Ney n-gram models of several orders fitted on the same
   training text (groundup.text.ngram_lm): a table of nats per character and perplexity.
   Then it writes samples at a few temperatures.
3. Sequence classification. A bidirectional LSTM reads a sentence (word ids, padded, with
   lengths) and classifies it from its two final states. Embedded default: sentences of the
   corpus, half of them with their words shuffled; is the word order real? A bag of words
   sees the same words either way and cannot beat chance; the LSTM can. With --data DIR
   (train.tsv and dev.tsv) or --data FILE.tsv it reads GLUE-style TSV (sentence, label)
   instead, and the bag-of-words logistic regression is the baseline to beat.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.data.glue import GlueFormatError, read_glue_tsv
from groundup.data.text import CharTokenizer, get_batch, train_val_split
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.nn.recurrent import GRU, LSTM, RNN
from groundup.text.ngram_lm import KneserNey, char_split
from groundup.text.tokenize import split_sentences, words

LAB = "rnn_lstm_gru"


@dataclass
class Config(LabConfig):
    # 1. vanishing gradients
    grad_steps: int = 80  # sequence length for the gradient-norm plot
    forget_bias: float = 1.0  # initial bias of the LSTM's forget gate (both b_if and b_hf parts)
    # 2. character language model
    max_chars: int = 300_000  # 0: the whole text
    hidden: int = 128
    layers: int = 1
    embed: int = 32  # character embedding width
    seq_len: int = 64
    batch_size: int = 32
    steps: int = 260
    lr: float = 3e-3
    grad_clip: float = 1.0
    ngram_orders: str = "1,3,5"  # Kneser-Ney orders to compare with
    temperatures: str = "0.5,1.0"
    sample_chars: int = 200
    # 3. classification
    cls_examples: int = 6000  # sentences used (train + test)
    cls_hidden: int = 64
    cls_steps: int = 300
    cls_vocab: int = 4000  # most frequent training words kept; the rest are <unk>
    cls_max_words: int = 40  # longer sentences are cut


PRESETS: dict[str, dict] = {
    "micro": {
        "grad_steps": 40,
        "max_chars": 60_000,
        "hidden": 64,
        "embed": 16,
        "seq_len": 32,
        "steps": 80,
        "ngram_orders": "1,3",
        "sample_chars": 60,
        "cls_examples": 1500,
        "cls_hidden": 32,
        "cls_steps": 120,
        "cls_vocab": 1500,
    },
    "tiny": {},
    "full": {
        "max_chars": 0,
        "hidden": 512,
        "layers": 2,
        "embed": 64,
        "seq_len": 128,
        "batch_size": 64,
        "steps": 5000,
        "ngram_orders": "1,3,5,7",
        "cls_examples": 40_000,
        "cls_hidden": 128,
        "cls_steps": 3000,
        "cls_vocab": 20_000,
    },
}

FIELD_HELP: dict[str, Msg] = {
    "grad_steps": Msg(
        "sequence length of the vanishing-gradient measurement",
        "Sequenzlänge der Messung verschwindender Gradienten",
    ),
    "forget_bias": Msg(
        "initial bias of the LSTM forget gate (1 keeps ~73 % of the cell per step)",
        "Anfangs-Bias des Forget-Gates im LSTM (1 behält pro Schritt etwa 73 % der Zelle)",
    ),
    "embed": Msg("width of the character embedding", "Breite der Zeichen-Einbettung"),
    "ngram_orders": Msg(
        "Kneser-Ney n-gram orders to compare with, comma-separated",
        "Ordnungen der Kneser-Ney-N-Gramm-Modelle zum Vergleich, durch Kommas getrennt",
    ),
    "temperatures": Msg(
        "sampling temperatures, comma-separated",
        "Sampling-Temperaturen, durch Kommas getrennt",
    ),
    "sample_chars": Msg("characters per generated sample", "Zeichen pro erzeugter Textprobe"),
    "cls_examples": Msg(
        "sentences for the classifier (training and test together)",
        "Sätze für den Klassifikator (Training und Test zusammen)",
    ),
    "cls_hidden": Msg(
        "hidden width of the classifier's LSTM per direction",
        "verborgene Breite des Klassifikator-LSTM pro Richtung",
    ),
    "cls_steps": Msg("training steps of the classifier", "Trainingsschritte des Klassifikators"),
    "cls_vocab": Msg(
        "most frequent training words the classifier knows (the rest become <unk>)",
        "häufigste Trainingswörter, die der Klassifikator kennt (der Rest wird <unk>)",
    ),
    "cls_max_words": Msg(
        "longer sentences are cut to this many words",
        "längere Sätze werden auf so viele Wörter gekürzt",
    ),
}

GRADIENTS = Msg("Gradient norms over time", "Gradientennormen über die Zeit")
TRAINING_LM = Msg("Training the character LSTM", "Zeichen-LSTM trainieren")
FITTING = Msg("Fitting n-gram models", "N-Gramm-Modelle anpassen")
TRAINING_CLS = Msg("Training the biLSTM classifier", "BiLSTM-Klassifikator trainieren")
TOO_SHORT = Msg(
    "{source} is too short: {detail}",
    "{source} ist zu kurz: {detail}",
)


# ---------------------------------------------------------------- settings and data


def numbers(value: str, name: str) -> list[float]:
    try:
        found = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise LabError(
            runner.BAD_SETTING.get(detail=f"{name} must be numbers like 0.5,1")
        ) from None
    if not found or min(found) <= 0:
        raise LabError(
            runner.BAD_SETTING.get(detail=f"{name} must be positive numbers, got {value!r}")
        )
    return found


def check_config(cfg: Config) -> None:
    positive = ("grad_steps", "hidden", "layers", "embed", "seq_len", "batch_size", "steps",
                "sample_chars", "cls_examples", "cls_hidden", "cls_steps", "cls_vocab",
                "cls_max_words")  # fmt: skip
    problems = [f"{name} must be >= 1" for name in positive if getattr(cfg, name) < 1]
    if cfg.max_chars < 0:
        problems.append("max_chars must be >= 0")
    if cfg.lr <= 0 or cfg.grad_clip <= 0:
        problems.append("lr and grad_clip must be > 0")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))
    orders = numbers(cfg.ngram_orders, "ngram_orders")
    if any(o != int(o) or o > 10 for o in orders):
        raise LabError(runner.BAD_SETTING.get(detail="ngram_orders must be whole numbers 1..10"))
    numbers(cfg.temperatures, "temperatures")


def is_glue(data: str | None) -> bool:
    return data is not None and (Path(data).is_dir() or data.endswith(".tsv"))


def load_glue(path: str, seed: int) -> tuple[list[str], list[int], list[str], list[int]]:
    """A directory with train.tsv and dev.tsv, or one .tsv file cut 90/10 after shuffling."""
    try:
        if Path(path).is_dir():
            x_tr, y_tr = read_glue_tsv(Path(path) / "train.tsv")
            x_te, y_te = read_glue_tsv(Path(path) / "dev.tsv")
            return x_tr, y_tr, x_te, y_te
        x, y = read_glue_tsv(path)
    except GlueFormatError as error:
        raise LabError(str(error)) from None
    order = list(range(len(x)))
    random.Random(seed).shuffle(order)
    cut = int(0.9 * len(x))
    pick = lambda idx: ([x[i] for i in idx], [y[i] for i in idx])  # noqa: E731
    return *pick(order[:cut]), *pick(order[cut:])


def load_text(cfg: Config) -> tuple[str, str]:
    """(the whole text, where it came from); the language model uses its first max_chars."""
    if cfg.data is not None and is_glue(cfg.data):
        return "\n".join(load_glue(cfg.data, cfg.seed)[0]), str(cfg.data)
    return runner.load_text(cfg.data)


def word_order_task(
    text: str, n: int, seed: int, max_words: int
) -> tuple[list[list[str]], list[int]]:
    """Sentences of 6+ words; label 1: as written, 0: the same words shuffled.

    Punctuation is dropped first: a shuffled sentence would otherwise give itself away by a
    full stop in the middle, and the task is meant to need the order of the words."""
    sentences = [
        [w.lower() for w in words(s) if w[0].isalnum()][:max_words]
        for paragraph in text.split("\n\n")
        for s in split_sentences(paragraph.replace("\n", " "))
    ]
    # 6+ words, at least two different ones: a shuffle must be able to change the order
    sentences = [s for s in sentences if len(s) >= 6 and len(set(s)) > 1]
    rng = random.Random(seed)
    rng.shuffle(sentences)
    sentences = sentences[:n]
    labels = []
    for s in sentences:
        label = rng.random() < 0.5
        if not label:
            original = list(s)
            while s == original:  # a shuffle that changes nothing would be mislabelled
                rng.shuffle(s)
        labels.append(int(label))
    return sentences, labels


def build_vocab(sentences: list[list[str]], size: int) -> dict[str, int]:
    """0: padding, 1: <unk>, then the `size` most frequent words (ties: first seen)."""
    counts = Counter(w for s in sentences for w in s)
    vocab = {"<pad>": 0, "<unk>": 1}
    for word, _ in counts.most_common(size):
        vocab[word] = len(vocab)
    return vocab


def encode(sentences: list[list[str]], vocab: dict[str, int]) -> tuple[Tensor, Tensor]:
    """(ids (N, T) padded with 0, lengths (N,)); an empty sentence becomes one <unk>."""
    rows = [[vocab.get(w, 1) for w in s] or [1] for s in sentences]
    ids = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    return ids, torch.tensor([len(r) for r in rows])


# ---------------------------------------------------------------- 1. vanishing gradients


def gradient_norms(
    steps: int, hidden: int = 64, inputs: int = 16, batch: int = 32, forget_bias: float = 1.0,
    seed: int = 0,
) -> dict[str, list[float]]:  # fmt: skip
    """Mean over the batch of ||dL/dh_t|| for t = 1 .. steps, L = <h_T, v> for a random v.

    The layers run step by step (one time step per call) so every h_t is a tensor of its
    own whose gradient autograd can keep."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(steps, batch, inputs, generator=g)
    v = torch.randn(batch, hidden, generator=g)
    norms = {}
    for name, cls in (("rnn", RNN), ("gru", GRU), ("lstm", LSTM)):
        torch.manual_seed(seed)
        layer = cls(inputs, hidden)
        if name == "lstm":
            with torch.no_grad():  # rows H..2H are the forget gate; both biases add up
                layer.bias_ih_l0[hidden : 2 * hidden] = forget_bias / 2
                layer.bias_hh_l0[hidden : 2 * hidden] = forget_bias / 2
        state, hs = None, []
        for t in range(steps):
            _, state = layer(x[t : t + 1], state)
            h = state[0] if name == "lstm" else state
            h.retain_grad()
            hs.append(h)
        (hs[-1][0] * v).sum().backward()
        norms[name] = [h.grad[0].norm(dim=-1).mean().item() for h in hs]
    return norms


# ---------------------------------------------------------------- 2. character language model


class CharLSTM(nn.Module):
    """Embedding -> our LSTM -> linear read-out to next-character logits."""

    def __init__(self, vocab: int, embed: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: Tensor, state=None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        out, state = self.lstm(self.embedding(ids), state)
        return self.head(out), state


@torch.no_grad()
def stream_loss(model: CharLSTM, data: Tensor, seq_len: int, streams: int = 16) -> float:
    """Cross-entropy (nats/char) over a whole text, read as `streams` contiguous pieces with
    the state carried from window to window, so late characters see all the text before
    them, as the n-gram model sees its full context."""
    model.eval()
    n = (len(data) - 1) // streams
    x = data[: n * streams].view(streams, n)
    y = data[1 : n * streams + 1].view(streams, n)
    total, state = 0.0, None
    for start in range(0, n, seq_len):
        logits, state = model(x[:, start : start + seq_len].long(), state)
        target = y[:, start : start + seq_len].long()
        total += F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="sum").item()
    model.train()
    return total / (n * streams)


@torch.no_grad()
def sample(
    model: CharLSTM, tokenizer: CharTokenizer, prompt: str, n: int, temperature: float,
    seed: int,
) -> str:  # fmt: skip
    """n characters after `prompt`, one at a time, the state carried along."""
    g = torch.Generator().manual_seed(seed)
    model.eval()
    ids = torch.tensor([tokenizer.encode(prompt)])
    logits, state = model(ids)
    out = []
    for _ in range(n):
        probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
        nxt = int(torch.multinomial(probs, 1, generator=g))
        out.append(nxt)
        logits, state = model(torch.tensor([[nxt]]), state)
    model.train()
    return prompt + tokenizer.decode(out)


def train_char_lm(cfg: Config, train: Tensor, val: Tensor, vocab: int, log) -> tuple:
    torch.manual_seed(cfg.seed)
    model = CharLSTM(vocab, cfg.embed, cfg.hidden, cfg.layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(cfg.seed)
    curve, clipped, timer = [], 0, runner.Timer()
    with runner.progress(cfg.steps, TRAINING_LM.get(), cfg.quiet) as bar:
        for step in range(1, cfg.steps + 1):
            x, y = get_batch(train, cfg.seq_len, cfg.batch_size, generator=g)
            logits, _ = model(x)
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            optimizer.zero_grad()
            loss.backward()
            norm = float(nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip))
            clipped += norm > cfg.grad_clip
            optimizer.step()
            curve.append(loss.item())
            log.log(part="char_lm", step=step, loss=loss.item(), grad_norm=norm)
            bar.update(info=f"loss {loss.item():.3f}")
    return model, curve, clipped / cfg.steps, timer.seconds / cfg.steps


# ---------------------------------------------------------------- 3. classification


class BiLSTMClassifier(nn.Module):
    """Word embedding -> bidirectional LSTM over the real words -> both final states -> logits."""

    def __init__(self, vocab: int, embed: int, hidden: int, classes: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.lstm = LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        _, (h_n, _) = self.lstm(self.embedding(ids), lengths=lengths)
        # h_n[0]: forward direction after each sentence's last word; h_n[1]: backward
        # direction after reading back to the first word
        return self.head(torch.cat([h_n[-2], h_n[-1]], dim=-1))


def train_classifier(
    train: tuple[Tensor, Tensor, Tensor], vocab: int, classes: int, hidden: int, steps: int,
    batch_size: int, lr: float, seed: int, quiet: bool = True, log=None,
) -> BiLSTMClassifier:  # fmt: skip
    ids, lengths, labels = train
    torch.manual_seed(seed)
    model = BiLSTMClassifier(vocab, hidden, hidden, classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    with runner.progress(steps, TRAINING_CLS.get(), quiet) as bar:
        for step in range(1, steps + 1):
            pick = torch.randint(len(ids), (batch_size,), generator=g)
            width = int(lengths[pick].max())  # cut the batch to its longest sentence
            logits = model(ids[pick, :width], lengths[pick])
            loss = F.cross_entropy(logits, labels[pick])
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            if log is not None:
                log.log(part="classifier", step=step, loss=loss.item())
            bar.update(info=f"loss {loss.item():.3f}")
    return model


@torch.no_grad()
def accuracy(model: BiLSTMClassifier, ids: Tensor, lengths: Tensor, labels: Tensor) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(ids), 256):
        part = slice(start, start + 256)
        width = int(lengths[part].max())
        pred = model(ids[part, :width], lengths[part]).argmax(-1)
        correct += int((pred == labels[part]).sum())
    model.train()
    return correct / len(ids)


def bag_of_words_accuracy(
    train: list[list[str]], y_train: list[int], test: list[list[str]], y_test: list[int]
) -> float:
    """Logistic regression on word counts: the baseline that ignores word order."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = CountVectorizer(analyzer=lambda s: s)
    classifier = LogisticRegression(max_iter=1000).fit(vectorizer.fit_transform(train), y_train)
    return float(classifier.score(vectorizer.transform(test), y_test))


def classification_data(cfg: Config, text: str):
    if is_glue(cfg.data):
        x_tr, y_tr, x_te, y_te = load_glue(cfg.data, cfg.seed)  # type: ignore[arg-type]
        tok = lambda xs: [[w.lower() for w in words(s)][: cfg.cls_max_words] for s in xs]  # noqa: E731
        return tok(x_tr), y_tr, tok(x_te), y_te, "glue"
    sentences, labels = word_order_task(text, cfg.cls_examples, cfg.seed, cfg.cls_max_words)
    if len(sentences) < 100:
        raise LabError(TOO_SHORT.get(source=cfg.data or "the corpus",
                                     detail=f"{len(sentences)} sentences of 6+ words, need 100"))  # fmt: skip
    cut = int(0.8 * len(sentences))
    return sentences[:cut], labels[:cut], sentences[cut:], labels[cut:], "word order"


# ---------------------------------------------------------------- the run


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    runner.resolve_device(cfg.device)  # an unavailable device is an error; the work stays on
    # the CPU either way: a time loop over small tensors gains nothing from an accelerator
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    log = runner.MetricsLog(out / "metrics.jsonl")
    artifacts: dict[str, Path] = {}
    metrics: dict[str, float | int | str] = {}
    try:
        with runner.one_torch_thread():
            # 1. vanishing gradients
            with runner.progress(1, GRADIENTS.get(), cfg.quiet) as bar:
                norms = gradient_norms(cfg.grad_steps, forget_bias=cfg.forget_bias, seed=cfg.seed)
                bar.update()
            ts = list(range(1, cfg.grad_steps + 1))
            for name, values in norms.items():
                log.log(part="gradients", model=name, norms=values)
                # orders of magnitude the gradient loses from the last step back to the first
                metrics[f"grad_log10_first_over_last_{name}"] = math.log10(values[0] / values[-1])
            artifacts["gradient_norms"] = runner.save_line_plot(
                out / "gradient_norms.png",
                {name.upper(): (ts, values) for name, values in norms.items()},
                title=f"||dL/dh_t||, loss on h_{cfg.grad_steps}",
                xlabel="t",
                ylabel="||dL/dh_t||",
                logy=True,
            )

            # 2. character language model
            full_text, source = load_text(cfg)
            text = full_text[: cfg.max_chars] if cfg.max_chars else full_text
            if len(text) < 20 * cfg.seq_len:
                raise LabError(TOO_SHORT.get(source=source,
                                             detail=f"{len(text)} characters"))  # fmt: skip
            tokenizer = CharTokenizer.from_text(text)
            data = torch.tensor(tokenizer.encode(text), dtype=torch.int32)
            train, val = train_val_split(data)
            model, curve, clipped, seconds_per_step = train_char_lm(
                cfg, train, val, tokenizer.vocab_size, log
            )
            lstm_loss = stream_loss(model, val, cfg.seq_len)
            train_text, val_text = char_split(text)
            rows = []
            orders = [int(o) for o in numbers(cfg.ngram_orders, "ngram_orders")]
            with runner.progress(len(orders), FITTING.get(), cfg.quiet) as bar:
                for order in orders:
                    ngram = KneserNey(order, boundaries=False).fit([train_text])
                    ce = ngram.cross_entropy([val_text])
                    rows.append({"model": f"kneser-ney order {order}", "cross_entropy": ce})
                    bar.update()
            rows.append({"model": f"LSTM {cfg.layers}x{cfg.hidden}", "cross_entropy": lstm_loss})
            with open(out / "perplexity.csv", "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(["model", "nats_per_char", "perplexity"])
                for row in rows:
                    writer.writerow([row["model"], f"{row['cross_entropy']:.4f}",
                                     f"{math.exp(row['cross_entropy']):.3f}"])  # fmt: skip
            artifacts["perplexity_table"] = out / "perplexity.csv"
            artifacts["char_lm_loss"] = runner.save_line_plot(
                out / "char_lm_loss.png",
                {"train (batch)": (list(range(1, len(curve) + 1)), curve)},
                title="character LSTM",
                xlabel="step",
                ylabel="cross-entropy (nats/char)",
            )
            prompt = text[len(train_text) : len(train_text) + 20]
            samples = [
                f"--- temperature {temp:g} ---\n"
                + sample(model, tokenizer, prompt, cfg.sample_chars, temp, cfg.seed)
                for temp in numbers(cfg.temperatures, "temperatures")
            ]
            (out / "samples.txt").write_text("\n\n".join(samples) + "\n", encoding="utf-8")
            artifacts["samples"] = out / "samples.txt"
            unigram = next((r["cross_entropy"] for r in rows if r["model"].endswith(" 1")), None)
            metrics |= {
                "char_val_loss": lstm_loss,
                "char_val_perplexity": math.exp(lstm_loss),
                "char_train_loss_last20": float(np.mean(curve[-20:])),
                "clipped_fraction": clipped,
                "ms_per_step": 1000 * seconds_per_step,
            }
            if unigram is not None:
                metrics["unigram_val_loss"] = unigram
            for row in rows[:-1]:
                metrics[row["model"].replace("kneser-ney order ", "kn") + "_val_loss"] = row[
                    "cross_entropy"
                ]

            # 3. classification
            x_tr, y_tr, x_te, y_te, task = classification_data(cfg, full_text)
            vocab = build_vocab(x_tr, cfg.cls_vocab)
            ids_tr, len_tr = encode(x_tr, vocab)
            ids_te, len_te = encode(x_te, vocab)
            labels_tr, labels_te = torch.tensor(y_tr), torch.tensor(y_te)
            classes = int(max(max(y_tr), max(y_te))) + 1
            classifier = train_classifier(
                (ids_tr, len_tr, labels_tr), len(vocab), classes, cfg.cls_hidden, cfg.cls_steps,
                cfg.batch_size, 3e-3, cfg.seed, cfg.quiet, log,
            )  # fmt: skip
            majority = Counter(y_te).most_common(1)[0][1] / len(y_te)
            metrics |= {
                "cls_task": task,
                "cls_test_accuracy": accuracy(classifier, ids_te, len_te, labels_te),
                "cls_majority": majority,
                "cls_bag_of_words": bag_of_words_accuracy(x_tr, y_tr, x_te, y_te),
                "cls_train_examples": len(x_tr),
                "cls_test_examples": len(x_te),
            }
            log.log(part="summary", **metrics)
    finally:
        log.close()
    table = "\n".join(
        f"{r['model']:<24} {r['cross_entropy']:.3f} nats/char  perplexity "
        f"{math.exp(r['cross_entropy']):.2f}"
        for r in rows
    )
    return LabReport(
        LAB, out, metrics, artifacts, text=table + "\n\n" + samples[-1], seconds=timer.seconds
    )
