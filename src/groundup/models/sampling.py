"""Choosing the next token from a language model's logits: greedy, temperature, top-k, top-p.

All functions work on logits of shape (..., V), the vocabulary in the last dimension, and
return new tensors; the input is never changed in place. A filter sets the logits of the
tokens it rules out to -inf, so softmax gives them probability exactly zero.

The filters follow Hugging Face `transformers` (TopKLogitsWarper, TopPLogitsWarper), and
`warp_logits` and `sample_next` apply them in the same order: temperature, then top-k, then
top-p.
"""

from __future__ import annotations

import torch
from torch import Tensor


def filter_top_k(logits: Tensor, k: int) -> Tensor:
    """Keep the k largest logits in the last dimension, set the rest to -inf.

    Ties with the k-th largest value are all kept, so more than k tokens may survive.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"top_k must be a positive integer, got {k!r}")
    k = min(k, logits.size(-1))
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def filter_top_p(logits: Tensor, p: float) -> Tensor:
    """Nucleus filter (Holtzman et al. 2019): keep the smallest set of most likely tokens
    whose total probability is at least p, set the rest to -inf.

    Sorted from least to most likely, the tokens whose running total stays <= 1 - p are the
    unlikely tail; dropping them keeps exactly the nucleus, including the token that carries
    the total across p. The most likely token is always kept.
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {p!r}")
    sorted_logits, order = torch.sort(logits, dim=-1)  # ascending
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    drop_sorted = cumulative <= 1.0 - p
    drop_sorted[..., -1] = False  # the most likely token survives even when p is tiny
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
    return logits.masked_fill(drop, float("-inf"))


def warp_logits(
    logits: Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> Tensor:
    """The logits sampling draws from: divided by `temperature`, then filtered by top-k and
    top-p (Hugging Face's order)."""
    if temperature <= 0:
        raise ValueError(
            f"temperature must be > 0, got {temperature!r}; use greedy=True for the argmax"
        )
    logits = logits / temperature
    if top_k is not None:
        logits = filter_top_k(logits, top_k)
    if top_p is not None:
        logits = filter_top_p(logits, top_p)
    return logits


def sample_next(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Pick one token per row from logits of shape (B, V); returns a LongTensor of shape (B,).

    greedy=True returns the argmax. Otherwise the logits are divided by `temperature`
    (below 1 sharpens, above 1 flattens), filtered by top-k and top-p, and one token is drawn
    from the softmax. A `generator` makes the draw reproducible.
    """
    if greedy and temperature > 0:  # a bad temperature raises in warp_logits either way
        return logits.argmax(dim=-1)
    probs = warp_logits(logits, temperature, top_k, top_p).softmax(dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)
