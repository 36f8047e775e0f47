"""GloVe: word vectors from a weighted least-squares fit to log co-occurrence counts.

1. Co-occurrence: X[i, j] sums 1 / distance over every time word j appears within `window`
   words of word i (as GloVe's cooccur.c does; symmetric: both directions).
2. Model: w_i . w~_j + b_i + b~_j should equal log X[i, j], for the non-zero entries only.
3. Loss (the 1/2 of glove.c included):

       J = 1/2 sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2,
       f(x) = (x / x_max) ** alpha for x < x_max, else 1

   f keeps the many tiny counts from dominating and caps the few huge ones.
4. AdaGrad on shuffled batches of entries, the squared-gradient sums starting at 1 as in
   glove.c; the published vectors are w + w~ (the paper's recommendation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


def cooccurrence(
    sentences: Sequence[np.ndarray], vocab_size: int, window: int, symmetric: bool = True
) -> sp.csr_matrix:
    """Sparse (V, V) matrix of 1/distance-weighted counts within `window`, per sentence."""
    ids = np.concatenate([np.asarray(s, dtype=np.int64) for s in sentences])
    sentence = np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])
    rows, cols, values = [], [], []
    for d in range(1, window + 1):
        same = sentence[:-d] == sentence[d:]
        left, right = ids[:-d][same], ids[d:][same]
        rows.append(right)  # the word and the one d places before it (cooccur.c looks back)
        cols.append(left)
        values.append(np.full(len(left), 1.0 / d))
        if symmetric:
            rows.append(left)
            cols.append(right)
            values.append(np.full(len(left), 1.0 / d))
    matrix = sp.coo_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(vocab_size, vocab_size),
    )
    return matrix.tocsr()  # duplicates are summed


def weighting(x: np.ndarray, x_max: float = 100.0, alpha: float = 0.75) -> np.ndarray:
    return np.minimum((x / x_max) ** alpha, 1.0)


def glove_loss_and_grads(
    w: np.ndarray,
    w_tilde: np.ndarray,
    b: np.ndarray,
    b_tilde: np.ndarray,
    x: np.ndarray,
    x_max: float = 100.0,
    alpha: float = 0.75,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Loss of B entries and its gradients; w, w_tilde (B, D), b, b_tilde, x (B,)."""
    diff = np.einsum("bd,bd->b", w, w_tilde) + b + b_tilde - np.log(x)
    f_diff = weighting(x, x_max, alpha) * diff
    loss = float(0.5 * (f_diff * diff).sum())
    return loss, f_diff[:, None] * w_tilde, f_diff[:, None] * w, f_diff, f_diff


def adagrad_rows(
    table: np.ndarray, squares: np.ndarray, rows: np.ndarray, grads: np.ndarray, lr: float
) -> None:
    """AdaGrad on the rows of a batch; a row seen twice gets the sum of its gradients."""
    unique, inverse = np.unique(rows, return_inverse=True)
    summed = np.zeros((len(unique), *grads.shape[1:]), dtype=grads.dtype)
    np.add.at(summed, inverse, grads)
    squares[unique] += summed**2
    table[unique] -= lr * summed / np.sqrt(squares[unique])


@dataclass
class GloVe:
    dim: int = 50
    x_max: float = 100.0
    alpha: float = 0.75
    lr: float = 0.05
    epochs: int = 25
    batch_size: int = 1024
    seed: int = 0
    losses: list[float] = field(default_factory=list)  # mean loss per entry, per epoch

    def fit(
        self, counts: sp.csr_matrix, callback: Callable[[int, float], None] | None = None
    ) -> GloVe:
        coo = counts.tocoo()
        rows, cols, x = coo.row, coo.col, coo.data.astype(np.float64)
        rng = np.random.default_rng(self.seed)
        v, d = counts.shape[0], self.dim
        self.w = (rng.random((v, d)) - 0.5) / d  # glove.c's initialisation
        self.w_tilde = (rng.random((v, d)) - 0.5) / d
        self.b, self.b_tilde = np.zeros(v), np.zeros(v)
        squares = [np.ones_like(t) for t in (self.w, self.w_tilde, self.b, self.b_tilde)]
        for epoch in range(self.epochs):
            order = rng.permutation(len(x))
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                e = order[start : start + self.batch_size]
                i, j = rows[e], cols[e]
                loss, gw, gwt, gb, gbt = glove_loss_and_grads(
                    self.w[i], self.w_tilde[j], self.b[i], self.b_tilde[j], x[e],
                    self.x_max, self.alpha,
                )  # fmt: skip
                adagrad_rows(self.w, squares[0], i, gw, self.lr)
                adagrad_rows(self.w_tilde, squares[1], j, gwt, self.lr)
                adagrad_rows(self.b, squares[2], i, gb, self.lr)
                adagrad_rows(self.b_tilde, squares[3], j, gbt, self.lr)
                total += loss
            self.losses.append(total / max(len(x), 1))
            if callback is not None:
                callback(epoch, self.losses[-1])
        return self

    @property
    def vectors(self) -> np.ndarray:
        return self.w + self.w_tilde
