"""Lab: classify documents with TF-IDF and logistic regression, then map them with LSA.

Data: the docstrings of Python's standard library (no download), each labelled with the
family of modules it comes from: internet (email, http, urllib, ...), concurrency (asyncio,
threading, ...), numbers (decimal, fractions, statistics, ...), files (zipfile, pathlib,
...), language (typing, ast, inspect, ...) and testing (unittest, doctest, pdb, ...).
With --data FILE, a GLUE-style TSV file (sentence<TAB>label with a header) instead, or a
folder with train.tsv and dev.tsv (GLUE's layout, e.g. SST-2), whose split is kept.

1. A stratified split into training and test documents.
2. Three classifiers, each logistic regression trained by L-BFGS on the training part:
   binary bag of words (the baseline), TF-IDF (sublinear tf, unigrams and bigrams), and
   LSA (unigram TF-IDF without stop words, reduced to `components` dimensions by a
   truncated SVD).
3. Topics: the terms with the largest weights in each of the first LSA components.
4. Nearest documents by cosine similarity: how often a test document's nearest training
   document has the same label, in TF-IDF space and in LSA space, plus a few examples.
5. A 2-D map of all documents (the two main directions of their LSA vectors), coloured by
   label, and the training loss of each classifier.
6. Extractive summarization of short embedded texts (groundup.data.summaries, also with
   --data): TextRank, PageRank on a graph of sentence similarities (word overlap or TF-IDF
   cosine), against the first k sentences (lead-k), k random sentences and the best k
   sentences one could pick (oracle, found by trying every choice against the reference),
   each scored by ROUGE-1, ROUGE-2 and ROUGE-L F1 against a reference written by hand.
"""

from __future__ import annotations

import ast
import csv
import itertools
import os
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from groundup.data.glue import GlueFormatError, read_glue_tsv
from groundup.data.summaries import DOCUMENTS as SUMMARY_DOCUMENTS
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.metrics.classification import accuracy
from groundup.metrics.rouge import rouge
from groundup.text.classify import LogisticRegression
from groundup.text.lsa import TruncatedSVD, nearest, randomized_svd, top_terms
from groundup.text.textrank import textrank_scores, top_k_in_order
from groundup.text.tokenize import STOP_WORDS_EN, split_sentences
from groundup.text.vectorize import CountVectorizer, TfidfVectorizer

LAB = "tfidf_lsa"
FAMILIES: dict[str, tuple[str, ...]] = {
    "internet": ("email", "http", "urllib", "smtplib", "imaplib", "poplib", "ftplib", "mailbox",
                 "xmlrpc", "wsgiref", "html", "mimetypes"),
    "concurrency": ("asyncio", "concurrent", "multiprocessing", "threading", "subprocess",
                    "selectors", "queue", "sched", "socketserver"),
    "numbers": ("_pydecimal", "fractions", "statistics", "random", "numbers"),
    "files": ("zipfile", "tarfile", "gzip", "lzma", "shutil", "pathlib", "tempfile", "glob",
              "fileinput", "csv", "configparser"),
    "language": ("typing", "ast", "inspect", "dataclasses", "enum", "types", "functools",
                 "operator", "copy"),
    "testing": ("unittest", "doctest", "pdb", "bdb", "traceback", "timeit"),
}  # fmt: skip
MIN_DOC_CHARS = 60
SKIP_DIRS = {"test", "tests", "idle_test", "__pycache__"}
MODELS = ("bag_of_words", "tfidf", "lsa")


@dataclass
class Config(LabConfig):
    docs_per_label: int = 240  # at most this many docstrings of each module family
    test_fraction: float = 0.25
    C: float = 10.0  # noqa: N815 (inverse L2 strength, scikit-learn's name)
    max_iter: int = 300
    components: int = 100  # LSA dimensions
    power_iterations: int = 7
    topics: int = 6  # LSA components whose top terms are shown
    max_docs: int = 20_000  # with --data: at most this many examples of each file
    summary_sentences: int = 2  # k: sentences an extractive summary keeps
    random_draws: int = 20  # random-k baseline: mean over this many draws per text


PRESETS: dict[str, dict] = {
    "micro": {"docs_per_label": 70, "components": 30, "max_iter": 150},
    "tiny": {},
    "full": {"docs_per_label": 10_000, "components": 200, "max_iter": 1000,
             "max_docs": 200_000},
}  # fmt: skip

FIELD_HELP: dict[str, Msg] = {
    "docs_per_label": Msg(
        "at most this many docstrings from each family of standard-library modules",
        "höchstens so viele Docstrings aus jeder Familie von Standardbibliotheksmodulen",
    ),
    "C": Msg(
        "inverse strength of the L2 penalty of logistic regression (larger: weaker)",
        "Kehrwert der Stärke der L2-Strafe der logistischen Regression (größer: schwächer)",
    ),
    "max_iter": Msg(
        "most L-BFGS iterations per classifier",
        "höchstens so viele L-BFGS-Iterationen pro Klassifikator",
    ),
    "components": Msg(
        "dimensions kept by the truncated SVD (LSA)",
        "Dimensionen, die die abgeschnittene SVD (LSA) behält",
    ),
    "power_iterations": Msg(
        "power iterations of the randomized SVD (more: more accurate, slower)",
        "Potenziterationen der randomisierten SVD (mehr: genauer, langsamer)",
    ),
    "topics": Msg(
        "LSA components whose most important terms are listed",
        "LSA-Komponenten, deren wichtigste Terme aufgelistet werden",
    ),
    "max_docs": Msg(
        "with --data: use at most this many examples of each file",
        "mit --data: höchstens so viele Beispiele aus jeder Datei verwenden",
    ),
    "summary_sentences": Msg(
        "sentences each extractive summary keeps (TextRank, lead-k, random-k, oracle)",
        "Sätze, die jede extraktive Zusammenfassung behält (TextRank, Lead-k, Zufall-k, Orakel)",
    ),
    "random_draws": Msg(
        "random-k baseline: its ROUGE is the mean over this many random choices per text",
        "Zufallsbaseline: ihr ROUGE ist der Mittelwert über so viele zufällige Auswahlen je Text",
    ),
}

TRAINING = Msg("Training {model}", "Trainiere {model}")
ONLY_CPU = Msg(
    "This lab runs in NumPy on the CPU only; use --device cpu or auto.",
    "Dieses Lab läuft mit NumPy nur auf der CPU; nehmen Sie --device cpu oder auto.",
)
TOO_SMALL = Msg(
    "{source}: {detail}; this lab needs at least two labels with {need} examples each.",
    "{source}: {detail}; dieses Lab braucht mindestens zwei Labels mit je {need} Beispielen.",
)
MIN_PER_LABEL = 4
TOPICS_TITLE = Msg(
    "LSA topics (top terms per component):", "LSA-Themen (wichtigste Terme je Komponente):"
)
SUMMARIES_TITLE = Msg(
    "Extractive summaries of {count} short texts, {k} sentences each (ROUGE F1, stemmed):",
    "Extraktive Zusammenfassungen von {count} kurzen Texten, je {k} Sätze (ROUGE-F1, "
    "mit Stemming):",
)
NEIGHBOURS_TITLE = Msg(
    "Nearest training documents (LSA, cosine) of one test document per label:",
    "Nächste Trainingsdokumente (LSA, Kosinus) je eines Testdokuments pro Label:",
)


# ---------------------------------------------------------------- data


def docstring_documents(per_label: int, seed: int) -> tuple[list[str], list[str]]:
    """Docstrings of at least MIN_DOC_CHARS characters, labelled by module family; at most
    per_label of each family, drawn at random (seeded) when there are more."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    rng = np.random.default_rng(seed)
    documents, labels = [], []
    for label, modules in FAMILIES.items():
        found = sorted({doc for module in modules for doc in module_docstrings(stdlib, module)})
        if len(found) > per_label:
            found = [found[i] for i in sorted(rng.choice(len(found), per_label, replace=False))]
        documents += found
        labels += [label] * len(found)
    return documents, labels


def module_docstrings(stdlib: Path, name: str) -> list[str]:
    """Docstrings of a module or package, read with `ast` (nothing is imported)."""
    single = stdlib / f"{name}.py"
    files = [single] if single.is_file() else []
    if not files and (stdlib / name).is_dir():
        for root, dirs, names in os.walk(stdlib / name):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            files += [Path(root) / n for n in sorted(names) if n.endswith(".py")]
    docs = []
    for file in files:
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        docs += [doc for doc in definition_docstrings(tree) if len(doc) >= MIN_DOC_CHARS]
    return docs


def definition_docstrings(node: ast.AST) -> list[str]:
    """Docstrings of a module, its classes and functions; only definitions are entered, so
    the expressions inside function bodies (most of a syntax tree) are never visited."""
    docs = []
    if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        doc = ast.get_docstring(node)
        docs += [doc] if doc else []
    for child in getattr(node, "body", []):
        if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | ast.If):
            docs += definition_docstrings(child)  # "if" for definitions per platform
    return docs


def load_documents(cfg: Config) -> tuple[list[str], list[str], str, int | None]:
    """(documents, labels, source, n_train): with a folder holding train.tsv and dev.tsv the
    first n_train documents are train.tsv's (at most max_docs), the rest dev.tsv's;
    otherwise n_train is None and the lab splits the documents itself."""
    if cfg.data is None:
        docs, labels = docstring_documents(cfg.docs_per_label, cfg.seed)
        return docs, labels, "standard-library docstrings", None
    folder = Path(cfg.data)
    files = [folder / "train.tsv", folder / "dev.tsv"] if folder.is_dir() else [folder]
    parts = []
    for file in files:
        try:
            sentences, labels = read_glue_tsv(file)
        except GlueFormatError as error:
            raise LabError(str(error)) from None
        parts.append((sentences[: cfg.max_docs], [str(label) for label in labels[: cfg.max_docs]]))
    documents = [doc for part in parts for doc in part[0]]
    labels = [label for part in parts for label in part[1]]
    return documents, labels, cfg.data, len(parts[0][0]) if len(parts) == 2 else None


def stratified_split(
    labels: list[str], test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with each label split in the same proportion."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in sorted(set(labels)):
        ids = rng.permutation([i for i, x in enumerate(labels) if x == label])
        n_test = max(1, round(test_fraction * len(ids)))
        test += list(ids[:n_test])
        train += list(ids[n_test:])
    return np.sort(train), np.sort(test)


def check_config(cfg: Config) -> None:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    problems = []
    if not 0 < cfg.test_fraction < 1:
        problems.append("test_fraction must be between 0 and 1")
    if cfg.C <= 0:
        problems.append("C must be > 0")
    if min(cfg.docs_per_label, cfg.components, cfg.max_iter, cfg.topics, cfg.max_docs,
           cfg.summary_sentences, cfg.random_draws) < 1:  # fmt: skip
        problems.append("docs_per_label, components, max_iter, topics, max_docs, "
                        "summary_sentences and random_draws must be >= 1")  # fmt: skip
    if cfg.power_iterations < 0:
        problems.append("power_iterations must be >= 0")
    if problems:
        raise LabError(runner.BAD_SETTING.get(detail="; ".join(problems)))


def check_data(labels: list[str], source: str) -> None:
    counts = {label: labels.count(label) for label in set(labels)}
    enough = [label for label, n in counts.items() if n >= MIN_PER_LABEL]
    if len(enough) < 2 or len(enough) < len(counts):
        detail = ", ".join(f"{label}: {n}" for label, n in sorted(counts.items()))
        raise LabError(TOO_SMALL.get(source=source, detail=detail or "no examples",
                                     need=MIN_PER_LABEL))  # fmt: skip


# ---------------------------------------------------------------- the run


def run(cfg: Config) -> LabReport:
    check_config(cfg)
    # small matrix products: on a busy machine, BLAS threads mostly wait for each other
    with threadpool_limits(1):
        return run_lab(cfg)


def run_lab(cfg: Config) -> LabReport:
    timer = runner.Timer()  # every random draw below has its own generator seeded by cfg.seed
    out = runner.out_dir(cfg, LAB)
    runner.save_config(cfg, out)
    documents, labels, source, n_train = load_documents(cfg)
    check_data(labels, source)
    y = np.array(labels)
    if n_train is None:
        train, test = stratified_split(labels, cfg.test_fraction, cfg.seed)
    else:  # the file's own split: train.tsv, then dev.tsv
        train, test = np.arange(n_train), np.arange(n_train, len(documents))
    train_docs = [documents[i] for i in train]
    test_docs = [documents[i] for i in test]
    log = runner.MetricsLog(out / "metrics.jsonl")

    # 1. features: binary counts (baseline), TF-IDF, and TF-IDF reduced by a truncated SVD
    counts = CountVectorizer(binary=True)
    tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2)
    try:
        features = {
            "bag_of_words": (counts.fit_transform(train_docs), counts.transform(test_docs)),
            "tfidf": (tfidf.fit_transform(train_docs), tfidf.transform(test_docs)),
        }
    except ValueError as error:  # e.g. no word of two letters in any document
        log.close()
        raise LabError(f"{source}: {error}") from None
    # LSA on unigrams without stop words: its components double as readable topics
    words = TfidfVectorizer(sublinear_tf=True, stop_words=STOP_WORDS_EN, min_df=2)
    x_words = words.fit_transform(train_docs), words.transform(test_docs)
    k = min(cfg.components, min(x_words[0].shape) - 1)
    lsa = TruncatedSVD(k=k, power_iterations=cfg.power_iterations, seed=cfg.seed)
    features["lsa"] = (lsa.fit_transform(x_words[0]), lsa.transform(x_words[1]))
    log.log(stage="features", documents=len(documents), train=len(train), test=len(test),
            terms_bag_of_words=len(counts.vocabulary), terms_tfidf=len(tfidf.vocabulary),
            terms_lsa=len(words.vocabulary), lsa_components=k)  # fmt: skip

    # 2. one logistic regression per feature set
    metrics: dict[str, float | int | str] = {}
    losses: dict[str, list[float]] = {}
    for name in MODELS:
        x_train, x_test = features[name]
        model = LogisticRegression(C=cfg.C, max_iter=cfg.max_iter, tol=1e-5)
        with runner.progress(cfg.max_iter, TRAINING.get(model=name), cfg.quiet) as bar:

            def step(iteration: int, loss: float, bar: Any = bar) -> None:
                bar.update(info=f"loss {loss:.4f}")

            model.fit(x_train, y[train], callback=step)
        losses[name] = model.losses
        metrics[f"accuracy_{name}"] = accuracy(y[test], model.predict(x_test))
        metrics[f"train_accuracy_{name}"] = accuracy(y[train], model.predict(x_train))
        log.log(stage="classify", model=name, iterations=len(model.losses) - 1,
                loss=model.losses[-1], test_accuracy=metrics[f"accuracy_{name}"])  # fmt: skip
    majority = max(set(labels[i] for i in train), key=lambda label: (y[train] == label).sum())
    metrics["accuracy_majority_label"] = accuracy(y[test], [majority] * len(test))

    # 3. topics: the strongest terms of the first LSA components (the first one is close to
    # the average document, the later ones contrast groups of documents)
    terms = words.feature_names()
    topics = top_terms(lsa.components[: cfg.topics], terms, n=8)

    # 4. nearest training document of each test document, in TF-IDF and in LSA space
    for name in ("tfidf", "lsa"):
        ids, _ = nearest(features[name][1], features[name][0], n=1)
        metrics[f"nearest_same_label_{name}"] = float(np.mean(y[train][ids[:, 0]] == y[test]))
    examples = neighbour_examples(features["lsa"], documents, y, train, test)

    # 5. the 2-D map: the two main directions of the centred, unit-length LSA vectors
    points = np.vstack([features["lsa"][0], features["lsa"][1]])
    points = points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
    points -= points.mean(axis=0)
    u, s, _ = randomized_svd(points, 2, seed=cfg.seed)
    order = np.concatenate([train, test])
    artifacts = {
        "document_map": plot_map(out / "document_map.png", u * s, y[order], source),
        "loss_plot": runner.save_line_plot(
            out / "training_loss.png",
            {name: (list(range(len(v))), v) for name, v in losses.items()},
            "Logistic regression: training loss per L-BFGS iteration",
            "iteration",
            "mean cross-entropy + L2 term",
            logy=True,
        ),  # fmt: skip
        "topics_table": write_topics(out / "topics.csv", topics),
        "metrics": out / "metrics.jsonl",
        "config": out / "config.json",
    }
    # 6. extractive summarization: TextRank against three baselines, scored by ROUGE
    summary_rows, summary_example = summarize_documents(cfg.summary_sentences,
                                                        cfg.random_draws, cfg.seed)  # fmt: skip
    for row in summary_rows:
        log.log(stage="summarize", **row)
        for rouge_type in ROUGE_TYPES:
            metrics[f"{rouge_type}_{row['method'].replace('-', '_')}"] = row[rouge_type]
    artifacts["summary_table"] = write_rows(out / "summaries.csv", summary_rows)
    artifacts["summary_plot"] = plot_summaries(out / "summaries.png", summary_rows,
                                               cfg.summary_sentences)  # fmt: skip

    metrics.update({
        "documents": len(documents), "labels": len(set(labels)),
        "terms_tfidf": len(tfidf.vocabulary), "lsa_components": k,
        "lsa_explained_variance": float(lsa.explained_variance_ratio.sum()),
        "seconds": round(timer.seconds, 2),
    })  # fmt: skip
    log.log(stage="done", **{key: value for key, value in metrics.items()})
    log.close()
    text = (
        TOPICS_TITLE.get()
        + "\n"
        + "\n".join(f"  {i + 1}: {' '.join(words)}" for i, words in enumerate(topics))
    )
    text += "\n\n" + NEIGHBOURS_TITLE.get() + "\n" + examples
    text += "\n\n" + SUMMARIES_TITLE.get(count=len(SUMMARY_DOCUMENTS), k=cfg.summary_sentences)
    text += "\n" + format_summary_table(summary_rows) + "\n\n" + summary_example
    return LabReport(LAB, out, metrics, artifacts, text=text, seconds=timer.seconds)


# ---------------------------------------------------------------- extractive summaries

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
SUMMARIZERS = ("textrank-overlap", "textrank-tfidf", "lead-k", "random-k", "oracle-k")


def rouge_f1(reference: str, sentences: list[str], chosen: list[int]) -> list[float]:
    """ROUGE F1 of the chosen sentences (one per line, in document order) vs the reference."""
    summary = "\n".join(sentences[i] for i in sorted(chosen))
    scores = rouge(reference, summary, ROUGE_TYPES, use_stemmer=True)
    return [scores[rouge_type].fmeasure for rouge_type in ROUGE_TYPES]


def choose_sentences(method: str, sentences: list[str], k: int, reference: str) -> list[int]:
    """The indices of the k sentences a deterministic summarizer keeps."""
    if method.startswith("textrank-"):
        return top_k_in_order(textrank_scores(sentences, method.removeprefix("textrank-")), k)
    if method == "lead-k":  # news is written so that this is hard to beat
        return list(range(min(k, len(sentences))))
    if method == "oracle-k":  # an upper bound that peeks at the reference: best ROUGE-1
        return list(max(itertools.combinations(range(len(sentences)), min(k, len(sentences))),
                        key=lambda ids: rouge_f1(reference, sentences, list(ids))[0]))  # fmt: skip
    raise ValueError(f"unknown summarizer {method!r}")


def summarize_documents(k: int, random_draws: int, seed: int) -> tuple[list[dict], str]:
    """Mean ROUGE F1 of every summarizer over the embedded texts, and the summaries of the
    first text where TextRank and lead-k disagree (the most instructive one to read)."""
    rng = np.random.default_rng(seed)
    scores: dict[str, list[list[float]]] = {method: [] for method in SUMMARIZERS}
    example = ""
    for document in SUMMARY_DOCUMENTS:
        sentences = split_sentences(document.text)
        chosen: dict[str, list[int]] = {}
        for method in SUMMARIZERS:
            if method == "random-k":  # a baseline's luck averaged out over many draws
                draws = [rng.choice(len(sentences), min(k, len(sentences)), replace=False)
                         for _ in range(random_draws)]  # fmt: skip
                per_draw = [rouge_f1(document.summary, sentences, list(d)) for d in draws]
                scores[method].append(list(np.mean(per_draw, axis=0)))
                continue
            chosen[method] = choose_sentences(method, sentences, k, document.summary)
            scores[method].append(rouge_f1(document.summary, sentences, chosen[method]))
        if not example and chosen["textrank-overlap"] != chosen["lead-k"]:
            lines = [f"  {document.title}, reference: " + " ".join(document.summary.splitlines())]
            lines += [f"  [{method}] " + " ".join(sentences[i] for i in ids)
                      for method, ids in chosen.items()]  # fmt: skip
            example = "\n".join(lines)
    rows = [{"method": method, **{t: round(float(np.mean([s[j] for s in scores[method]])), 4)
                                  for j, t in enumerate(ROUGE_TYPES)}}
            for method in SUMMARIZERS]  # fmt: skip
    return rows, example


def format_summary_table(rows: list[dict]) -> str:
    lines = [f"  {'method':<18}" + "".join(f"{t:>9}" for t in ROUGE_TYPES)]
    for row in rows:
        lines.append(f"  {row['method']:<18}" + "".join(f"{row[t]:>9.3f}" for t in ROUGE_TYPES))
    return "\n".join(lines)


def write_rows(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def plot_summaries(path: Path, rows: list[dict], k: int) -> Path:
    """Grouped bars: one group per ROUGE variant, one bar per summarizer."""
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    width = 0.8 / len(rows)
    for i, row in enumerate(rows):
        xs = np.arange(len(ROUGE_TYPES)) + (i - (len(rows) - 1) / 2) * width
        ax.bar(xs, [row[t] for t in ROUGE_TYPES], width, label=row["method"])
    ax.set_xticks(range(len(ROUGE_TYPES)), ["ROUGE-1", "ROUGE-2", "ROUGE-L"])
    ax.set_ylabel("F1 against the reference (mean over texts)")
    ax.set_title(f"Extractive summaries of {k} sentences: TextRank and baselines")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def snippet(document: str, width: int = 70) -> str:
    flat = " ".join(document.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def neighbour_examples(
    lsa_features: tuple[np.ndarray, np.ndarray],
    documents: list[str],
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
) -> str:
    x_train, x_test = lsa_features
    lines = []
    for label in sorted(set(y[test])):
        query = int(np.flatnonzero(y[test] == label)[0])
        ids, similarity = nearest(x_test[query : query + 1], x_train, n=3)
        lines.append(f"  [{label}] {snippet(documents[test[query]])}")
        for j, sim in zip(ids[0], similarity[0], strict=True):
            lines.append(f"      {sim:.2f} [{y[train][j]}] {snippet(documents[train[j]], 60)}")
    return "\n".join(lines)


def write_topics(path: Path, topics: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["component", "rank", "term"])
        for i, words in enumerate(topics, start=1):
            writer.writerows([i, rank, word] for rank, word in enumerate(words, start=1))
    return path


def plot_map(path: Path, points: np.ndarray, labels: np.ndarray, source: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 6), dpi=110)
    colours = plt.get_cmap("tab10")
    for i, label in enumerate(sorted(set(labels))):
        mask = labels == label
        ax.scatter(points[mask, 0], points[mask, 1], s=9, alpha=0.7, color=colours(i % 10),
                   label=f"{label} ({mask.sum()})")  # fmt: skip
    ax.set_title(f"Documents in LSA space, two main directions\n{source}")
    ax.set_xlabel("direction 1")
    ax.set_ylabel("direction 2")
    ax.grid(alpha=0.3)
    ax.legend(markerscale=2, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
