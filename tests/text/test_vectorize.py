"""Bag of words and TF-IDF against scikit-learn's CountVectorizer and TfidfVectorizer.

Every setting that changes the matrix is varied (lower case, n-grams, stop words, min_df,
max_df as a count and as a share, max_features, binary, sublinear tf, idf with and without
smoothing, l1/l2/no norm) on documents with mixed case, punctuation, digits, umlauts,
repeated words, a one-letter word and an empty document. The vocabulary (term -> column)
must be identical, the idf values and matrix entries equal within 1e-12, for the fitted
documents and for new documents with unseen words.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction import text as sk

from groundup.text.vectorize import (
    CountVectorizer,
    TfidfVectorizer,
    normalize_rows,
    smooth_idf,
    word_ngrams,
)

WORDS = ["the", "cat", "Cat", "sat", "on", "mat", "dog", "DOG", "ate", "homework", "Straße",
         "über", "naïve", "x2", "42", "is", "not", "good", "bad", "very", "a", "I"]  # fmt: skip


def documents(seed: int, n: int = 30) -> list[str]:
    rng = random.Random(seed)
    docs = [
        "The cat sat on the mat. The cat!",
        "Not good, not bad: very, very good.",
        "",
        "Die Straße ist naß; über-all Wasser.",
        "I a x2 42 42 42",
    ]
    while len(docs) < n:
        words = rng.choices(WORDS, k=rng.randint(1, 14))
        docs.append(" ".join(words) + rng.choice([".", "!", "", " ,"]))
    return docs


GRID = [
    {},
    {"lowercase": False},
    {"ngram_range": (1, 2)},
    {"ngram_range": (2, 3), "min_df": 2},
    {"stop_words": frozenset({"the", "on", "is", "a"}), "ngram_range": (1, 2)},
    {"min_df": 3},
    {"min_df": 0.1, "max_df": 0.5},
    {"max_df": 4},
    {"max_features": 7},
    {"max_features": 20, "ngram_range": (1, 2), "min_df": 2},
    {"binary": True},
    {"binary": True, "norm": None, "use_idf": False},
    {"sublinear_tf": True},
    {"sublinear_tf": True, "smooth_idf": False, "ngram_range": (1, 2)},
    {"smooth_idf": False, "norm": "l1"},
    {"norm": None},
    {"use_idf": False, "norm": "l1"},
    {"use_idf": False, "norm": None, "lowercase": False},
]
IDS = [
    f"{i}-" + "-".join(f"{k}={v}" for k, v in s.items() if k != "stop_words")
    for i, s in enumerate(GRID)
]
COUNT_KEYS = {"lowercase", "ngram_range", "stop_words", "min_df", "max_df", "max_features",
              "binary"}  # fmt: skip


def sklearn_settings(setting: dict) -> dict:
    out = dict(setting)
    if "stop_words" in out:
        out["stop_words"] = sorted(out["stop_words"])
    return out


def assert_same_sparse(ours: sp.spmatrix, theirs: sp.spmatrix, atol: float = 1e-12) -> None:
    assert ours.shape == theirs.shape
    assert sp.issparse(ours)
    np.testing.assert_allclose(ours.toarray(), theirs.toarray(), atol=atol, rtol=0)


@pytest.mark.parametrize("setting", GRID, ids=IDS)
def test_matches_sklearn_tfidf_vectorizer(setting: dict) -> None:
    docs, new_docs = documents(0), documents(1, 12) + ["zebra unseen words only"]
    theirs = sk.TfidfVectorizer(**sklearn_settings(setting))
    expected = theirs.fit_transform(docs)
    ours = TfidfVectorizer(**setting)
    got = ours.fit_transform(docs)
    assert ours.vocabulary == theirs.vocabulary_
    assert ours.feature_names() == list(theirs.get_feature_names_out())
    if setting.get("use_idf", True):
        np.testing.assert_allclose(ours.idf, theirs.idf_, atol=1e-12, rtol=0)
    assert_same_sparse(got, expected)
    assert_same_sparse(ours.transform(new_docs), theirs.transform(new_docs))


@pytest.mark.parametrize("setting", GRID[:11], ids=IDS[:11])
def test_matches_sklearn_count_vectorizer(setting: dict) -> None:
    counts_only = {k: v for k, v in setting.items() if k in COUNT_KEYS}
    docs = documents(2, 40)
    theirs = sk.CountVectorizer(**sklearn_settings(counts_only))
    ours = CountVectorizer(**counts_only)
    expected, got = theirs.fit_transform(docs), ours.fit_transform(docs)
    assert ours.vocabulary == theirs.vocabulary_
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.toarray(), expected.toarray())
    new = documents(3, 10)
    np.testing.assert_array_equal(ours.transform(new).toarray(), theirs.transform(new).toarray())


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 25),
    max_n=st.integers(1, 3),
    sublinear=st.booleans(),
    smooth=st.booleans(),
    norm=st.sampled_from(["l1", "l2", None]),
)
def test_matches_sklearn_on_random_corpora(seed, n, max_n, sublinear, smooth, norm) -> None:
    docs = documents(seed, n)[5:] + ["cat dog"]  # the fixed documents left out: other shapes
    setting = {"ngram_range": (1, max_n), "sublinear_tf": sublinear, "smooth_idf": smooth,
               "norm": norm}  # fmt: skip
    expected = sk.TfidfVectorizer(**setting).fit_transform(docs)
    assert_same_sparse(TfidfVectorizer(**setting).fit_transform(docs), expected)


def test_idf_formulas_by_hand() -> None:
    df, n = np.array([1, 2, 4]), 4
    np.testing.assert_allclose(smooth_idf(df, n), np.log(5 / np.array([2, 3, 5])) + 1)
    np.testing.assert_allclose(smooth_idf(df, n, smooth=False), np.log(4 / df) + 1)
    assert smooth_idf(np.array([n]), n, smooth=False)[0] == 1.0  # in every document: weight 1


def test_rows_are_unit_length_and_zero_rows_stay_zero() -> None:
    x = TfidfVectorizer().fit_transform(["a cat", "cat cat dog", "the dog", "!!"])
    lengths = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    np.testing.assert_allclose(lengths, [1.0, 1.0, 1.0, 0.0])  # "a cat": "a" is too short
    l1 = normalize_rows(sp.csr_matrix([[3.0, -1.0], [0.0, 0.0]]), "l1").toarray()
    np.testing.assert_allclose(l1, [[0.75, -0.25], [0.0, 0.0]])


def test_word_ngrams_order_and_errors() -> None:
    assert word_ngrams(["a", "b", "c"], (1, 2)) == ["a", "b", "c", "a b", "b c"]
    assert word_ngrams(["a"], (2, 2)) == []
    with pytest.raises(ValueError, match="ngram_range"):
        word_ngrams(["a"], (2, 1))


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match="no terms remain"):
        CountVectorizer().fit_transform(["a", "!"])
    with pytest.raises(ValueError, match="fewer documents than min_df"):
        CountVectorizer(min_df=3, max_df=2).fit_transform(["cat dog", "dog"])
    with pytest.raises(ValueError, match="fit"):
        CountVectorizer().transform(["cat"])
    with pytest.raises(TypeError, match="sequence of documents"):
        CountVectorizer().fit_transform("one string")
