"""groundup.math.linear_algebra against numpy.linalg and sklearn.decomposition.PCA.

Random matrices come from hypothesis (shape and seed); square ones are shifted towards the
identity so they are well conditioned (condition number below ~100), which is what the
stated tolerances assume: values within atol 1e-9 + rtol 1e-7 of numpy. Eigenvectors and
singular vectors are only defined up to sign, so they are compared after flipping each to
the sign of numpy's; the symmetric matrices have eigenvalues spread apart (no repeated
eigenvalues, whose eigenvectors are not unique).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA as SklearnPCA

from groundup.math import linear_algebra as la

TOL = {"atol": 1e-9, "rtol": 1e-7}
SETTINGS = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def well_conditioned(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n)) / np.sqrt(n) * 0.5 + np.eye(n) * rng.choice([-1.0, 1.0], n)


def symmetric_with_spread_eigenvalues(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    values = np.linspace(-3.0, 5.0, n) + rng.uniform(-0.1, 0.1, n)  # gaps of >= 8/n - 0.2
    return (q * values) @ q.T


def align_signs(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Flip each column of `got` so that it points the same way as expected's column."""
    signs = np.sign(np.sum(got * expected, axis=0))
    return got * np.where(signs == 0, 1.0, signs)


# ---------------------------------------------------------------- vectors and maps


def test_dot_norm_projection_by_hand() -> None:
    u, v = np.array([3.0, 4.0]), np.array([1.0, 0.0])
    assert la.dot(u, v) == 3.0 and la.norm(u) == 5.0
    assert la.cosine_similarity(u, v) == pytest.approx(0.6)
    np.testing.assert_allclose(la.project(u, v), [3.0, 0.0])
    residual = u - la.project(u, np.array([1.0, 1.0]))
    assert la.dot(residual, np.array([1.0, 1.0])) == pytest.approx(0.0, abs=1e-12)


@SETTINGS
@given(m=st.integers(1, 6), k=st.integers(1, 6), n=st.integers(1, 6), seed=seeds)
def test_matches_numpy_matmul(m: int, k: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b, x = rng.normal(size=(m, k)), rng.normal(size=(k, n)), rng.normal(size=k)
    np.testing.assert_allclose(la.matvec(a, x), a @ x, **TOL)
    np.testing.assert_allclose(la.matmul(a, b), a @ b, **TOL)


# ---------------------------------------------------------------- determinant and solve


@SETTINGS
@given(n=st.integers(1, 8), seed=seeds)
def test_matches_numpy_det(n: int, seed: int) -> None:
    a = well_conditioned(n, seed)
    assert la.det(a) == pytest.approx(np.linalg.det(a), rel=1e-9, abs=1e-12)


@SETTINGS
@given(n=st.integers(1, 8), seed=seeds)
def test_lu_reconstructs_the_permuted_matrix(n: int, seed: int) -> None:
    a = np.random.default_rng(seed).normal(size=(n, n))
    perm, lower, upper, _ = la.lu_decompose(a)
    np.testing.assert_allclose(lower @ upper, a[perm], **TOL)
    assert np.all(np.abs(lower) <= 1.0 + 1e-12)  # partial pivoting bounds the multipliers
    np.testing.assert_allclose(np.triu(upper), upper)


def test_det_needs_pivoting_and_sees_singularity() -> None:
    # a zero in the first pivot position: elimination without row swaps divides by zero
    assert la.det(np.array([[0.0, 1.0], [2.0, 3.0]])) == pytest.approx(-2.0)
    assert la.det(np.array([[1.0, 2.0], [2.0, 4.0]])) == 0.0
    with pytest.raises(np.linalg.LinAlgError):
        la.solve(np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([1.0, 1.0]))


@SETTINGS
@given(n=st.integers(1, 8), columns=st.integers(0, 3), seed=seeds)
def test_matches_numpy_solve(n: int, columns: int, seed: int) -> None:
    a = well_conditioned(n, seed)
    rng = np.random.default_rng(seed + 1)
    b = rng.normal(size=n) if columns == 0 else rng.normal(size=(n, columns))
    np.testing.assert_allclose(la.solve(a, b), np.linalg.solve(a, b), **TOL)


# ---------------------------------------------------------------- eigh and svd


@SETTINGS
@given(n=st.integers(1, 9), seed=seeds)
def test_matches_numpy_eigh(n: int, seed: int) -> None:
    a = symmetric_with_spread_eigenvalues(n, seed)
    values, vectors = la.eigh(a)
    want_values, want_vectors = np.linalg.eigh(a)
    np.testing.assert_allclose(values, want_values, **TOL)
    np.testing.assert_allclose(align_signs(vectors, want_vectors), want_vectors, atol=1e-8)
    np.testing.assert_allclose(a @ vectors, vectors * values, atol=1e-9)


@SETTINGS
@given(m=st.integers(1, 8), n=st.integers(1, 8), seed=seeds)
def test_matches_numpy_svd(m: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # prescribed singular values 1..3 keep the problem well conditioned (and distinct)
    r = min(m, n)
    left, _ = np.linalg.qr(rng.normal(size=(m, r)))
    right, _ = np.linalg.qr(rng.normal(size=(n, r)))
    a = (left * np.linspace(3.0, 1.0, r)) @ right.T
    u, s, vt = la.svd(a)
    want_u, want_s, want_vt = np.linalg.svd(a, full_matrices=False)
    assert (u.shape, s.shape, vt.shape) == ((m, r), (r,), (r, n))
    np.testing.assert_allclose(s, want_s, atol=1e-9)
    np.testing.assert_allclose(align_signs(vt.T, want_vt.T), want_vt.T, atol=1e-7)
    np.testing.assert_allclose(align_signs(u, want_u), want_u, atol=1e-7)
    np.testing.assert_allclose((u * s) @ vt, a, atol=1e-9)  # reconstruction A = U S V^T


@settings(max_examples=15, deadline=None)
@given(m=st.integers(2, 8), n=st.integers(2, 8), rank=st.integers(0, 2), seed=seeds)
def test_svd_of_rank_deficient_matrices(m: int, n: int, rank: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(m, rank)) @ rng.normal(size=(rank, n))
    u, s, vt = la.svd(a)
    r = min(m, n)
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False), atol=1e-7)
    assert np.count_nonzero(s) == min(rank, r)  # the zero singular values are exactly zero
    np.testing.assert_allclose(u.T @ u, np.eye(r), atol=1e-9)  # U completed orthonormally
    np.testing.assert_allclose(vt @ vt.T, np.eye(r), atol=1e-9)
    np.testing.assert_allclose((u * s) @ vt, a, atol=1e-8)


# ---------------------------------------------------------------- PCA


@settings(max_examples=15, deadline=None)
@given(n=st.integers(12, 40), d=st.integers(2, 7), data=st.data(), seed=seeds)
def test_matches_sklearn_pca(n: int, d: int, data: st.DataObject, seed: int) -> None:
    k = data.draw(st.integers(1, d))
    rng = np.random.default_rng(seed)
    scales = np.linspace(4.0, 0.5, d)  # distinct variances: components are unique up to sign
    x = rng.normal(size=(n, d)) * scales @ np.linalg.qr(rng.normal(size=(d, d)))[0] + 3.0
    ours, theirs = la.PCA(k).fit(x), SklearnPCA(k, svd_solver="full").fit(x)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-7)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-7
    )
    np.testing.assert_allclose(ours.mean_, theirs.mean_, atol=1e-12)
    flipped = align_signs(ours.components_.T, theirs.components_.T).T
    np.testing.assert_allclose(flipped, theirs.components_, atol=1e-6)
    signs = np.sign(np.sum(ours.components_ * theirs.components_, axis=1))
    np.testing.assert_allclose(ours.transform(x) * signs, theirs.transform(x), atol=1e-6)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(x)),
                               theirs.inverse_transform(theirs.transform(x)), atol=1e-6)  # fmt: skip


def test_matches_sklearn_pca_on_digits() -> None:
    from sklearn.datasets import load_digits

    x = load_digits().data
    ours, theirs = la.PCA(10).fit(x), SklearnPCA(10, svd_solver="full").fit(x)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(ours.components_), np.abs(theirs.components_), atol=1e-8)


def test_pca_with_all_components_reconstructs_exactly() -> None:
    x = np.random.default_rng(0).normal(size=(30, 5))
    pca = la.PCA(5).fit(x)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(x)), x, atol=1e-10)
    assert pca.explained_variance_ratio_.sum() == pytest.approx(1.0)
    assert np.all(np.diff(pca.explained_variance_) <= 0)
