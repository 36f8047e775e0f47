"""TextRank (Mihalcea & Tarau 2004): extractive summarization by PageRank on sentences.

A summary made of the document's own sentences should pick the sentences the rest of the
document "agrees with". TextRank makes that a graph problem: sentences are nodes, an edge's
weight is how similar two sentences are, and a sentence is central if it is similar to many
sentences that are themselves central — the recursive definition PageRank solves. The top-k
sentences by PageRank, put back in document order, are the summary.

Similarity, two choices:
- "overlap" (the paper's): shared distinct words / (ln|S_i| + ln|S_j|); the log lengths
  keep long sentences from winning only by having more words;
- "tfidf": cosine of the sentences' TF-IDF vectors, which discounts words that occur in
  every sentence.
Words are lower-cased alphanumeric runs, stop words removed, Porter-stemmed.

PageRank by power iteration, with networkx.pagerank's conventions (the tests compare):
x <- d (x P + (sum of x over dangling nodes) / N) + (1 - d) / N, with P the row-normalised
weight matrix and "dangling" the sentences similar to no other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from groundup.metrics.rouge import tokenize
from groundup.text.tokenize import STOP_WORDS_EN, split_sentences
from groundup.text.vectorize import TfidfVectorizer

# ---------------------------------------------------------------- sentences as word lists


def content_words(sentence: str, stop_words: frozenset[str] = STOP_WORDS_EN) -> list[str]:
    """Lower-case, stemmed words of a sentence without stop words ("the", "is", ...)."""
    return [word for word in tokenize(sentence, use_stemmer=True) if word not in stop_words]


# ---------------------------------------------------------------- similarity graph


def overlap_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Mihalcea & Tarau's |{w : w in a and w in b}| / (ln|a| + ln|b|); 0 if undefined."""
    shared = len(set(a) & set(b))
    if shared == 0:
        return 0.0
    normaliser = math.log(len(a)) + math.log(len(b))
    # two one-word sentences share their word but ln 1 + ln 1 = 0: treat as no edge
    return shared / normaliser if normaliser > 0 else 0.0


def overlap_matrix(sentences_words: Sequence[Sequence[str]]) -> np.ndarray:
    """Symmetric (n, n) similarity matrix with a zero diagonal (no self-votes)."""
    n = len(sentences_words)
    weights = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            weights[i, j] = weights[j, i] = overlap_similarity(
                sentences_words[i], sentences_words[j]
            )
    return weights


def tfidf_matrix(sentences_words: Sequence[Sequence[str]]) -> np.ndarray:
    """Cosine similarity of L2-normalised TF-IDF rows, diagonal set to zero."""
    documents = [" ".join(words) for words in sentences_words]
    if not any(documents):
        return np.zeros((len(documents), len(documents)))
    # the words are already tokens: split on spaces only, keep one-letter tokens
    vectors = TfidfVectorizer(lowercase=False, token_pattern=r"\S+").fit_transform(documents)
    weights = (vectors @ vectors.T).toarray()
    np.fill_diagonal(weights, 0.0)
    return weights


SIMILARITIES = {"overlap": overlap_matrix, "tfidf": tfidf_matrix}


# ---------------------------------------------------------------- PageRank


def pagerank(
    weights: np.ndarray, damping: float = 0.85, tol: float = 1e-6, max_iter: int = 100
) -> np.ndarray:
    """Stationary distribution of the damped random walk on a weighted graph.

    weights[i, j] >= 0 is the weight of the edge i -> j. The walker follows an edge with
    probability proportional to its weight (P's rows sum to 1) with probability `damping`,
    otherwise jumps to a uniformly random node; from a node without edges it always jumps.
    Stops when the L1 change falls below n * tol (networkx's rule).
    """
    weights = np.asarray(weights, dtype=np.float64)
    n = weights.shape[0]
    if n == 0:
        return np.zeros(0)
    out_weight = weights.sum(axis=1)
    dangling = out_weight == 0
    transition = weights / np.where(dangling, 1.0, out_weight)[:, None]
    ranks = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        previous = ranks
        ranks = damping * (ranks @ transition + ranks[dangling].sum() / n) + (1 - damping) / n
        if np.abs(ranks - previous).sum() < n * tol:
            return ranks
    raise RuntimeError(f"PageRank did not converge in {max_iter} iterations")


# ---------------------------------------------------------------- the summary


def textrank_scores(sentences: Sequence[str], similarity: str = "overlap") -> np.ndarray:
    """PageRank score of each sentence on the chosen similarity graph."""
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {sorted(SIMILARITIES)}, got {similarity!r}")
    weights = SIMILARITIES[similarity]([content_words(sentence) for sentence in sentences])
    return pagerank(weights)


def top_k_in_order(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the k highest scores (earlier sentence first on a tie), in document order."""
    best = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    return sorted(best)


def summarize(text: str, k: int = 3, similarity: str = "overlap") -> list[str]:
    """The k most central sentences of text, in the order they appear."""
    sentences = split_sentences(text)
    chosen = top_k_in_order(textrank_scores(sentences, similarity), k)
    return [sentences[i] for i in chosen]
