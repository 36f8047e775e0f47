"""N-gram language models: counts, add-k and interpolated Kneser-Ney smoothing, perplexity.

An n-gram model predicts a token from the n - 1 tokens before it:
p(w | h) with h the context (history) of length n - 1. Each training sequence (a sentence,
a document, or one long text) is padded with n - 1 start tokens "<s>" on the left, so every
token has a full-length context, and ends with "</s>", so the model also learns where
sequences end (`boundaries=False` leaves "</s>" out, for one long stream such as a text read
character by character). Tokens seen fewer than `min_count` times become "<unk>"; at test
time every unknown token is read as "<unk>".

The vocabulary a model predicts over is: the kept training tokens, "</s>" and "<unk>". It
never predicts "<s>". Every model here gives, for every context, a distribution over that
vocabulary that sums to one (tests check it on random corpora); the plain maximum-likelihood
model is the exception: it gives 0 to tokens it never saw.

  MLE         p(w | h) = c(h w) / c(h), backing off to a shorter context if h was never seen
  AddK        p(w | h) = (c(h w) + k) / (c(h) + k V); k = 1 is Laplace smoothing
  KneserNey   interpolated Kneser-Ney (Chen & Goodman 1998), optionally with three discounts

Characters or words: a token is any string. A str is a sequence of characters, so
`model.fit([train_text])` is a character model and `model.fit(sentences_of_words)` a word
model. `char_split` cuts a text 90/10 exactly like groundup.data.text.train_val_split.
Cross-entropy is in nats per predicted token (natural logarithm), the unit of
torch.nn.functional.cross_entropy; perplexity = exp(cross-entropy).
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

BOS, EOS, UNK = "<s>", "</s>", "<unk>"

Context = tuple[str, ...]
Table = dict[Context, dict[str, int]]  # context -> {next token: count}


def char_split(text: str, train_fraction: float = 0.9) -> tuple[str, str]:
    """The first train_fraction of the characters for training, the rest for validation.

    The cut is at int(train_fraction * len(text)), the same index as
    groundup.data.text.train_val_split, so a neural model on the same text sees the same split.
    """
    n = int(train_fraction * len(text))
    return text[:n], text[n:]


class NgramModel:
    """What all n-gram models share: vocabulary, counts of every order, evaluation, sampling.

    Subclasses define `distribution(context)` (a vector over `self.vocab`) and
    `prob(context, token)` (one entry of it, computed without the whole vector).
    """

    def __init__(self, order: int, *, boundaries: bool = True, min_count: int = 1) -> None:
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        self.order = order
        self.boundaries = boundaries
        self.min_count = min_count
        self.vocab: list[str] = []
        self.index: dict[str, int] = {}
        # counts[k]: contexts of length k -> next-token counts, for k = 0 .. order - 1
        self.counts: list[Table] = []
        self.totals: list[dict[Context, int]] = []

    # ------------------------------------------------------------ counting

    def fit(self, sequences: Iterable[Sequence[str]]) -> NgramModel:
        sequences = [list(s) for s in sequences]
        frequency = Counter(token for s in sequences for token in s)
        kept = sorted(t for t, c in frequency.items() if c >= self.min_count and t != BOS)
        specials = [EOS, UNK] if self.boundaries else [UNK]
        self.set_vocab([t for t in kept if t not in specials] + specials)
        top: Counter[tuple[str, ...]] = Counter()
        for s in sequences:
            padded = self.pad(s)
            top.update(zip(*(padded[j:] for j in range(self.order)), strict=False))
        return self.fit_counts(top, self.vocab)

    def set_vocab(self, vocab: Sequence[str]) -> None:
        self.vocab = list(vocab)
        self.index = {t: i for i, t in enumerate(self.vocab)}

    def fit_counts(self, counts: Mapping[tuple[str, ...], int], vocab: Sequence[str]) -> NgramModel:
        """Fit from the counts of the padded n-grams of the model's order and a vocabulary
        (which must hold "<unk>", and "</s>" with boundaries). `fit` ends here."""
        if UNK not in vocab or (self.boundaries and EOS not in vocab) or BOS in vocab:
            raise ValueError('the vocabulary needs "<unk>" (and "</s>"), and no "<s>"')
        self.set_vocab(vocab)
        # only the highest order is counted; since every token has a full padded context,
        # the lower orders are its marginals: c(h' w) = sum over v of c(v h' w)
        self.counts = [defaultdict(dict) for _ in range(self.order)]
        for gram, c in counts.items():
            if len(gram) != self.order:
                raise ValueError(f"expected {self.order}-grams, got {gram!r}")
            self.counts[-1][gram[:-1]][gram[-1]] = c
        for k in range(self.order - 2, -1, -1):
            for context, nexts in self.counts[k + 1].items():
                table = self.counts[k][context[1:]]
                for w, c in nexts.items():
                    table[w] = table.get(w, 0) + c
        self.counts = [dict(table) for table in self.counts]
        self.totals = [{h: sum(n.values()) for h, n in table.items()} for table in self.counts]
        self.prepare()
        return self

    def prepare(self) -> None:
        """Whatever a subclass precomputes from the counts."""

    def pad(self, sequence: Sequence[str]) -> list[str]:
        tokens = [self.lookup(t) for t in sequence]
        return [BOS] * (self.order - 1) + tokens + ([EOS] if self.boundaries else [])

    def lookup(self, token: str) -> str:
        return token if token in self.index or token == BOS else UNK

    def context_of(self, context: Sequence[str]) -> Context:
        """The last order - 1 tokens; a shorter context means the sequence started there."""
        last = context[max(len(context) - (self.order - 1), 0) :] if self.order > 1 else ()
        return (BOS,) * (self.order - 1 - len(last)) + tuple(self.lookup(t) for t in last)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    # ------------------------------------------------------------ probabilities

    def prob(self, context: Sequence[str], token: str) -> float:
        raise NotImplementedError

    def distribution(self, context: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def log_prob(self, context: Sequence[str], token: str) -> float:
        """Natural logarithm of p(token | context); -inf where the model gives 0."""
        p = self.prob(context, token)
        return math.log(p) if p > 0 else -math.inf

    def cross_entropy(self, sequences: Iterable[Sequence[str]]) -> float:
        """Mean negative log-probability in nats per predicted token (each token and, with
        boundaries, each "</s>"), every token conditioned on the tokens before it."""
        total, n = 0.0, 0
        for s in sequences:
            padded = self.pad(s)
            for i in range(self.order - 1, len(padded)):
                total -= self.log_prob(padded[i - self.order + 1 : i], padded[i])
                n += 1
        if n == 0:
            raise ValueError("no tokens to evaluate")
        return total / n

    def perplexity(self, sequences: Iterable[Sequence[str]]) -> float:
        return math.exp(self.cross_entropy(sequences))

    # ------------------------------------------------------------ generation

    def sample(
        self,
        max_tokens: int,
        context: Sequence[str] = (),
        temperature: float = 1.0,
        top_k: int | None = None,
        rng: random.Random | None = None,
    ) -> list[str]:
        """Up to max_tokens tokens after `context`; stops at "</s>" (which is not returned).

        temperature < 1 sharpens the distribution (p ** (1 / T), renormalised), > 1 flattens
        it; top_k keeps only the k most likely tokens. "<unk>" is never sampled.
        """
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        rng = rng or random.Random(0)
        history, out = list(context), []
        for _ in range(max_tokens):
            p = self.distribution(history).copy()
            p[self.index[UNK]] = 0.0
            if top_k is not None:
                p[np.argsort(p)[: max(len(p) - top_k, 0)]] = 0.0
            with np.errstate(divide="ignore"):
                logits = np.log(p) / temperature
            weights = np.exp(logits - logits.max())
            cumulative = np.cumsum(weights)
            i = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
            token = self.vocab[min(i, len(self.vocab) - 1)]
            if token == EOS:
                break
            out.append(token)
            history.append(token)
        return out


class MLE(NgramModel):
    """Relative frequencies c(h w) / c(h). For a context never seen in training it uses the
    longest seen suffix of it (down to the unigram c(w) / N), so it always gives a
    distribution; but an unseen n-gram gets 0, and one such token makes perplexity infinite."""

    def seen_context(self, context: Sequence[str]) -> tuple[int, Context]:
        h = self.context_of(context)
        for k in range(len(h), -1, -1):
            suffix = h[len(h) - k :]
            if self.totals[k].get(suffix, 0) > 0:
                return k, suffix
        raise ValueError("the model is not fitted")

    def prob(self, context: Sequence[str], token: str) -> float:
        k, h = self.seen_context(context)
        return self.counts[k][h].get(self.lookup(token), 0) / self.totals[k][h]

    def distribution(self, context: Sequence[str]) -> np.ndarray:
        k, h = self.seen_context(context)
        p = np.zeros(self.vocab_size)
        for w, c in self.counts[k][h].items():
            p[self.index[w]] = c / self.totals[k][h]
        return p


class AddK(NgramModel):
    """Add-k (Lidstone) smoothing of the highest order: (c(h w) + k) / (c(h) + k V).

    Every token is treated as seen k more times than it was; k = 1 is Laplace smoothing.
    An unseen context gets the uniform distribution 1 / V. Same definition as NLTK's
    nltk.lm.Lidstone and nltk.lm.Laplace.
    """

    def __init__(self, order: int, k: float = 1.0, **kwargs: bool | int) -> None:
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        super().__init__(order, **kwargs)  # type: ignore[arg-type]
        self.k = k

    def prob(self, context: Sequence[str], token: str) -> float:
        h = self.context_of(context)
        c = self.counts[-1].get(h, {}).get(self.lookup(token), 0)
        return (c + self.k) / (self.totals[-1].get(h, 0) + self.k * self.vocab_size)

    def distribution(self, context: Sequence[str]) -> np.ndarray:
        h = self.context_of(context)
        p = np.full(self.vocab_size, float(self.k))
        for w, c in self.counts[-1].get(h, {}).items():
            p[self.index[w]] += c
        return p / (self.totals[-1].get(h, 0) + self.k * self.vocab_size)


def estimate_discounts(table: Table, modified: bool) -> tuple[float, float, float]:
    """Discounts for counts 1, 2 and 3+ from the counts of counts n_r (Chen & Goodman 1998):
    Y = n1 / (n1 + 2 n2); plain: D = Y for every count; modified: D1 = 1 - 2Y n2/n1,
    D2 = 2 - 3Y n3/n2, D3+ = 3 - 4Y n4/n3. Clipped to [0, r] so that p never goes negative;
    where an n_r is 0 (a tiny corpus) the usual defaults 0.75 / (0.5, 1, 1.5) stand in."""
    n = Counter(c for nexts in table.values() for c in nexts.values() if c <= 4)
    n1, n2, n3, n4 = (n[r] for r in (1, 2, 3, 4))
    if not modified:
        d = n1 / (n1 + 2 * n2) if n1 and n2 else 0.75
        return d, d, d
    if not (n1 and n2 and n3 and n4):
        return 0.5, 1.0, 1.5
    y = n1 / (n1 + 2 * n2)
    d1, d2, d3 = 1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3
    return min(max(d1, 0.0), 1.0), min(max(d2, 0.0), 2.0), min(max(d3, 0.0), 3.0)


class KneserNey(NgramModel):
    """Interpolated Kneser-Ney smoothing (Chen & Goodman 1998, section 3.5).

    At the highest order, with c the raw counts:
        p(w | h) = max(c(h w) - D, 0) / c(h)  +  gamma(h) * p(w | h[1:])
        gamma(h) = D * N1+(h .) / c(h)        (N1+(h .): distinct tokens seen after h)
    gamma(h) is exactly the mass the discount took away, so p sums to one.
    At every lower order the same formula runs on continuation counts instead of counts:
        c'(h w) = N1+(. h w), the number of distinct tokens v seen before "h w".
    "Francisco" is frequent but follows almost only "San", so its continuation count is
    small and it gets little mass in contexts where "San" is not in front of it.
    Below the unigram sits the uniform distribution 1 / V, which gives unseen tokens
    ("<unk>") a little mass.

    discount: None estimates D per order from the counts of counts (Y = n1 / (n1 + 2 n2));
    a float uses it at every order; a sequence gives one per order (index 0: unigrams).
    modified=True uses three discounts per order, D1, D2, D3+, for counts 1, 2 and >= 3,
    estimated with Chen & Goodman's formula; gamma(h) is then
    (D1 N1(h .) + D2 N2(h .) + D3+ N3+(h .)) / c(h).
    """

    def __init__(
        self,
        order: int,
        discount: float | Sequence[float] | None = None,
        modified: bool = False,
        **kwargs: bool | int,
    ) -> None:
        super().__init__(order, **kwargs)  # type: ignore[arg-type]
        if modified and discount is not None:
            raise ValueError("modified Kneser-Ney estimates its discounts; leave discount None")
        if discount is not None:
            values = [discount] * order if isinstance(discount, int | float) else list(discount)
            if len(values) != order or not all(0 <= d <= 1 for d in values):
                raise ValueError(f"need {order} discounts in [0, 1], got {discount!r}")
        self.discount = discount
        self.modified = modified
        self.tables: list[Table] = []  # per order: counts at the top, continuation counts below
        self.discounts: list[tuple[float, float, float]] = []
        self.table_totals: list[dict[Context, int]] = []
        self.gammas: list[dict[Context, float]] = []

    def prepare(self) -> None:
        self.tables = [self.counts[-1]]
        for _ in range(self.order - 1):  # continuation counts from the order above
            above, table = self.tables[0], defaultdict(dict)
            for context, nexts in above.items():
                lower = table[context[1:]]
                for w in nexts:
                    lower[w] = lower.get(w, 0) + 1
            self.tables.insert(0, dict(table))
        if self.discount is None:
            self.discounts = [estimate_discounts(t, self.modified) for t in self.tables]
        else:
            d = self.discount
            values = [d] * self.order if isinstance(d, int | float) else list(d)
            self.discounts = [(float(v),) * 3 for v in values]
        self.table_totals = [{h: sum(n.values()) for h, n in t.items()} for t in self.tables]
        self.gammas = []
        for k, table in enumerate(self.tables):
            gamma = {}
            for h, nexts in table.items():
                taken = sum(self.discount_for(k, c) for c in nexts.values())
                gamma[h] = taken / self.table_totals[k][h]
            self.gammas.append(gamma)

    def discount_for(self, k: int, count: int) -> float:
        d1, d2, d3 = self.discounts[k]
        return 0.0 if count == 0 else d1 if count == 1 else d2 if count == 2 else d3

    def prob(self, context: Sequence[str], token: str) -> float:
        h, w = self.context_of(context), self.lookup(token)
        p = 1.0 / self.vocab_size  # below the unigram: uniform
        for k in range(len(h) + 1):  # from the unigram up to the full context
            suffix = h[len(h) - k :]
            total = self.table_totals[k].get(suffix)
            if total is None:  # context never seen: p(w | h) = p(w | h[1:])
                continue
            c = self.tables[k][suffix].get(w, 0)
            p = (c - self.discount_for(k, c)) / total + self.gammas[k][suffix] * p
        return p

    def distribution(self, context: Sequence[str]) -> np.ndarray:
        h = self.context_of(context)
        p = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for k in range(len(h) + 1):
            suffix = h[len(h) - k :]
            total = self.table_totals[k].get(suffix)
            if total is None:
                continue
            p = self.gammas[k][suffix] * p
            for w, c in self.tables[k][suffix].items():
                p[self.index[w]] += (c - self.discount_for(k, c)) / total
        return p

    def continuation_prob(self, token: str) -> float:
        """The unigram continuation probability N1+(. w) / N1+(. .), before discounting:
        in how many distinct contexts a token appears, relative to all bigram types."""
        if self.order < 2:
            raise ValueError("continuation counts need order >= 2")
        return self.tables[0][()].get(self.lookup(token), 0) / self.table_totals[0][()]
