"""fastText: skip-gram whose input vector is built from the word's character n-grams.

A word is wrapped in "<" and ">" ("where" -> "<where>") so prefixes and suffixes differ from
the same letters inside a word; its n-grams of 3 to 6 characters ("<wh", "whe", ...,
"here>") are hashed with 32-bit FNV-1a into one of `buckets` rows. The input vector of a
known word is the mean of its own row and its n-gram rows; an unknown word has no own row
but still has n-grams, so it still gets a vector. Training is skip-gram with negative
sampling (word2vec.py), the gradient of the mean shared equally among its rows.

The hash copies fastText's dictionary.cc, including a quirk: each byte is read as a signed
char, so bytes >= 128 are sign-extended to 32 bits before the XOR.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from groundup.text.word2vec import Word2Vec, scatter_update, sgns_loss_and_grads

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619


def fnv1a(text: str) -> int:
    """fastText's 32-bit FNV-1a hash of the UTF-8 bytes of `text`."""
    h = FNV_OFFSET
    for byte in text.encode("utf-8"):
        signed = byte - 256 if byte >= 128 else byte  # int8_t(byte)
        h = ((h ^ (signed & 0xFFFFFFFF)) * FNV_PRIME) & 0xFFFFFFFF
    return h


def subword_ngrams(word: str, min_n: int = 3, max_n: int = 6) -> list[str]:
    """The character n-grams of "<word>", in fastText's order (by start, then length)."""
    padded = f"<{word}>"
    grams = []
    for start in range(len(padded)):
        for n in range(min_n, max_n + 1):
            if start + n > len(padded):
                break
            grams.append(padded[start : start + n])
    return grams


@dataclass
class FastText(Word2Vec):
    min_n: int = 3
    max_n: int = 6
    buckets: int = 200_000
    losses: list[float] = field(default_factory=list)

    def ngram_rows(self, word: str) -> list[int]:
        first = len(self.vocab)  # the n-gram rows come after the word rows
        return [
            first + fnv1a(g) % self.buckets for g in subword_ngrams(word, self.min_n, self.max_n)
        ]

    def build(self, sentences: Sequence[Sequence[str]]) -> None:
        super().build(sentences)
        # row lists of all words, flat: word i owns rows[starts[i] : starts[i + 1]]
        lists = [[i, *self.ngram_rows(w)] for i, w in enumerate(self.vocab.itos)]
        self.sizes = np.array([len(r) for r in lists], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)])
        self.rows = np.concatenate([np.array(r, dtype=np.int64) for r in lists])
        rng = np.random.default_rng(self.seed)
        extra = ((rng.random((self.buckets, self.dim)) - 0.5) / self.dim).astype(np.float32)
        self.w_in = np.vstack([self.w_in, extra])

    def rows_of(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of several words, concatenated, and how many belong to each word."""
        sizes = self.sizes[words]
        first = np.repeat(self.starts[words] - np.cumsum(sizes) + sizes, sizes)
        return self.rows[first + np.arange(sizes.sum())], sizes

    def input_vectors(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, sizes = self.rows_of(words)
        ends = np.cumsum(sizes) - sizes
        means = np.add.reduceat(self.w_in[rows], ends, axis=0) / sizes[:, None]
        return means, rows, sizes

    def fit(
        self,
        sentences: Sequence[Sequence[str]],
        callback: Callable[[int, int, int], None] | None = None,
    ) -> FastText:
        self.cbow = False
        return super().fit(sentences, callback)  # type: ignore[return-value]

    def skipgram_step(
        self, centers: np.ndarray, contexts: np.ndarray, lr: float, rng: np.random.Generator
    ) -> float:
        negatives = self.draw_negatives(rng, (len(centers), self.negative))
        center, rows, sizes = self.input_vectors(centers)
        loss, d_center, d_context, d_negatives = sgns_loss_and_grads(
            center, self.w_out[contexts], self.w_out[negatives]
        )
        # d mean / d row = 1 / size: each row of a word gets an equal share of its gradient
        share = np.repeat(d_center / sizes[:, None].astype(np.float32), sizes, axis=0)
        scatter_update(self.w_in, rows, -lr * share)
        self.update_output(contexts, d_context, negatives, d_negatives, lr)
        return loss

    def vector(self, word: str) -> np.ndarray:
        """Mean of the word's own row (if known) and its n-gram rows: works for any word."""
        rows = self.ngram_rows(word)
        if word in self.vocab.stoi and word != self.vocab.itos[0]:
            rows = [self.vocab.stoi[word], *rows]
        if not rows:  # shorter than min_n with its brackets: nothing to build from
            return np.zeros(self.dim, dtype=np.float32)
        return self.w_in[rows].mean(axis=0)

    @property
    def vectors(self) -> np.ndarray:
        return self.input_vectors(np.arange(1, len(self.vocab)))[0]
