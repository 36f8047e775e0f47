"""Truncated SVD against numpy.linalg.svd and scikit-learn's TruncatedSVD(algorithm="arpack").

Singular vectors are compared up to sign: (u, v) and (-u, -v) are equally valid, so each
component is multiplied by the sign that aligns it with the reference first. The matrices
have a decaying spectrum (a TF-IDF matrix of generated topical documents, and random
low-rank-plus-noise matrices); with enough power iterations (8 on the low-rank matrices,
25 on TF-IDF, whose spectrum flattens after the themes) the randomized SVD matches to 1e-8
(singular values) and 1e-6 (vectors).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import TruncatedSVD as SkTruncatedSVD
from sklearn.metrics.pairwise import cosine_similarity as sk_cosine

from groundup.text.lsa import (
    TruncatedSVD,
    cosine_similarity,
    flip_signs,
    nearest,
    randomized_svd,
    top_terms,
)
from groundup.text.vectorize import TfidfVectorizer

TOPICS = {
    "pets": "cat dog fur paw bark meow leash vet kitten puppy",
    "space": "star orbit planet rocket moon galaxy comet launch nasa telescope",
    "food": "bread cheese oven bake flour pasta sauce recipe salt butter",
}
COMMON = ["the", "a", "of", "and", "to", "in", "is", "it"]


def topical_documents(n: int = 90, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    common = COMMON
    docs, labels = [], []
    for i in range(n):
        topic = names[i % len(names)]
        words = list(rng.choice(TOPICS[topic].split(), 8)) + list(rng.choice(common, 5))
        docs.append(" ".join(rng.permutation(words)))
        labels.append(topic)
    return docs, labels


def low_rank(n: int, m: int, rank: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n, rank)))
    v, _ = np.linalg.qr(rng.standard_normal((m, rank)))
    s = 10.0 * 0.6 ** np.arange(rank)
    return (u * s) @ v.T + 1e-3 * rng.standard_normal((n, m))


def align(ours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Rows of `ours` flipped to point the way the reference rows do."""
    return ours * np.sign(np.sum(ours * reference, axis=1, keepdims=True))


def test_matches_sklearn_truncated_svd_arpack_on_tfidf() -> None:
    x = TfidfVectorizer().fit_transform(topical_documents()[0])
    reference = SkTruncatedSVD(n_components=5, algorithm="arpack").fit(x)
    # beyond the three themes the spectrum is nearly flat (1.84 vs 1.65 at k = 4, 5), so
    # more power iterations are needed: the error shrinks like (s_16 / s_5)^(2q + 1)
    ours = TruncatedSVD(k=5, power_iterations=25)
    documents = ours.fit_transform(x)
    np.testing.assert_allclose(ours.singular_values, reference.singular_values_, atol=1e-8)
    np.testing.assert_allclose(
        align(ours.components, reference.components_), reference.components_, atol=1e-6
    )
    expected_documents = reference.transform(x)
    np.testing.assert_allclose(
        align(documents.T, expected_documents.T).T, expected_documents, atol=1e-6
    )
    np.testing.assert_allclose(
        ours.explained_variance_ratio, reference.explained_variance_ratio_, atol=1e-8
    )
    np.testing.assert_allclose(ours.transform(x), documents, atol=1e-6)  # X V = U S


@settings(max_examples=15, deadline=None)
@given(n=st.integers(20, 60), m=st.integers(20, 60), k=st.integers(1, 6), seed=st.integers(0, 999))
def test_matches_numpy_svd_up_to_sign(n: int, m: int, k: int, seed: int) -> None:
    a = low_rank(n, m, rank=8, seed=seed)
    u_ref, s_ref, vt_ref = np.linalg.svd(a, full_matrices=False)
    u, s, vt = randomized_svd(a, k, power_iterations=8, seed=seed)
    assert u.shape == (n, k) and s.shape == (k,) and vt.shape == (k, m)
    np.testing.assert_allclose(s, s_ref[:k], atol=1e-8)
    np.testing.assert_allclose(align(vt, vt_ref[:k]), vt_ref[:k], atol=1e-6)
    np.testing.assert_allclose(align(u.T, u_ref[:, :k].T).T, u_ref[:, :k], atol=1e-6)
    np.testing.assert_allclose(u.T @ u, np.eye(k), atol=1e-10)  # orthonormal columns


def test_sparse_and_dense_inputs_give_the_same_svd() -> None:
    a = low_rank(30, 40, rank=6, seed=1)
    a[np.abs(a) < 0.3] = 0.0
    dense = randomized_svd(a, 4, seed=3)
    sparse = randomized_svd(sp.csr_matrix(a), 4, seed=3)
    for d, s in zip(dense, sparse, strict=True):
        np.testing.assert_allclose(d, s, atol=1e-10)


def test_sign_convention_is_deterministic_and_keeps_the_product() -> None:
    """Flipping a pair changes nothing in U S V^T; our rule makes the largest |v| positive."""
    a = low_rank(25, 30, rank=5, seed=2)
    u, s, vt = randomized_svd(a, 5, seed=0)
    u2, s2, vt2 = randomized_svd(a, 5, seed=7)  # another random start, another raw sign
    np.testing.assert_allclose(vt, vt2, atol=1e-6)
    np.testing.assert_allclose(u, u2, atol=1e-6)
    assert np.all(vt[np.arange(5), np.argmax(np.abs(vt), axis=1)] > 0)
    flipped_u, flipped_vt = flip_signs(-u, -vt)
    np.testing.assert_allclose(flipped_vt, vt)
    np.testing.assert_allclose((flipped_u * s) @ flipped_vt, (u * s) @ vt, atol=1e-12)


def test_power_iterations_make_a_flat_spectrum_converge() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((80, 60))  # no gap: the hard case for a randomized method
    s_ref = np.linalg.svd(a, compute_uv=False)[:5]
    errors = [np.abs(randomized_svd(a, 5, power_iterations=q)[1] - s_ref).max() for q in (0, 4)]
    assert errors[1] < 0.2 * errors[0]


def test_topics_and_nearest_documents_find_the_three_themes() -> None:
    docs, labels = topical_documents()
    vectorizer = TfidfVectorizer(stop_words=frozenset(COMMON))
    x = vectorizer.fit_transform(docs)
    lsa = TruncatedSVD(k=3, power_iterations=8)
    points = lsa.fit_transform(x)
    topics = top_terms(lsa.components, vectorizer.feature_names(), n=5)
    assert len(topics) == 3 and all(len(t) == 5 for t in topics)
    ids, similarity = nearest(points, points, n=3, exclude_self=True)
    assert np.all(np.diff(similarity, axis=1) <= 1e-12)  # most similar first
    agreement = np.mean([labels[i] == labels[j] for i, row in enumerate(ids) for j in row])
    assert agreement > 0.95  # three themes, three dimensions: neighbours share the theme
    assert not np.any(ids == np.arange(len(docs))[:, None])


def test_matches_sklearn_cosine_similarity() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 7)), rng.standard_normal((4, 7))
    a[2] = 0.0  # a zero row: similarity 0, not NaN
    np.testing.assert_allclose(cosine_similarity(a, b), sk_cosine(a, b), atol=1e-12)
    sparse = sp.random(6, 9, density=0.4, random_state=0, format="csr")
    np.testing.assert_allclose(
        cosine_similarity(sparse, sparse), sk_cosine(sparse, sparse), atol=1e-12
    )


def test_bad_k_is_refused() -> None:
    with pytest.raises(ValueError, match="k must be"):
        randomized_svd(np.ones((3, 4)), 4)
