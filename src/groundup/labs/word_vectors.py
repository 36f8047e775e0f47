"""Lab: word vectors from the docstrings of Python's standard library.

1. The corpus: lower-case words and identifiers, one sentence per paragraph.
2. Four models on the same words: skip-gram and CBOW (word2vec with negative sampling),
   GloVe (weighted least squares on 1/distance co-occurrence counts) and fastText-style
   skip-gram on character n-grams. Each is timed in words per second (corpus words x
   epochs / training seconds).
3. Probes: nearest neighbours of a few words, the analogy accuracy and the Spearman
   correlation with a hand-written list of scored word pairs (text/word_eval.py).
4. Words the corpus never had, given vectors by fastText from their n-grams.
5. Plots: the training loss of each model, and a 2-D PCA map of the skip-gram vectors of
   the probe words.
With --data FILE: any UTF-8 text instead (the probes then use the words it contains).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groundup.data.corpus import load_corpus
from groundup.data.text import TextFileError, read_text
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.text.fasttext import FastText
from groundup.text.glove import GloVe, cooccurrence
from groundup.text.word2vec import Word2Vec, corpus_sentences
from groundup.text.word_eval import (
    ANALOGIES,
    SIMILARITY_PAIRS,
    analogy_accuracy,
    nearest_neighbours,
    pca_2d,
    similarity_correlation,
)

LAB = "word_vectors"
MODELS = ("skipgram", "cbow", "glove", "fasttext")
QUERY_WORDS = ("read", "file", "thread", "error", "list", "socket", "encode", "true")
OOV_WORDS = ("rereading", "sockets2", "multithreaded", "filenamesx", "decoders")


@dataclass
class Config(LabConfig):
    dim: int = 50
    window: int = 5
    negative: int = 5  # noise words per true pair
    sample: float = 1e-3
    min_count: int = 5
    epochs: int = 5  # word2vec and fastText
    glove_epochs: int = 25
    glove_window: int = 10
    x_max: float = 100.0
    buckets: int = 100_000
    batch_size: int = 512
    lr: float = 0.1  # skip-gram and fastText; CBOW uses twice this
    max_words: int = 0  # 0: the whole corpus


PRESETS: dict[str, dict] = {
    "micro": {"max_words": 60_000, "epochs": 3, "glove_epochs": 15, "dim": 32,
              "buckets": 20_000, "min_count": 3},
    "tiny": {},
    "full": {"dim": 100, "epochs": 15, "glove_epochs": 50, "buckets": 500_000},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "dim": Msg("length of each word vector", "Länge jedes Wortvektors"),
    "window": Msg(
        "largest distance between a word and a context word (word2vec, fastText)",
        "größter Abstand zwischen einem Wort und einem Kontextwort (word2vec, fastText)",
    ),
    "negative": Msg(
        "noise words drawn per true pair (negative sampling)",
        "pro echtem Paar gezogene Rauschwörter (Negative Sampling)",
    ),
    "sample": Msg(
        "subsampling threshold: frequent words are dropped more often (0: off)",
        "Schwelle des Subsamplings: häufige Wörter fallen öfter weg (0: aus)",
    ),
    "min_count": Msg(
        "words seen fewer times are left out of the vocabulary",
        "seltener gesehene Wörter bleiben aus dem Vokabular",
    ),
    "glove_epochs": Msg(
        "passes over the co-occurrence entries (GloVe)",
        "Durchläufe über die Kookkurrenzeinträge (GloVe)",
    ),
    "glove_window": Msg(
        "words counted as co-occurring up to this distance (GloVe)",
        "Wörter gelten bis zu diesem Abstand als gemeinsam auftretend (GloVe)",
    ),
    "x_max": Msg(
        "GloVe's weighting f(x) reaches 1 at this count",
        "GloVes Gewichtung f(x) erreicht bei dieser Zählung den Wert 1",
    ),
    "buckets": Msg(
        "rows shared by all character n-grams through hashing (fastText)",
        "Zeilen, die sich alle Zeichen-N-Gramme per Hashing teilen (fastText)",
    ),
    "max_words": Msg(
        "train on at most this many words of the text (0: all)",
        "höchstens so viele Wörter des Textes verwenden (0: alle)",
    ),
}

TRAINING = Msg("Training {model}", "Trainiere {model}")
ONLY_CPU = Msg(
    "This lab runs in NumPy on the CPU only; use --device cpu or auto.",
    "Dieses Lab läuft mit NumPy nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_SMALL = Msg(
    "{source}: {words} words and {vocab} distinct words seen at least {min_count} times; "
    "this lab needs at least 1000 words and 20 distinct words.",
    "{source}: {words} Wörter und {vocab} verschiedene Wörter, die mindestens {min_count}-mal "
    "vorkommen; dieses Lab braucht mindestens 1000 Wörter und 20 verschiedene Wörter.",
)
NEIGHBOURS_TITLE = Msg("Nearest neighbours (cosine):", "Nächste Nachbarn (Kosinus):")
OOV_TITLE = Msg(
    "Words not in the corpus, vectors built by fastText from n-grams:",
    "Wörter, die nicht im Korpus stehen, Vektoren von fastText aus N-Grammen gebildet:",
)


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if min(cfg.dim, cfg.window, cfg.negative, cfg.min_count, cfg.epochs, cfg.glove_epochs,
           cfg.glove_window, cfg.buckets, cfg.batch_size) < 1:  # fmt: skip
        problems.append("dim, window, negative, min_count, epochs, glove_epochs, glove_window, "
                        "buckets and batch_size must be >= 1")  # fmt: skip
    if cfg.sample < 0 or cfg.lr <= 0 or cfg.x_max <= 0 or cfg.max_words < 0:
        problems.append("sample and max_words must be >= 0, lr and x_max > 0")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


def load_sentences(cfg: Config) -> tuple[list[list[str]], str]:
    if cfg.data is None:
        text, source = load_corpus(), "standard-library docstrings"
    else:
        try:
            text, source = read_text(cfg.data), cfg.data
        except TextFileError as error:
            raise LabError(str(error)) from None
    sentences = corpus_sentences(text)
    if cfg.max_words:
        kept, total = [], 0
        for s in sentences:
            if total >= cfg.max_words:
                break
            kept.append(s)
            total += len(s)
        sentences = kept
    n_words = sum(len(s) for s in sentences)
    counts: dict[str, int] = {}
    for s in sentences:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    vocab = sum(c >= cfg.min_count for c in counts.values())
    if n_words < 1000 or vocab < 20:
        raise LabError(TOO_SMALL.get(source=source, words=n_words, vocab=vocab,
                                     min_count=cfg.min_count))  # fmt: skip
    return sentences, source


def train_word2vec(cfg: Config, sentences: list[list[str]], name: str) -> tuple[Word2Vec, float]:
    cls = FastText if name == "fasttext" else Word2Vec
    extra = {"buckets": cfg.buckets} if name == "fasttext" else {}
    model = cls(dim=cfg.dim, window=cfg.window, negative=cfg.negative, sample=cfg.sample,
                min_count=cfg.min_count, epochs=cfg.epochs, batch_size=cfg.batch_size,
                lr=2 * cfg.lr if name == "cbow" else cfg.lr,  # CBOW: one mean step per window
                cbow=name == "cbow", seed=cfg.seed, **extra)  # fmt: skip
    with runner.progress(cfg.epochs, TRAINING.get(model=name), cfg.quiet) as bar:

        def step(epoch: int, done: int, batches: int) -> None:
            if done == batches:
                bar.update(info=f"loss {np.mean(model.losses[-batches:]):.3f}")

        start = time.perf_counter()
        model.fit(sentences, callback=step)
        seconds = time.perf_counter() - start
    return model, seconds


def train_glove(cfg: Config, sentences: list[list[str]], words: list[str]) -> tuple[GloVe, float]:
    index = {w: i for i, w in enumerate(words)}
    ids = [np.array([index[w] for w in s if w in index], dtype=np.int64) for s in sentences]
    model = GloVe(dim=cfg.dim, x_max=cfg.x_max, epochs=cfg.glove_epochs, seed=cfg.seed)
    with runner.progress(cfg.glove_epochs, TRAINING.get(model="glove"), cfg.quiet) as bar:
        start = time.perf_counter()
        counts = cooccurrence([s for s in ids if len(s)], len(words), cfg.glove_window)
        model.fit(counts, callback=lambda epoch, loss: bar.update(info=f"loss {loss:.4f}"))
        seconds = time.perf_counter() - start
    return model, seconds


def probe(vectors: np.ndarray, words: list[str]) -> dict[str, float]:
    rho, pairs = similarity_correlation(vectors, words, SIMILARITY_PAIRS)
    accuracy, quads = analogy_accuracy(vectors, words, ANALOGIES)
    index = {w: i for i, w in enumerate(words)}
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    related = [unit[index[a]] @ unit[index[b]] for a, b, s in SIMILARITY_PAIRS
               if s >= 7 and a in index and b in index]  # fmt: skip
    rng = np.random.default_rng(0)
    random_pairs = rng.integers(0, len(words), size=(2000, 2))
    baseline = np.einsum("nd,nd->n", unit[random_pairs[:, 0]], unit[random_pairs[:, 1]])
    return {"similarity_spearman": rho, "similarity_pairs": pairs, "analogy_accuracy": accuracy,
            "analogies": quads, "related_cosine": float(np.mean(related)) if related else np.nan,
            "random_cosine": float(baseline.mean())}  # fmt: skip


def neighbour_table(all_vectors: dict[str, np.ndarray], words: list[str]) -> str:
    index = {w: i for i, w in enumerate(words)}
    queries = [w for w in QUERY_WORDS if w in index] or words[5:10]
    lines = [NEIGHBOURS_TITLE.get()]
    for query in queries:
        lines.append(f"  {query}")
        for name, vectors in all_vectors.items():
            ids, _ = nearest_neighbours(vectors, vectors[[index[query]]], 6)
            found = [words[i] for i in ids[0] if i != index[query]][:5]
            lines.append(f"    {name:<9} {' '.join(found)}")
    return "\n".join(lines)


def oov_table(model: FastText) -> tuple[str, int, float]:
    """Neighbours of unseen words, and the share of them whose five nearest words include
    one with the same first five letters (e.g. "decoders" -> "decoder")."""
    vectors = model.vectors
    lines, shown, same_stem = [OOV_TITLE.get()], 0, 0
    for word in OOV_WORDS:
        if word in model.vocab.stoi:
            continue
        ids, _ = nearest_neighbours(vectors, model.vector(word)[None, :], 5)
        found = [model.words[i] for i in ids[0]]
        lines.append(f"  {word:<14} {' '.join(found)}")
        shown += 1
        same_stem += any(w[:5] == word[:5] for w in found)
    return "\n".join(lines), shown, same_stem / max(shown, 1)


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    timer = runner.Timer()
    out = runner.start(cfg, LAB)
    sentences, source = load_sentences(cfg)
    n_words = sum(len(s) for s in sentences)
    log = runner.MetricsLog(out / "metrics.jsonl")
    log.log(stage="corpus", source=source, sentences=len(sentences), words=n_words)

    metrics: dict[str, float | int | str] = {"words": n_words}
    all_vectors: dict[str, np.ndarray] = {}
    curves: dict[str, tuple[list[float], list[float]]] = {}
    models: dict[str, Word2Vec] = {}
    for name in ("skipgram", "cbow", "fasttext"):
        model, seconds = train_word2vec(cfg, sentences, name)
        models[name] = model
        all_vectors[name] = model.vectors
        metrics[f"words_per_s_{name}"] = round(n_words * cfg.epochs / seconds)
        curves[name] = smoothed_curve(model.losses)
    words = models["skipgram"].words
    metrics["vocabulary"] = len(words)
    glove, seconds = train_glove(cfg, sentences, words)
    all_vectors = {"skipgram": all_vectors["skipgram"], "cbow": all_vectors["cbow"],
                   "glove": glove.vectors, "fasttext": all_vectors["fasttext"]}  # fmt: skip
    metrics["words_per_s_glove"] = round(n_words * cfg.glove_epochs / seconds)
    curves["glove"] = ([(i + 1) / len(glove.losses) for i in range(len(glove.losses))],
                       glove.losses)  # fmt: skip
    for name in MODELS:
        metrics[f"loss_last_over_first_{name}"] = round(curves[name][1][-1] / curves[name][1][0], 3)
    for name in MODELS:
        figures = probe(all_vectors[name], words)
        log.log(stage="probe", model=name, **figures)
        metrics[f"spearman_{name}"] = round(figures["similarity_spearman"], 3)
        metrics[f"analogy_{name}"] = round(figures["analogy_accuracy"], 3)
        metrics[f"related_minus_random_cosine_{name}"] = round(
            figures["related_cosine"] - figures["random_cosine"], 3
        )
    metrics["similarity_pairs"] = figures["similarity_pairs"]
    metrics["analogies"] = figures["analogies"]

    oov, shown, same_stem = oov_table(models["fasttext"])  # type: ignore[arg-type]
    text = neighbour_table(all_vectors, words) + "\n\n" + oov
    artifacts = {
        "loss_plot": runner.save_line_plot(
            out / "training_loss.png",
            curves,
            "Training loss (word2vec, fastText: per pair; GloVe: per entry)",
            "fraction of training",
            "loss",
            logy=True,
        ),  # fmt: skip
        "projection": plot_projection(out / "projection.png", all_vectors["skipgram"], words),
        "metrics": out / "metrics.jsonl",
        "config": out / "config.json",
    }
    metrics["oov_words_shown"] = shown
    metrics["oov_neighbour_same_stem"] = round(same_stem, 2)
    metrics["seconds"] = round(timer.seconds, 2)
    log.log(stage="done", **metrics)
    log.close()
    return LabReport(LAB, out, metrics, artifacts, text=text, seconds=timer.seconds)


def smoothed_curve(losses: list[float], points: int = 100) -> tuple[list[float], list[float]]:
    chunks = np.array_split(np.asarray(losses), min(points, len(losses)))
    xs = np.cumsum([len(c) for c in chunks]) / len(losses)
    return xs.tolist(), [float(c.mean()) for c in chunks]


def plot_projection(path: Path, vectors: np.ndarray, words: list[str]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    index = {w: i for i, w in enumerate(words)}
    chosen = sorted({w for a, b, _ in SIMILARITY_PAIRS[:30] for w in (a, b) if w in index})
    chosen = chosen or words[:40]
    points = pca_2d(vectors[[index[w] for w in chosen]])
    fig, ax = plt.subplots(figsize=(8, 6.5), dpi=110)
    ax.scatter(points[:, 0], points[:, 1], s=10, color="tab:blue")
    for (x, y), word in zip(points, chosen, strict=True):
        ax.annotate(word, (x, y), fontsize=7, xytext=(2, 2), textcoords="offset points")
    ax.set_title("Skip-gram vectors of the probe words, two main directions (PCA)")
    ax.set_xlabel("direction 1")
    ax.set_ylabel("direction 2")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
