"""Word-vector probes against scikit-learn (cosine neighbours, PCA) and SciPy (Spearman)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from groundup.text.word_eval import (
    ANALOGIES,
    SIMILARITY_PAIRS,
    analogy,
    analogy_accuracy,
    nearest_neighbours,
    pca_2d,
    similarity_correlation,
    spearman,
)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(6, 40), d=st.integers(2, 10), k=st.integers(1, 5), seed=st.integers(0, 99))
def test_matches_sklearn_cosine_nearest_neighbours(n: int, d: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    vectors, queries = rng.normal(size=(n, d)), rng.normal(size=(4, d))
    ids, sims = nearest_neighbours(vectors, queries, k)
    ref = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(vectors)
    distances, ref_ids = ref.kneighbors(queries)
    np.testing.assert_allclose(sims, 1 - distances, atol=1e-12)
    np.testing.assert_array_equal(ids, ref_ids)  # continuous data: no ties


def test_exclude_self() -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    ids, _ = nearest_neighbours(vectors, vectors, 1, exclude_self=True)
    assert ids[:, 0].tolist() == [1, 0, 1]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(3, 30), seed=st.integers(0, 999), ties=st.booleans())
def test_matches_scipy_spearman(n: int, seed: int, ties: bool) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, n).astype(float) if ties else rng.normal(size=n)
    y = x + rng.normal(size=n)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)


def test_similarity_correlation_uses_cosines() -> None:
    words = ["a", "b", "c", "d"]
    vectors = np.array([[1.0, 0.0], [0.95, 0.3], [0.2, 1.0], [-1.0, 0.1]])
    pairs = [("a", "b", 9.0), ("a", "c", 5.0), ("a", "d", 1.0), ("a", "zzz", 3.0)]
    rho, used = similarity_correlation(vectors, words, pairs)
    assert used == 3 and rho == pytest.approx(1.0)
    rho, _ = similarity_correlation(vectors, words, [(a, b, -s) for a, b, s in pairs])
    assert rho == pytest.approx(-1.0)


def test_analogy_on_constructed_vectors() -> None:
    # plural = singular + a shared offset: 3CosAdd recovers it
    rng = np.random.default_rng(0)
    base = rng.normal(size=(4, 8))
    offset = 3 * rng.normal(size=8)
    words = ["list", "string", "file", "key", "lists", "strings", "files", "keys"]
    vectors = np.vstack([base, base + offset])
    index = {w: i for i, w in enumerate(words)}
    assert analogy(vectors, index, "list", "lists", "file", words) == "files"
    accuracy, used = analogy_accuracy(vectors, words, ANALOGIES)
    assert used == 1 and accuracy == 1.0  # only list:lists::string:strings is all known


def test_matches_sklearn_pca_up_to_sign() -> None:
    x = np.random.default_rng(1).normal(size=(30, 6)) * np.arange(1, 7)
    ours = pca_2d(x)
    ref = PCA(n_components=2, svd_solver="full").fit_transform(x)
    for j in range(2):
        assert np.allclose(ours[:, j], ref[:, j], atol=1e-9) or np.allclose(
            ours[:, j], -ref[:, j], atol=1e-9
        )


def test_written_lists_are_well_formed() -> None:
    assert len(SIMILARITY_PAIRS) >= 50 and len(ANALOGIES) >= 20
    assert len({(a, b) for a, b, _ in SIMILARITY_PAIRS}) == len(SIMILARITY_PAIRS)
    assert all(0 <= s <= 10 for _, _, s in SIMILARITY_PAIRS)
