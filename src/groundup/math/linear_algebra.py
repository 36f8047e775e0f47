"""Linear algebra from scratch in NumPy: the pieces behind embeddings, attention and PCA.

Read top to bottom: vectors (dot product, norm, projection), matrices as maps, LU with
partial pivoting (determinant, solving Ax = b), the Jacobi eigenvalue algorithm for
symmetric matrices, the SVD built on it, and PCA built on the SVD. NumPy is used for array
storage and elementwise arithmetic only; no numpy.linalg routine is called.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# ---------------------------------------------------------------- vectors


def dot(u: np.ndarray, v: np.ndarray) -> float:
    """sum_i u_i v_i: how far u goes in v's direction, times |v|."""
    return float(np.sum(u * v))


def norm(v: np.ndarray) -> float:
    """Euclidean length |v| = sqrt(v . v)."""
    return float(np.sqrt(dot(v, v)))


def cosine_similarity(u: np.ndarray, v: np.ndarray) -> float:
    """cos of the angle between u and v: the dot product of the two unit vectors."""
    return dot(u, v) / (norm(u) * norm(v))


def project(v: np.ndarray, onto: np.ndarray) -> np.ndarray:
    """The part of v that lies along `onto`: (v . u / u . u) u."""
    return dot(v, onto) / dot(onto, onto) * onto


# ---------------------------------------------------------------- matrices as maps


def matvec(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A x as a combination of A's columns: x_1 a_1 + x_2 a_2 + ... (where the basis goes)."""
    result = np.zeros(a.shape[0])
    for j in range(a.shape[1]):
        result += x[j] * a[:, j]
    return result


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A B)_ij = row i of A . column j of B: first apply B, then A."""
    out = np.zeros((a.shape[0], b.shape[1]))
    for j in range(b.shape[1]):
        out[:, j] = matvec(a, b[:, j])
    return out


# ---------------------------------------------------------------- LU: determinant and solve


def lu_decompose(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """P A = L U with partial pivoting; returns (perm, L, U, number of row swaps).

    perm[i] is the row of A that ends up as row i. At each column the row with the largest
    absolute pivot is swapped up, so no multiplier exceeds 1 and round-off stays small.
    """
    n = a.shape[0]
    upper = np.array(a, dtype=np.float64)
    lower = np.eye(n)
    perm = np.arange(n)
    swaps = 0
    for k in range(n):
        pivot = k + int(np.argmax(np.abs(upper[k:, k])))
        if pivot != k:
            upper[[k, pivot]] = upper[[pivot, k]]
            lower[[k, pivot], :k] = lower[[pivot, k], :k]
            perm[[k, pivot]] = perm[[pivot, k]]
            swaps += 1
        if upper[k, k] == 0.0:
            continue  # the column is already zero below the diagonal: singular, nothing to do
        factors = upper[k + 1 :, k] / upper[k, k]
        lower[k + 1 :, k] = factors
        upper[k + 1 :] -= factors[:, None] * upper[k]
        upper[k + 1 :, k] = 0.0  # zero by construction; store it exactly, not as round-off
    return perm, lower, upper, swaps


def det(a: np.ndarray) -> float:
    """The signed volume factor of A: product of U's diagonal, sign flipped per row swap."""
    _, _, upper, swaps = lu_decompose(a)
    return float((-1.0) ** swaps * np.prod(np.diag(upper)))


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with A x = b (b may be (n,) or (n, k)) by Gaussian elimination with partial pivoting."""
    perm, lower, upper, _ = lu_decompose(a)
    n = a.shape[0]
    if np.any(np.abs(np.diag(upper)) <= 1e-14 * max(np.abs(upper).max(), 1e-300)):
        raise np.linalg.LinAlgError("singular matrix")
    y = np.array(b, dtype=np.float64)[perm]
    for i in range(n):  # forward substitution: L y = P b (L has ones on its diagonal)
        y[i] -= lower[i, :i] @ y[:i]
    x = y
    for i in reversed(range(n)):  # back substitution: U x = y
        x[i] = (y[i] - upper[i, i + 1 :] @ x[i + 1 :]) / upper[i, i]
    return x


# ---------------------------------------------------------------- symmetric eigenproblem


def eigh(a: np.ndarray, tol: float = 1e-12, max_sweeps: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending, like numpy.linalg.eigh) and eigenvectors (columns) of symmetric A.

    Cyclic Jacobi: each rotation in the (p, q) plane zeroes the entry A_pq; sweeping over
    all pairs drives the off-diagonal mass to zero. The diagonal becomes the eigenvalues,
    the product of all rotations holds the eigenvectors.
    """
    m = np.array(a, dtype=np.float64)
    n = m.shape[0]
    vectors = np.eye(n)
    scale = max(np.sqrt(np.sum(m * m)), 1e-300)
    for _ in range(max_sweeps):
        off = np.sqrt(np.sum((m - np.diag(np.diag(m))) ** 2))
        if off <= tol * scale:
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                if m[p, q] == 0.0:
                    continue
                # the angle that makes the rotated (p, q) entry zero; t = tan(angle), the
                # smaller root keeps the rotation below 45 degrees (stable)
                gap = m[q, q] - m[p, p]
                if abs(m[p, q]) < 1e-18 * abs(gap):
                    t = m[p, q] / gap  # theta would overflow; tan(angle) ~ 1 / (2 theta)
                else:
                    theta = gap / (2.0 * m[p, q])
                    t = (1.0 if theta >= 0 else -1.0) / (abs(theta) + np.hypot(theta, 1.0))
                c = 1.0 / np.sqrt(t * t + 1.0)
                s = t * c
                rotation_p, rotation_q = m[:, p].copy(), m[:, q].copy()
                m[:, p], m[:, q] = c * rotation_p - s * rotation_q, s * rotation_p + c * rotation_q
                row_p, row_q = m[p, :].copy(), m[q, :].copy()
                m[p, :], m[q, :] = c * row_p - s * row_q, s * row_p + c * row_q
                v_p, v_q = vectors[:, p].copy(), vectors[:, q].copy()
                vectors[:, p], vectors[:, q] = c * v_p - s * v_q, s * v_p + c * v_q
    values = np.diag(m).copy()
    order = np.argsort(values)
    return values[order], vectors[:, order]


# ---------------------------------------------------------------- singular value decomposition


def svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD A = U diag(S) V^T with S descending, shapes (m, r), (r,), (r, n), r = min(m, n).

    V and S^2 come from the symmetric eigenproblem of A^T A (or of A A^T when A is wide,
    which is smaller). u_i = A v_i / s_i; where s_i is (numerically) zero that division is
    meaningless, so those u_i are completed to an orthonormal set by Gram-Schmidt instead.
    The price of forming A^T A: singular values below about sqrt(eps) * s_max (a condition
    number above ~1e7) are taken as zero. LAPACK avoids that by never forming A^T A.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.shape[0] < a.shape[1]:  # wide: decompose A^T and swap the roles of U and V
        u, s, vt = svd(a.T)
        return vt.T, s, u.T
    values, vectors = eigh(a.T @ a)
    order = np.argsort(values)[::-1]
    singular = np.sqrt(np.clip(values[order], 0.0, None))
    v = vectors[:, order]
    u = a @ v
    # A^T A squares the singular values, so an eigenvalue error of eps * s_max^2 becomes an
    # error of sqrt(eps) * s_max in s: anything below that is indistinguishable from zero
    largest = singular[0] if singular.size else 0.0
    cutoff = max(np.sqrt(max(a.shape) * np.finfo(np.float64).eps) * largest, 1e-300)
    rank = int(np.sum(singular > cutoff))
    u[:, :rank] /= singular[:rank]
    singular[rank:] = 0.0
    u = _complete_orthonormal(u, rank)
    return u, singular, v.T


def _complete_orthonormal(u: np.ndarray, rank: int) -> np.ndarray:
    """Keep the first `rank` columns; replace the rest by unit vectors orthogonal to all before."""
    m, r = u.shape
    out = u.copy()
    candidates = iter(np.eye(m))
    for j in range(rank, r):
        while True:
            w = next(candidates).copy()
            for i in range(j):  # Gram-Schmidt, twice for round-off
                w -= dot(out[:, i], w) * out[:, i]
            for i in range(j):
                w -= dot(out[:, i], w) * out[:, i]
            if norm(w) > 1e-8:
                out[:, j] = w / norm(w)
                break
    return out


# ---------------------------------------------------------------- principal component analysis


@dataclass
class PCA:
    """PCA through the SVD of the centred data, with scikit-learn's names for the results.

    components_ (k, d): orthonormal directions of largest variance, one per row.
    explained_variance_ (k,): the variance along each, with the sample (n - 1) denominator.
    explained_variance_ratio_ (k,): that as a share of the total variance.
    """

    n_components: int

    def fit(self, x: np.ndarray) -> PCA:
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[0]
        self.mean_ = x.mean(axis=0)
        centred = x - self.mean_
        _, singular, vt = svd(centred)
        variance = singular**2 / (n - 1)
        total = float(np.sum(centred * centred) / (n - 1))
        k = self.n_components
        self.components_ = _fix_signs(vt[:k])
        self.explained_variance_ = variance[:k]
        self.explained_variance_ratio_ = variance[:k] / total
        self.singular_values_ = singular[:k]
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Coordinates of each centred row along the components: (n, k)."""
        return (np.asarray(x, dtype=np.float64) - self.mean_) @ self.components_.T

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        return self.fit(x).transform(x)

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        """Back to data space: the mean plus the kept components weighted by z."""
        return np.asarray(z) @ self.components_ + self.mean_


def _fix_signs(rows: np.ndarray) -> np.ndarray:
    """Eigenvectors are defined up to sign; make the largest-magnitude entry of each positive."""
    biggest = rows[np.arange(len(rows)), np.argmax(np.abs(rows), axis=1)]
    return rows * np.where(biggest < 0, -1.0, 1.0)[:, None]
