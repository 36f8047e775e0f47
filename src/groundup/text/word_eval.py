"""Probing word vectors: nearest neighbours, analogies, similarity correlation, a 2-D map.

All comparisons use cosine similarity, i.e. dot products of unit-length vectors.

The test sets are written for the embedded corpus (docstrings of Python's standard
library), since general-English sets such as WordSim-353 hardly overlap with it:
- SIMILARITY_PAIRS: word pairs with a relatedness score from 0 (unrelated) to 10 (same
  meaning in Python documentation), chosen by hand among words that occur at least 20
  times: singular/plural, abbreviations (int/integer), opposites used together
  (read/write), near-synonyms (argument/parameter) and deliberately unrelated pairs
  (socket/decimal). Scores were assigned by judgement, before any vectors were trained.
- ANALOGIES: a : b :: c : d quadruples of the same kinds, answered by 3CosAdd
  (the word nearest b - a + c, the three question words excluded).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# fmt: off
SIMILARITY_PAIRS: list[tuple[str, str, float]] = [
    ("list", "lists", 9), ("string", "strings", 9), ("file", "files", 9), ("line", "lines", 9),
    ("byte", "bytes", 9), ("character", "characters", 9), ("name", "names", 9),
    ("integer", "int", 9), ("string", "str", 9), ("dictionary", "dict", 9),
    ("error", "exception", 9), ("argument", "parameter", 9), ("arguments", "parameters", 9),
    ("errors", "exceptions", 8), ("dictionary", "mapping", 8), ("read", "write", 8),
    ("open", "close", 8), ("encode", "decode", 8), ("encoding", "decoding", 8),
    ("function", "method", 8), ("header", "headers", 8), ("module", "package", 8),
    ("date", "time", 8), ("key", "value", 7), ("keys", "values", 7), ("thread", "process", 7),
    ("threads", "processes", 7), ("socket", "connection", 7), ("server", "client", 7),
    ("true", "false", 7), ("host", "port", 7), ("request", "response", 7),
    ("year", "month", 7), ("input", "output", 7), ("file", "directory", 7), ("path", "file", 7),
    ("tuple", "list", 7), ("sequence", "list", 7), ("float", "decimal", 7),
    ("element", "item", 7), ("start", "stop", 6), ("first", "last", 6), ("add", "remove", 6),
    ("message", "email", 6), ("lock", "acquire", 6), ("class", "object", 6),
    ("fraction", "decimal", 6), ("address", "host", 6), ("attribute", "method", 5),
    ("header", "integer", 2), ("encode", "thread", 2), ("tuple", "email", 2),
    ("key", "timezone", 2), ("socket", "decimal", 1), ("thread", "email", 1),
    ("year", "socket", 1), ("dictionary", "port", 1), ("lock", "fraction", 1),
    ("directory", "month", 1), ("server", "decimal", 1), ("exception", "month", 1),
    ("path", "fraction", 1),
]
ANALOGIES: list[tuple[str, str, str, str]] = [
    ("list", "lists", "string", "strings"), ("file", "files", "directory", "directories"),
    ("key", "keys", "value", "values"), ("thread", "threads", "process", "processes"),
    ("error", "errors", "exception", "exceptions"), ("line", "lines", "character", "characters"),
    ("name", "names", "argument", "arguments"), ("argument", "arguments", "parameter", "parameters"),
    ("byte", "bytes", "character", "characters"), ("header", "headers", "message", "messages"),
    ("element", "elements", "item", "items"), ("function", "functions", "method", "methods"),
    ("class", "classes", "object", "objects"), ("read", "write", "reading", "writing"),
    ("read", "reader", "write", "writer"), ("encode", "decode", "encoding", "decoding"),
    ("encode", "encoded", "decode", "decoded"), ("open", "opened", "close", "closed"),
    ("read", "reads", "write", "writes"), ("input", "output", "read", "write"),
]
# fmt: on


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def nearest_neighbours(
    vectors: np.ndarray, queries: np.ndarray, k: int, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (Q, k) and cosine similarities of the k rows of `vectors` nearest each query.

    exclude_self: the queries are rows 0..Q-1 of `vectors` and each is not its own neighbour."""
    similarity = unit_rows(queries) @ unit_rows(vectors).T
    if exclude_self:
        similarity[np.arange(len(queries)), np.arange(len(queries))] = -np.inf
    # stable sort on -similarity: ties go to the lower index
    ids = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return ids, np.take_along_axis(similarity, ids, axis=1)


def analogy(
    vectors: np.ndarray, index: dict[str, int], a: str, b: str, c: str, words: Sequence[str]
) -> str:
    """3CosAdd: the word whose unit vector is nearest b - a + c (unit vectors), a b c excluded."""
    unit = unit_rows(vectors)
    target = unit[index[b]] - unit[index[a]] + unit[index[c]]
    scores = unit @ target
    scores[[index[a], index[b], index[c]]] = -np.inf
    return words[int(np.argmax(scores))]


def analogy_accuracy(
    vectors: np.ndarray, words: Sequence[str], quads: Sequence[tuple[str, str, str, str]]
) -> tuple[float, int]:
    """Share of analogies answered right, among those whose four words are all known."""
    index = {w: i for i, w in enumerate(words)}
    usable = [q for q in quads if all(w in index for w in q)]
    right = sum(analogy(vectors, index, a, b, c, words) == d for a, b, c, d in usable)
    return (right / len(usable) if usable else float("nan")), len(usable)


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of their ranks (as Spearman needs)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    mean_rank = (starts + ends + 1) / 2.0  # ranks start..end-1 (0-based) -> mean, 1-based
    out = np.empty(len(values))
    out[order] = np.repeat(mean_rank, ends - starts)
    return out


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho: Pearson correlation of the ranks."""
    rx, ry = ranks(x) - (len(x) + 1) / 2, ranks(y) - (len(y) + 1) / 2
    return float((rx * ry).sum() / np.sqrt((rx**2).sum() * (ry**2).sum()))


def similarity_correlation(
    vectors: np.ndarray, words: Sequence[str], pairs: Sequence[tuple[str, str, float]]
) -> tuple[float, int]:
    """Spearman correlation of cosine similarity with the pair scores (known pairs only)."""
    index = {w: i for i, w in enumerate(words)}
    usable = [(a, b, s) for a, b, s in pairs if a in index and b in index]
    if len(usable) < 3:
        return float("nan"), len(usable)
    unit = unit_rows(vectors)
    cosines = np.array([unit[index[a]] @ unit[index[b]] for a, b, _ in usable])
    return spearman(cosines, np.array([s for _, _, s in usable])), len(usable)


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Coordinates along the two main directions (SVD of the centred rows), as sklearn PCA;
    each direction's sign is fixed so its largest-magnitude loading is positive."""
    centred = np.asarray(vectors, dtype=np.float64) - np.mean(vectors, axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    directions = vt[:2]
    signs = np.sign(directions[np.arange(2), np.argmax(np.abs(directions), axis=1)])
    return centred @ (directions * signs[:, None]).T
