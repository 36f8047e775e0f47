"""Bag of words and TF-IDF: documents as rows of a sparse document-term matrix.

Each document becomes a vector with one entry per term of a vocabulary. The steps, with
the defaults of scikit-learn's CountVectorizer and TfidfVectorizer (the tests show the
matrices are equal over the settings below):

1. Analyse: lower-case, cut into tokens with the pattern r"(?u)\\b\\w\\w+\\b" (words of two or
   more characters), drop stop words, then join runs of n tokens with a space into n-grams
   for every n in ngram_range ("not good" is one feature with ngram_range=(1, 2)).
2. Vocabulary: every term, sorted alphabetically. Pruned by document frequency df(t) (the
   number of documents that contain t): keep min_df <= df(t) <= max_df (an int counts
   documents, a float is a share of them), then the max_features terms with the highest
   total count.
3. Count: X[d, t] = how often term t occurs in document d (binary=True: 1 if it occurs).
4. TF-IDF: tf times inverse document frequency, so a term that occurs in every document
   weighs little and a rare one much:
       idf(t) = ln((1 + n) / (1 + df(t))) + 1     smooth_idf=True (as if one extra document
                                                    contained every term once)
       idf(t) = ln(n / df(t)) + 1                 smooth_idf=False
   The "+ 1" keeps terms that occur everywhere (idf would be 0) in the vector.
   sublinear_tf=True replaces tf by 1 + ln(tf): ten occurrences are not ten times the evidence.
5. Normalise each row to length 1 (norm="l2"), to sum 1 of absolute values ("l1"), or not
   at all (None): long documents would otherwise dominate every dot product.

Counting is plain Python dictionaries; scipy.sparse only stores the result (most entries of
a document-term matrix are zero).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from groundup.text.tokenize import word_tokens

SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def word_ngrams(tokens: Sequence[str], ngram_range: tuple[int, int] = (1, 1)) -> list[str]:
    """All n-grams for min_n <= n <= max_n as space-joined strings, n by n."""
    min_n, max_n = ngram_range
    if not 1 <= min_n <= max_n:
        raise ValueError(
            f"ngram_range must be (min_n, max_n) with 1 <= min_n <= max_n, got {ngram_range}"
        )
    return [
        " ".join(tokens[i : i + n])
        for n in range(min_n, max_n + 1)
        for i in range(len(tokens) - n + 1)
    ]


def make_analyzer(
    lowercase: bool = True,
    token_pattern: str = SKLEARN_TOKEN_PATTERN,
    ngram_range: tuple[int, int] = (1, 1),
    stop_words: Iterable[str] | None = None,
) -> Callable[[str], list[str]]:
    """document -> list of terms (tokens and n-grams), scikit-learn's "word" analyzer."""
    stop = frozenset(stop_words or ())

    def analyze(document: str) -> list[str]:
        text = document.lower() if lowercase else document
        tokens = [token.text for token in word_tokens(text, token_pattern)]
        return word_ngrams([t for t in tokens if t not in stop], ngram_range)

    return analyze


def document_frequency(counts: sp.csr_matrix) -> np.ndarray:
    """df(t): in how many documents (rows) term t (column) occurs."""
    return np.bincount(counts.indices, minlength=counts.shape[1])


@dataclass
class CountVectorizer:
    """Documents -> sparse counts (n_documents, n_terms); the same settings as scikit-learn."""

    lowercase: bool = True
    token_pattern: str = SKLEARN_TOKEN_PATTERN
    ngram_range: tuple[int, int] = (1, 1)
    stop_words: frozenset[str] | None = None
    min_df: int | float = 1
    max_df: int | float = 1.0
    max_features: int | None = None
    binary: bool = False
    vocabulary: dict[str, int] = field(default_factory=dict, init=False)

    def analyzer(self) -> Callable[[str], list[str]]:
        return make_analyzer(self.lowercase, self.token_pattern, self.ngram_range, self.stop_words)

    def fit_transform(self, documents: Sequence[str]) -> sp.csr_matrix:
        # count with an open vocabulary: each new term gets the next id
        vocabulary: dict[str, int] = {}
        counts = self._count(documents, vocabulary, grow=True)
        # ids in alphabetical order of the terms, as scikit-learn sorts them
        terms = sorted(vocabulary)
        order = np.array([vocabulary[t] for t in terms], dtype=np.int64)
        counts = counts[:, order]
        keep = self._kept_terms(counts, len(documents))
        counts = counts[:, keep]
        self.vocabulary = {terms[j]: i for i, j in enumerate(keep)}
        if not self.vocabulary:
            raise ValueError("no terms remain: the documents are empty or min_df/max_df prune all")
        return self._finish(counts)

    def fit(self, documents: Sequence[str]) -> CountVectorizer:
        self.fit_transform(documents)
        return self

    def transform(self, documents: Sequence[str]) -> sp.csr_matrix:
        """Counts over the fitted vocabulary; unseen terms are ignored."""
        if not self.vocabulary:
            raise ValueError("call fit or fit_transform first")
        return self._finish(self._count(documents, self.vocabulary, grow=False))

    def feature_names(self) -> list[str]:
        return sorted(self.vocabulary, key=self.vocabulary.__getitem__)

    def _count(
        self, documents: Sequence[str], vocabulary: dict[str, int], grow: bool
    ) -> sp.csr_matrix:
        if isinstance(documents, str):
            raise TypeError("expected a sequence of documents, got one string")
        analyze = self.analyzer()
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for document in documents:
            per_term: Counter[int] = Counter()
            for term in analyze(document):
                if grow:
                    per_term[vocabulary.setdefault(term, len(vocabulary))] += 1
                elif term in vocabulary:
                    per_term[vocabulary[term]] += 1
            indices += per_term.keys()
            values += per_term.values()
            indptr.append(len(indices))
        shape = (len(documents), len(vocabulary))
        matrix = sp.csr_matrix((np.array(values, dtype=np.int64), indices, indptr), shape=shape)
        matrix.sort_indices()
        return matrix

    def _kept_terms(self, counts: sp.csr_matrix, n_documents: int) -> np.ndarray:
        """Column ids (in sorted-term order) that survive min_df, max_df and max_features."""
        high = self.max_df if isinstance(self.max_df, int) else self.max_df * n_documents
        low = self.min_df if isinstance(self.min_df, int) else self.min_df * n_documents
        if high < low:
            raise ValueError("max_df corresponds to fewer documents than min_df")
        df = document_frequency(counts)
        kept = np.flatnonzero((df >= low) & (df <= high))
        if self.max_features is not None and len(kept) > self.max_features:
            totals = np.asarray(counts[:, kept].sum(axis=0)).ravel()
            # the same sort as scikit-learn, so terms tied at the cut are chosen alike
            best = (-totals).argsort()[: self.max_features]
            kept = np.sort(kept[best])
        return kept

    def _finish(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        if self.binary:
            counts = counts.copy()
            counts.data[:] = 1
        return counts


def smooth_idf(df: np.ndarray, n_documents: int, smooth: bool = True) -> np.ndarray:
    """idf = ln((1 + n) / (1 + df)) + 1 with smoothing, ln(n / df) + 1 without."""
    df = np.asarray(df, dtype=np.float64)
    if smooth:
        return np.log((1 + n_documents) / (1 + df)) + 1.0
    return np.log(n_documents / df) + 1.0


def normalize_rows(matrix: sp.csr_matrix, norm: str | None = "l2") -> sp.csr_matrix:
    """Each row divided by its l2 (or l1) norm; rows of zeros stay zero."""
    if norm is None:
        return matrix
    if norm == "l2":
        lengths = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    elif norm == "l1":
        lengths = np.asarray(abs(matrix).sum(axis=1)).ravel()
    else:
        raise ValueError(f"norm must be 'l2', 'l1' or None, got {norm!r}")
    lengths[lengths == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / lengths) @ matrix)


@dataclass
class TfidfVectorizer(CountVectorizer):
    """Counts, then tf (or 1 + ln tf) times idf, then row normalisation."""

    norm: str | None = "l2"
    use_idf: bool = True
    smooth_idf: bool = True
    sublinear_tf: bool = False
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0), init=False)

    def fit_transform(self, documents: Sequence[str]) -> sp.csr_matrix:
        counts = super().fit_transform(documents)
        self.idf = smooth_idf(document_frequency(counts), counts.shape[0], self.smooth_idf)
        return self._weigh(counts)

    def transform(self, documents: Sequence[str]) -> sp.csr_matrix:
        return self._weigh(super().transform(documents))

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        weights = counts.astype(np.float64)
        if self.sublinear_tf:
            weights.data = 1.0 + np.log(weights.data)
        if self.use_idf:
            weights = sp.csr_matrix(weights @ sp.diags(self.idf))
        return normalize_rows(weights, self.norm)
