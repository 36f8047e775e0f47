"""Lab: fine-tune a pretrained encoder (all-MiniLM-L6-v2) for sentiment, against three baselines.

1. The data: short movie-review sentences generated from templates with a varied vocabulary,
   negation ("was not moving", "far from dull") and contrast ("... at first, but in the end
   it was lovely"). A third of the adjectives never occur in training: half of the held-out
   test sentences use them, so the test asks whether a model knows what words mean.
2. Four models, the same optimizer steps for the three neural ones:
     finetuned   MiniLM + a new linear head, every weight trained (AdamW, warm-up + linear
                 decay, gradient clipping, early stopping on dev, best weights kept)
     probe       the same, but the encoder frozen: only the head learns (a linear probe)
     random      the same architecture, randomly initialised, trained like `finetuned`
     tfidf       TF-IDF of words and word pairs + logistic regression (text/, no network)
3. Accuracy and macro F1 on the held-out test split (and on its unseen-word half), the dev
   accuracy during training (learning curves) and the training loss, as PNGs.
With --data FOLDER: a GLUE-style folder (train.tsv, dev.tsv with "sentence" and "label"
columns, e.g. SST-2); dev.tsv becomes the test split and the early-stopping dev set is
taken from train.tsv.
"""

from __future__ import annotations

import contextlib
import copy
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from groundup.data.glue import GlueFormatError, read_glue_tsv
from groundup.finetune.classification import (
    BertClassifier,
    FineTuneResult,
    FineTuneSettings,
    encode_texts,
    fine_tune,
    predict,
)
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.metrics.classification import accuracy, f1
from groundup.models.bert import Bert, BertConfig, default_folder
from groundup.text.classify import LogisticRegression
from groundup.text.vectorize import TfidfVectorizer
from groundup.text.wordpiece import WordPieceTokenizer

LAB = "text_classification"
NEURAL = ("finetuned", "probe", "random")
TINY_RANDOM = "tiny-random"
MODELS = (*NEURAL, "tfidf")


@dataclass
class Config(LabConfig):
    model: str = ""  # a Hugging Face BERT folder; "" = all-MiniLM-L6-v2; "tiny-random" (tests)
    train_size: int = 320  # training sentences (--data: at most this many, 0 = all)
    dev_size: int = 80
    test_size: int = 200
    max_length: int = 64
    pooling: str = "mean"
    negation: bool = True  # False: only plain "X was Y" templates (an easier task)
    epochs: int = 4
    batch_size: int = 16
    lr: float = 1e-4  # finetuned and random
    probe_lr: float = 1e-2  # the head alone tolerates (and needs) a much larger step
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    layer_decay: float = 1.0
    grad_clip: float = 1.0
    patience: int = 3
    evals_per_epoch: int = 2


PRESETS: dict[str, dict] = {
    # micro: a small random BERT instead of MiniLM, so a test runs in seconds (it shows the
    # machinery learning, not the benefit of pretraining)
    "micro": {"model": TINY_RANDOM, "negation": False, "train_size": 160, "dev_size": 40,
              "test_size": 80, "epochs": 6, "lr": 1e-3, "max_length": 32,
              "evals_per_epoch": 1},
    "tiny": {},
    "full": {"train_size": 2000, "dev_size": 300, "test_size": 1000, "epochs": 4,
             "layer_decay": 0.9},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "model": Msg(
        "a local Hugging Face BERT folder to start from (empty: all-MiniLM-L6-v2; "
        "tiny-random: a small untrained BERT with MiniLM's vocabulary, for quick tests)",
        "ein lokaler Hugging-Face-BERT-Ordner als Ausgangspunkt (leer: all-MiniLM-L6-v2; "
        "tiny-random: ein kleines untrainiertes BERT mit MiniLMs Vokabular, für schnelle Tests)",
    ),
    "train_size": Msg(
        "training sentences (with --data: at most this many, 0 = all)",
        "Trainingssätze (mit --data: höchstens so viele, 0 = alle)",
    ),
    "dev_size": Msg(
        "sentences for choosing the best epoch (early stopping)",
        "Sätze zur Wahl der besten Epoche (Early Stopping)",
    ),
    "test_size": Msg(
        "held-out sentences for the final accuracy (with --data: at most this many of dev.tsv)",
        "zurückgehaltene Sätze für die finale Accuracy (mit --data: höchstens so viele aus dev.tsv)",
    ),
    "max_length": Msg(
        "longer texts are cut to this many tokens, [CLS] and [SEP] included",
        "längere Texte werden auf so viele Tokens gekürzt, [CLS] und [SEP] eingeschlossen",
    ),
    "pooling": Msg(
        "one vector per text: mean (of the tokens), cls or pooler (BERT's tanh layer)",
        "ein Vektor pro Text: mean (Mittel der Tokens), cls oder pooler (BERTs tanh-Schicht)",
    ),
    "probe_lr": Msg(
        "peak learning rate of the linear probe (only the head trains)",
        "höchste Lernrate der linearen Probe (nur der Kopf lernt)",
    ),
    "warmup_ratio": Msg(
        "share of the steps in which the learning rate rises from 0 to its peak",
        "Anteil der Schritte, in denen die Lernrate von 0 auf ihren Höchstwert steigt",
    ),
    "layer_decay": Msg(
        "layer-wise learning-rate decay: each layer below the top learns this factor slower",
        "schichtweiser Abfall der Lernrate: jede Schicht unter der obersten lernt um diesen "
        "Faktor langsamer",
    ),
    "negation": Msg(
        "use the templates with negation and contrast (off: only plain 'X was Y' sentences)",
        "Vorlagen mit Verneinung und Kontrast verwenden (aus: nur einfache Sätze 'X war Y')",
    ),
    "patience": Msg(
        "stop after this many dev evaluations without a better accuracy",
        "Abbruch nach so vielen Auswertungen auf dev ohne bessere Accuracy",
    ),
    "evals_per_epoch": Msg(
        "dev evaluations per epoch (points on the learning curve)",
        "Auswertungen auf dev pro Epoche (Punkte der Lernkurve)",
    ),
}

TRAINING = Msg("Fine-tuning ({model})", "Feinabstimmung ({model})")
BAD_DATA = Msg(
    "{detail}. --data must be a folder with train.tsv and dev.tsv (GLUE format: a header "
    "line naming the columns 'sentence' and 'label', tab-separated).",
    "{detail}. --data muss ein Ordner mit train.tsv und dev.tsv sein (GLUE-Format: eine "
    "Kopfzeile mit den Spalten 'sentence' und 'label', durch Tabulatoren getrennt).",
)
BAD_MODEL = Msg(
    "Cannot load the model {model}: {detail}",
    "Das Modell {model} lässt sich nicht laden: {detail}",
)

# ---------------------------------------------------------------- the embedded task

SUBJECTS = [
    "the film", "this movie", "the acting", "the story", "the ending", "the soundtrack",
    "the dialogue", "the cast", "the sequel", "this documentary", "the plot", "the camera work",
    "the script", "the lead performance", "the finale", "the pacing", "the humour",
    "the visuals", "the second half", "the animation",
]  # fmt: skip
POSITIVE = [
    "good", "great", "wonderful", "brilliant", "moving", "charming", "delightful", "gripping",
    "superb", "funny", "clever", "beautiful", "touching", "excellent", "memorable", "engaging",
    "fresh", "thoughtful", "stunning", "witty", "heartfelt", "enjoyable", "powerful", "lovely",
]  # fmt: skip
NEGATIVE = [
    "bad", "boring", "dull", "awful", "terrible", "clumsy", "tedious", "predictable", "bland",
    "forgettable", "messy", "weak", "lifeless", "painful", "shallow", "disappointing", "stale",
    "confusing", "dreadful", "flat", "tiresome", "silly", "pointless", "lazy",
]  # fmt: skip
ADVERBS = ["", "", "really", "truly", "quite", "very", "rather", "utterly", "genuinely"]
# (template, flips): {adj} carries the sentiment, {other} has the opposite one, {same} the same
TEMPLATES = [
    ("{subj} was {adv} {adj}.", False),
    ("i found {subj} {adv} {adj}.", False),
    ("{subj} is {adj} and {same}.", False),
    ("{subj} was not {adj}.", True),
    ("{subj} was never {adv} {adj}.", True),
    ("i did not find {subj} {adj}.", True),
    ("nothing about {subj} felt {adj}.", True),
    ("{subj} was far from {adj}.", True),
    ("{subj} could hardly be called {adj}.", True),
    ("everyone said {subj} would be {other}, but it was {adj}.", False),
    ("{subj} seemed {other} at first, but in the end it was {adj}.", False),
    ("i expected {subj} to be {adj}, and it was.", False),
    ("i expected {subj} to be {adj}, but it was not.", True),
    ("{subj} is not just {adj}, it is {same}.", False),
    ("{subj} was not {adj} at all; it was {other}.", True),
]

PLAIN_TEMPLATES = [(t, f) for t, f in TEMPLATES if not f and "{other}" not in t]


def held_out_words(words: list[str]) -> set[str]:
    """Every third adjective occurs only in the test split."""
    return set(words[2::3])


def make_sentence(rng: random.Random, unseen: bool, negation: bool = True) -> tuple[str, int]:
    label = rng.randrange(2)
    template, flips = rng.choice(TEMPLATES if negation else PLAIN_TEMPLATES)
    polarity = label ^ flips  # the sentiment of {adj} itself
    same_words, other_words = (POSITIVE, NEGATIVE) if polarity else (NEGATIVE, POSITIVE)

    def pick(words: list[str], from_unseen: bool) -> str:
        hidden = held_out_words(words)
        return rng.choice([w for w in words if (w in hidden) == from_unseen])

    text = template.format(
        subj=rng.choice(SUBJECTS),
        adv=rng.choice(ADVERBS),
        adj=pick(same_words, unseen),
        same=pick(same_words, unseen),
        other=pick(other_words, False),
    )
    return " ".join(text.split()), label  # an empty adverb leaves two spaces


def embedded_splits(
    cfg: Config,
) -> tuple[tuple[list[str], list[int]], ...]:
    """train, dev (seen adjectives only) and test (half of it with unseen adjectives)."""
    rng = random.Random(cfg.seed)
    seen_texts: set[str] = set()

    def draw(n: int, unseen_share: float) -> tuple[list[str], list[int]]:
        texts, labels = [], []
        while len(texts) < n:
            text, label = make_sentence(rng, len(texts) < unseen_share * n, cfg.negation)
            if text not in seen_texts:  # no sentence in two splits (or twice)
                seen_texts.add(text)
                texts.append(text)
                labels.append(label)
        order = rng.sample(range(n), n)
        return [texts[i] for i in order], [labels[i] for i in order]

    return draw(cfg.train_size, 0.0), draw(cfg.dev_size, 0.0), draw(cfg.test_size, 0.5)


def glue_splits(cfg: Config) -> tuple[tuple[list[str], list[int]], ...]:
    """train.tsv -> train + dev (for early stopping), dev.tsv -> test."""
    folder = Path(cfg.data or "")
    try:
        train_texts, train_labels = read_glue_tsv(folder / "train.tsv")
        test_texts, test_labels = read_glue_tsv(folder / "dev.tsv")
    except GlueFormatError as error:
        raise LabError(BAD_DATA.get(detail=str(error))) from None
    order = random.Random(cfg.seed).sample(range(len(train_texts)), len(train_texts))
    n_dev = min(cfg.dev_size, len(order) // 5)
    n_train = len(order) - n_dev if cfg.train_size == 0 else min(cfg.train_size, len(order) - n_dev)
    if n_train < 8 or n_dev < 2 or len(set(train_labels)) < 2:
        raise LabError(BAD_DATA.get(detail=f"{folder}: too few examples or only one label"))
    dev_ids, train_ids = order[:n_dev], order[n_dev : n_dev + n_train]
    test_ids = list(range(min(cfg.test_size or len(test_texts), len(test_texts))))

    def take(texts: list[str], labels: list[int], ids: list[int]) -> tuple[list[str], list[int]]:
        return [texts[i] for i in ids], [labels[i] for i in ids]

    return (
        take(train_texts, train_labels, train_ids),
        take(train_texts, train_labels, dev_ids),
        take(test_texts, test_labels, test_ids),
    )


# ---------------------------------------------------------------- the models


def check_config(cfg: Config) -> None:
    problems = []
    if cfg.pooling not in ("mean", "cls", "pooler"):
        problems.append(f"pooling must be mean, cls or pooler, got {cfg.pooling!r}")
    if cfg.data is None and min(cfg.train_size, cfg.dev_size, cfg.test_size) < 8:
        problems.append("train_size, dev_size and test_size must be at least 8")
    if cfg.max_length < 8 or cfg.epochs < 1 or cfg.batch_size < 1 or cfg.evals_per_epoch < 1:
        problems.append("max_length >= 8, epochs >= 1, batch_size >= 1, evals_per_epoch >= 1")
    if not 0.0 < cfg.layer_decay <= 1.0 or not 0.0 <= cfg.warmup_ratio < 1.0:
        problems.append("layer_decay must be in (0, 1], warmup_ratio in [0, 1)")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


def model_folder(cfg: Config) -> Path:
    return default_folder(None if cfg.model == TINY_RANDOM else cfg.model)


def load_encoder(cfg: Config, folder: Path, vocab_size: int) -> Bert:
    """The pretrained encoder, or for "tiny-random" a 2-layer BERT of width 64 with the
    same vocabulary, freshly initialised (seeded)."""
    if cfg.model != TINY_RANDOM:
        return Bert.from_pretrained(folder, allow_download=False)
    torch.manual_seed(cfg.seed)
    return Bert(BertConfig(vocab_size=vocab_size, hidden_size=64, num_hidden_layers=2,
                           num_attention_heads=4, intermediate_size=128,
                           max_position_embeddings=max(cfg.max_length, 8)))  # fmt: skip


def settings_for(cfg: Config, lr: float) -> FineTuneSettings:
    return FineTuneSettings(
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=lr,
        warmup_ratio=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay,
        layer_decay=cfg.layer_decay,
        max_grad_norm=cfg.grad_clip,
        patience=cfg.patience,
        evals_per_epoch=cfg.evals_per_epoch,
        seed=cfg.seed,
    )


def tfidf_baseline(
    train: tuple[list[str], list[int]], dev: tuple[list[str], list[int]]
) -> tuple[TfidfVectorizer, LogisticRegression]:
    """Words and word pairs ("not good"), TF-IDF weighted, and logistic regression; C is
    chosen on dev from a small grid, then the model is refitted with it."""
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_train = vectorizer.fit_transform(train[0])
    x_dev = vectorizer.transform(dev[0])
    best = (-1.0, 1.0)
    for c in (0.3, 1.0, 3.0, 10.0, 30.0):
        model = LogisticRegression(C=c).fit(x_train, np.asarray(train[1]))
        best = max(best, (accuracy(dev[1], model.predict(x_dev)), c))
    return vectorizer, LogisticRegression(C=best[1]).fit(x_train, np.asarray(train[1]))


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, LAB)
    if cfg.data:
        train, dev, test = glue_splits(cfg)
        source = str(cfg.data)
    else:
        train, dev, test = embedded_splits(cfg)
        source = "embedded templates"
    num_labels = max(max(train[1]), max(dev[1]), max(test[1])) + 1
    log = runner.MetricsLog(out / "metrics.jsonl")
    log.log(stage="data", source=source, train=len(train[0]), dev=len(dev[0]), test=len(test[0]))

    folder = model_folder(cfg)
    try:
        tokenizer = WordPieceTokenizer.from_pretrained(folder)
        pretrained = load_encoder(cfg, folder, tokenizer.vocab_size)
    except (OSError, ValueError, KeyError) as error:
        raise LabError(BAD_MODEL.get(model=folder, detail=str(error))) from None
    encoded = {
        name: (encode_texts(tokenizer, texts, cfg.max_length), labels)
        for name, (texts, labels) in (("train", train), ("dev", dev), ("test", test))
    }
    unseen = held_out_words(POSITIVE) | held_out_words(NEGATIVE)
    unseen_rows = [i for i, t in enumerate(test[0])
                   if not cfg.data and set(re.findall(r"[a-z]+", t)) & unseen]  # fmt: skip

    metrics: dict[str, float | int | str] = {"train_examples": len(train[0])}
    curves: dict[str, tuple[list[float], list[float]]] = {}
    losses: dict[str, tuple[list[float], list[float]]] = {}
    predictions: dict[str, list[int]] = {}
    cpu_seconds: dict[str, float] = {}
    threads = runner.one_torch_thread() if device == "cpu" else contextlib.nullcontext()
    with threads:
        for name in NEURAL:
            torch.manual_seed(cfg.seed)
            # "random": the same shape with a fresh BERT initialisation
            bert = Bert(pretrained.config) if name == "random" else copy.deepcopy(pretrained)
            model = BertClassifier(bert, num_labels, pooling=cfg.pooling).to(device)
            if name == "probe":
                model.bert.requires_grad_(False)
            lr = cfg.probe_lr if name == "probe" else cfg.lr
            cpu_start = time.process_time()
            result = train_one(cfg, name, model, encoded, tokenizer.pad_id, lr)
            cpu_seconds[name] = time.process_time() - cpu_start
            predictions[name] = predict(model, encoded["test"][0], tokenizer.pad_id)
            scores = {"accuracy": accuracy(test[1], predictions[name]),
                      "f1": float(f1(test[1], predictions[name], average="macro"))}  # fmt: skip
            curves[name] = ([h["step"] for h in result.history],
                            [h["accuracy"] for h in result.history])  # fmt: skip
            losses[name] = smoothed(result.losses)
            metrics[f"dev_accuracy_{name}"] = round(result.best_accuracy, 4)
            metrics[f"test_accuracy_{name}"] = round(scores["accuracy"], 4)
            metrics[f"test_f1_{name}"] = round(scores["f1"], 4)
            metrics[f"trainable_params_{name}"] = sum(
                p.numel() for p in model.parameters() if p.requires_grad
            )
            log.log(stage="trained", model=name, history=result.history,
                    best_step=result.best_step, stopped_early=result.stopped_early,
                    cpu_seconds=round(cpu_seconds[name], 2), **scores)  # fmt: skip
            del model, bert
        cpu_start = time.process_time()
        vectorizer, tfidf_model = tfidf_baseline(train, dev)
        cpu_seconds["tfidf"] = time.process_time() - cpu_start
        predictions["tfidf"] = [int(p) for p in tfidf_model.predict(vectorizer.transform(test[0]))]
        dev_tfidf = accuracy(dev[1], tfidf_model.predict(vectorizer.transform(dev[0])))
        metrics["dev_accuracy_tfidf"] = round(dev_tfidf, 4)
        metrics["test_accuracy_tfidf"] = round(accuracy(test[1], predictions["tfidf"]), 4)
        metrics["test_f1_tfidf"] = round(
            float(f1(test[1], predictions["tfidf"], average="macro")), 4
        )
        metrics["trainable_params_tfidf"] = int(tfidf_model.coef.size + tfidf_model.intercept.size)

    if unseen_rows:
        seen_rows = sorted(set(range(len(test[0]))) - set(unseen_rows))
        for part, rows in (("unseen", unseen_rows), ("seen", seen_rows)):
            truth = [test[1][i] for i in rows]
            for name in MODELS:
                guess = [predictions[name][i] for i in rows]
                metrics[f"{part}_words_accuracy_{name}"] = round(accuracy(truth, guess), 4)
    for name in MODELS:
        metrics[f"cpu_seconds_{name}"] = round(cpu_seconds[name], 2)
    last_step = max(max(xs) for xs, _ in curves.values())
    curves["tfidf"] = ([0, last_step], [dev_tfidf, dev_tfidf])
    artifacts = {
        "learning_curves": runner.save_line_plot(
            out / "learning_curves.png", curves, "Dev accuracy during training",
            "optimizer step", "dev accuracy"),
        "training_loss": runner.save_line_plot(
            out / "training_loss.png", losses, "Training loss (moving average)",
            "optimizer step", "cross-entropy", logy=True),
        "metrics": out / "metrics.jsonl",
        "config": out / "config.json",
    }  # fmt: skip
    metrics["seconds"] = round(timer.seconds, 2)
    log.log(stage="done", **metrics)
    log.close()
    return LabReport(LAB, out, metrics, artifacts, text=table(metrics, bool(unseen_rows)),
                     seconds=timer.seconds)  # fmt: skip


def train_one(
    cfg: Config,
    name: str,
    model: BertClassifier,
    encoded: dict,
    pad_id: int,
    lr: float,
) -> FineTuneResult:
    steps_per_epoch = -(-len(encoded["train"][0]) // cfg.batch_size)
    with runner.progress(steps_per_epoch * cfg.epochs, TRAINING.get(model=name), cfg.quiet) as bar:
        return fine_tune(
            model,
            encoded["train"],
            encoded["dev"],
            pad_id,
            settings_for(cfg, lr),
            on_step=lambda step, total, loss: bar.update(info=f"loss {loss:.3f}"),
        )


def smoothed(values: list[float], window: int = 5) -> tuple[list[float], list[float]]:
    """A trailing moving average, so the curve shows the trend rather than batch noise."""
    out = [float(np.mean(values[max(0, i - window + 1) : i + 1])) for i in range(len(values))]
    return [float(i + 1) for i in range(len(values))], out


def table(metrics: dict, with_unseen: bool) -> str:
    header = f"{'model':<10} {'dev acc':>8} {'test acc':>9} {'test F1':>8}"
    header += f" {'unseen':>7}" if with_unseen else ""
    header += f" {'trainable':>11} {'CPU s':>7}"
    lines = [header]
    for name in MODELS:
        row = (f"{name:<10} {metrics[f'dev_accuracy_{name}']:>8.3f} "
               f"{metrics[f'test_accuracy_{name}']:>9.3f} {metrics[f'test_f1_{name}']:>8.3f}")  # fmt: skip
        if with_unseen:
            row += f" {metrics[f'unseen_words_accuracy_{name}']:>7.3f}"
        row += f" {metrics[f'trainable_params_{name}']:>11,} {metrics[f'cpu_seconds_{name}']:>7.1f}"
        lines.append(row)
    return "\n".join(lines)
