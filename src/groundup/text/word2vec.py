"""word2vec: skip-gram and CBOW with negative sampling, trained by SGD in NumPy.

Skip-gram reads one centre word and predicts each word around it; CBOW averages the words
around a position and predicts the word there. Neither computes a softmax over the whole
vocabulary: each true (input, output) pair is scored against `negative` words drawn at
random, and the loss is logistic regression "true pair or noise?":

    loss = -log sigma(u_o . v) - sum_k log sigma(-u_k . v)

v is the input vector (the centre word's row of W_in, or the mean of the context rows for
CBOW), u_o the output row of the true word and u_k the rows of the noise words (W_out).

The details follow Mikolov's C code (and gensim, which copies it):
- frequent words are dropped at random before the windows are built, a word of count c kept
  with probability (sqrt(c / t) + 1) * t / c, t = sample * total words (capped at 1);
- noise words are drawn from the unigram counts raised to 0.75;
- the window is "dynamic": each position uses a window drawn uniformly from 1..window, so
  near words are seen more often than far ones;
- the learning rate falls linearly from lr to lr * 1e-4 over the whole training;
- W_in starts uniform in +-0.5/dim, W_out at zero.

Training is vectorised: the (centre, context) pairs of one epoch are built with array
operations, shuffled, and updated in batches; a row that several pairs of a batch update
moves by the mean of their steps (scatter_update says why).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from groundup.text.tokenize import Vocabulary, words

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*\Z")


def corpus_sentences(text: str) -> list[list[str]]:
    """Lower-case word lists, one per paragraph (blank-line separated), identifiers kept."""
    paragraphs = re.split(r"\n\s*\n", text.lower())
    sentences = [[w for w in words(p) if IDENTIFIER.match(w)] for p in paragraphs]
    return [s for s in sentences if len(s) > 1]


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word with count c (C code / gensim)."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        keep = (np.sqrt(counts / threshold) + 1) * threshold / counts
    return np.minimum(keep, 1.0)


def negative_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Noise distribution: counts ** power, normalised (rare words drawn more than by count)."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


def sgns_loss_and_grads(
    center: np.ndarray, context: np.ndarray, negatives: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Summed negative-sampling loss of B pairs and its gradients.

    center (B, D) input vectors v, context (B, D) output vectors u_o, negatives (B, K, D)
    output vectors u_k. Returns (loss, d center, d context, d negatives)."""
    positive = np.einsum("bd,bd->b", center, context)
    negative = np.einsum("bkd,bd->bk", negatives, center)
    # -log sigma(s) = log(1 + e^-s), written with logaddexp so large |s| does not overflow
    loss = float(np.logaddexp(0, -positive).sum() + np.logaddexp(0, negative).sum())
    g_positive = sigmoid(positive) - 1.0  # d loss / d s_pos
    g_negative = sigmoid(negative)  # d loss / d s_neg
    d_center = g_positive[:, None] * context + np.einsum("bk,bkd->bd", g_negative, negatives)
    d_context = g_positive[:, None] * center
    d_negatives = g_negative[:, :, None] * center[:, None, :]
    return loss, d_center, d_context, d_negatives


def cbow_loss_and_grads(
    context: np.ndarray, mask: np.ndarray, target: np.ndarray, negatives: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """CBOW: the input is the mean of the valid context vectors.

    context (B, C, D), mask (B, C) 1 for a real context word and 0 for padding, target
    (B, D), negatives (B, K, D). Returns (loss, d context, d target, d negatives)."""
    mask = mask.astype(context.dtype)
    count = np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
    hidden = (context * mask[:, :, None]).sum(axis=1) / count
    loss, d_hidden, d_target, d_negatives = sgns_loss_and_grads(hidden, target, negatives)
    d_context = (d_hidden / count)[:, None, :] * mask[:, :, None]
    return loss, d_context, d_target, d_negatives


def scatter_update(table: np.ndarray, rows: np.ndarray, updates: np.ndarray) -> None:
    """table[r] += the mean of the updates aimed at row r in this batch.

    The mean, not the sum: a frequent word appears dozens of times in one batch, and the
    sum of its steps (each computed before any of them is applied) overshoots, where
    one-pair-at-a-time SGD would have seen the sigmoid saturate and slowed down. A sparse
    matrix product does the grouping (much faster than np.add.at on rows)."""
    unique, inverse = np.unique(rows, return_inverse=True)
    group = sp.csr_matrix(
        (np.ones(len(rows), dtype=updates.dtype), (inverse, np.arange(len(rows)))),
        shape=(len(unique), len(rows)),
    )
    counts = np.bincount(inverse, minlength=len(unique)).astype(updates.dtype)
    table[unique] += (group @ updates) / counts[:, None]


def skipgram_pairs(
    ids: np.ndarray, sentence: np.ndarray, window: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(centre, context) id pairs with a dynamic window, never across sentences."""
    reduced = rng.integers(1, window + 1, size=len(ids))
    centers, contexts = [], []
    for d in range(1, window + 1):
        same = sentence[:-d] == sentence[d:]
        right = same & (reduced[:-d] >= d)  # centre i, context i + d
        left = same & (reduced[d:] >= d)  # centre i + d, context i
        centers += [ids[:-d][right], ids[d:][left]]
        contexts += [ids[d:][right], ids[:-d][left]]
    return np.concatenate(centers), np.concatenate(contexts)


def cbow_windows(
    ids: np.ndarray, sentence: np.ndarray, window: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets (N,), context ids (N, 2*window) and their mask, with a dynamic window."""
    n = len(ids)
    reduced = rng.integers(1, window + 1, size=n)
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    positions = np.arange(n)[:, None] + offsets[None, :]
    inside = (positions >= 0) & (positions < n)
    positions = np.clip(positions, 0, n - 1)
    mask = inside & (sentence[positions] == sentence[:, None])
    mask &= np.abs(offsets)[None, :] <= reduced[:, None]
    has_context = mask.any(axis=1)
    return ids[has_context], ids[positions[has_context]], mask[has_context]


@dataclass
class Word2Vec:
    dim: int = 50
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    min_count: int = 5
    epochs: int = 5
    lr: float = 0.025
    batch_size: int = 512
    cbow: bool = False
    seed: int = 0
    losses: list[float] = field(default_factory=list)  # mean loss per pair, per batch

    def build(self, sentences: Sequence[Sequence[str]]) -> None:
        self.vocab = Vocabulary.build((w for s in sentences for w in s), self.min_count)
        counts: dict[str, int] = {}
        for s in sentences:
            for w in s:
                counts[w] = counts.get(w, 0) + 1
        self.counts = np.array([counts.get(w, 0) for w in self.vocab.itos], dtype=np.int64)
        self.counts[0] = 0  # "<unk>": never trained, never drawn as noise
        encoded = [np.array(self.vocab.encode(s), dtype=np.int64) for s in sentences]
        self.ids = np.concatenate(encoded)
        self.sentence = np.repeat(np.arange(len(encoded)), [len(e) for e in encoded])
        known = self.ids != 0
        self.ids, self.sentence = self.ids[known], self.sentence[known]
        self.keep = keep_probabilities(self.counts, self.sample)
        self.noise_cdf = np.cumsum(negative_distribution(self.counts))
        rng = np.random.default_rng(self.seed)
        v, d = len(self.vocab), self.dim
        self.w_in = ((rng.random((v, d)) - 0.5) / d).astype(np.float32)
        self.w_out = np.zeros((v, d), dtype=np.float32)

    def draw_negatives(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        ids = np.searchsorted(self.noise_cdf, rng.random(shape) * self.noise_cdf[-1], "right")
        return np.minimum(ids, len(self.noise_cdf) - 1)

    def fit(
        self,
        sentences: Sequence[Sequence[str]],
        callback: Callable[[int, int, int], None] | None = None,
    ) -> Word2Vec:
        """Train; callback(epoch, batches done in epoch, batches in epoch) after each batch."""
        self.build(sentences)
        rng = np.random.default_rng(self.seed + 1)
        total = self.epochs * len(self.ids)
        done = 0  # corpus positions processed, for the linear decay
        for epoch in range(self.epochs):
            kept = rng.random(len(self.ids)) < self.keep[self.ids]
            ids, sentence = self.ids[kept], self.sentence[kept]
            if self.cbow:
                targets, contexts, mask = cbow_windows(ids, sentence, self.window, rng)
                order = rng.permutation(len(targets))
            else:
                centers, contexts = skipgram_pairs(ids, sentence, self.window, rng)
                order = rng.permutation(len(centers))
            batches = max(1, -(-len(order) // self.batch_size))
            for b in range(batches):
                lr = self.lr * max(1.0 - (done + len(self.ids) * b / batches) / total, 1e-4)
                rows = order[b * self.batch_size : (b + 1) * self.batch_size]
                if self.cbow:
                    loss = self.cbow_step(targets[rows], contexts[rows], mask[rows], lr, rng)
                else:
                    loss = self.skipgram_step(centers[rows], contexts[rows], lr, rng)
                self.losses.append(loss / max(len(rows), 1))
                if callback is not None:
                    callback(epoch, b + 1, batches)
            done += len(self.ids)
        return self

    def skipgram_step(
        self, centers: np.ndarray, contexts: np.ndarray, lr: float, rng: np.random.Generator
    ) -> float:
        negatives = self.draw_negatives(rng, (len(centers), self.negative))
        loss, d_center, d_context, d_negatives = sgns_loss_and_grads(
            self.w_in[centers], self.w_out[contexts], self.w_out[negatives]
        )
        scatter_update(self.w_in, centers, -lr * d_center)
        self.update_output(contexts, d_context, negatives, d_negatives, lr)
        return loss

    def update_output(
        self,
        targets: np.ndarray,
        d_target: np.ndarray,
        negatives: np.ndarray,
        d_negatives: np.ndarray,
        lr: float,
    ) -> None:
        rows = np.concatenate([targets, negatives.ravel()])
        updates = np.concatenate([d_target, d_negatives.reshape(-1, self.dim)])
        scatter_update(self.w_out, rows, -lr * updates)

    def cbow_step(
        self,
        targets: np.ndarray,
        contexts: np.ndarray,
        mask: np.ndarray,
        lr: float,
        rng: np.random.Generator,
    ) -> float:
        negatives = self.draw_negatives(rng, (len(targets), self.negative))
        loss, d_context, d_target, d_negatives = cbow_loss_and_grads(
            self.w_in[contexts], mask, self.w_out[targets], self.w_out[negatives]
        )
        scatter_update(self.w_in, contexts[mask], -lr * d_context[mask])
        self.update_output(targets, d_target, negatives, d_negatives, lr)
        return loss

    @property
    def words(self) -> list[str]:
        return self.vocab.itos[1:]

    @property
    def vectors(self) -> np.ndarray:
        """One row per word of `words` (the input vectors, as word2vec publishes them)."""
        return self.w_in[1:]
