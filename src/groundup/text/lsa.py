"""Latent semantic analysis: a truncated SVD of the TF-IDF matrix, topics and similarity.

X (documents x terms) ~= U_k S_k V_k^T keeps the k strongest directions. The rows of V_k^T
are "topics" (weights over terms), X V_k = U_k S_k places each document in k dimensions,
where documents that share no word can still be close if their words co-occur elsewhere.

The SVD is the randomized one of Halko, Martinsson & Tropp (2011), the method behind
scikit-learn's TruncatedSVD(algorithm="randomized"):
1. Range finder: Y = X Omega for a Gaussian Omega with k + p columns (p oversampling).
   Y's columns span (almost) the top-k column space of X.
2. Power iterations: Y = (X X^T)^q X Omega sharpens the gap between strong and weak
   directions (singular values are raised to the power 2q + 1); re-orthonormalise (QR)
   after every product so the columns do not collapse onto the first one.
3. Q = orth(Y); B = Q^T X is small ((k + p) x terms). Its dense SVD B = U_B S V^T gives
   X ~= (Q U_B) S V^T. Keep the first k.
Only products with X are needed, so X stays sparse.

Sign ambiguity: if u, v is a pair of singular vectors, so is -u, -v (X = sum s u v^T does not
change). Every solver may return either; we flip each pair so the largest |entry| of v is
positive. Comparisons with other solvers are therefore "up to sign", component by component.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

Matrix = np.ndarray | sp.spmatrix | sp.sparray


def orthonormal_basis(y: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(y)
    return q


def flip_signs(u: np.ndarray, vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flip each (u_i, v_i) pair so the entry of v_i with the largest |value| is positive."""
    largest = np.argmax(np.abs(vt), axis=1)
    signs = np.sign(vt[np.arange(len(vt)), largest])
    signs[signs == 0] = 1.0
    return u * signs, vt * signs[:, None]


def randomized_svd(
    x: Matrix,
    k: int,
    oversamples: int = 10,
    power_iterations: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top k singular triplets: U (n, k), s (k,) descending, Vt (k, m)."""
    n, m = x.shape
    if not 1 <= k <= min(n, m):
        raise ValueError(f"k must be in 1..{min(n, m)} for a {n} x {m} matrix, got {k}")
    width = min(k + oversamples, n, m)
    omega = np.random.default_rng(seed).standard_normal((m, width))
    y = orthonormal_basis(x @ omega)  # step 1: the range finder
    for _ in range(power_iterations):  # step 2: y = (X X^T)^q X omega, orthonormalised
        y = orthonormal_basis(x @ orthonormal_basis(x.T @ y))
    b = np.asarray((x.T @ y).T)  # step 3: B = Q^T X, computed as (X^T Q)^T for sparse X
    u_b, s, vt = np.linalg.svd(b, full_matrices=False)
    u, vt = flip_signs(y @ u_b[:, :k], vt[:k])
    return u, s[:k], vt


@dataclass
class TruncatedSVD:
    """LSA on a (sparse) document-term matrix; no centring, so sparsity is kept."""

    k: int = 100
    oversamples: int = 10
    power_iterations: int = 5
    seed: int = 0
    components: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), init=False)
    singular_values: np.ndarray = field(default_factory=lambda: np.zeros(0), init=False)
    explained_variance_ratio: np.ndarray = field(default_factory=lambda: np.zeros(0), init=False)

    def fit_transform(self, x: Matrix) -> np.ndarray:
        u, s, vt = randomized_svd(x, self.k, self.oversamples, self.power_iterations, self.seed)
        self.components, self.singular_values = vt, s
        documents = u * s  # = X V_k
        # variance along each component over the variance of X (as TruncatedSVD reports it)
        total = column_variances(x).sum()
        self.explained_variance_ratio = documents.var(axis=0) / total
        return documents

    def transform(self, x: Matrix) -> np.ndarray:
        return np.asarray(x @ self.components.T)


def column_variances(x: Matrix) -> np.ndarray:
    if sp.issparse(x):
        mean = np.asarray(x.mean(axis=0)).ravel()
        mean_of_squares = np.asarray(x.multiply(x).mean(axis=0)).ravel()
        return mean_of_squares - mean**2
    return np.asarray(x).var(axis=0)


def top_terms(components: np.ndarray, terms: Sequence[str], n: int = 8) -> list[list[str]]:
    """For each component (topic), the n terms with the largest positive weight."""
    return [[terms[j] for j in np.argsort(-row, kind="stable")[:n]] for row in components]


def cosine_similarity(a: Matrix, b: Matrix) -> np.ndarray:
    """Rows of a against rows of b: (a_i . b_j) / (|a_i| |b_j|); zero rows give 0."""

    def unit_rows(x: Matrix) -> Matrix:
        if sp.issparse(x):
            lengths = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
            lengths[lengths == 0] = 1.0
            return sp.csr_matrix(sp.diags(1.0 / lengths) @ x)
        x = np.asarray(x, dtype=np.float64)
        lengths = np.linalg.norm(x, axis=1, keepdims=True)
        return x / np.where(lengths == 0, 1.0, lengths)

    product = unit_rows(a) @ unit_rows(b).T
    return product.toarray() if sp.issparse(product) else np.asarray(product)


def nearest(
    queries: Matrix, documents: Matrix, n: int = 3, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Ids (queries, n) of the n most cosine-similar documents, most similar first, and
    their similarities. exclude_self: queries are documents[0..], skip the document itself."""
    similarity = cosine_similarity(queries, documents)
    if exclude_self:
        similarity[np.arange(similarity.shape[0]), np.arange(similarity.shape[0])] = -np.inf
    ids = np.argsort(-similarity, axis=1, kind="stable")[:, :n]
    return ids, np.take_along_axis(similarity, ids, axis=1)
