"""Scaled dot-product attention and multi-head attention, from plain tensor operations.

Vaswani et al. 2017, "Attention Is All You Need", section 3.2:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V                        (eq. 1)
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O
        where head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)

Mask convention everywhere in this file: a boolean tensor, True = "this query may attend to
this key". (torch.nn.functional.scaled_dot_product_attention uses the same convention;
torch.nn.MultiheadAttention uses the opposite one, True = "blocked".)

A query whose mask row is all False has nothing to attend to. Its weights are all zero and
its output is a zero vector, with zero gradients: no NaN, the same as
torch.nn.functional.scaled_dot_product_attention.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# ---------------------------------------------------------------- scaled dot-product attention


def attention_weights(q: Tensor, k: Tensor, mask: Tensor | None = None) -> Tensor:
    """softmax(q k^T / sqrt(d)) with masked keys removed.

    q: (..., Tq, d), k: (..., Tk, d), mask: bool, broadcastable to (..., Tq, Tk).
    Returns the weights (..., Tq, Tk); each row sums to 1 (or is all zero if fully masked).
    """
    d = q.size(-1)
    # Dot products of random unit-variance vectors have variance d; dividing by sqrt(d) keeps
    # the scores near unit variance so the softmax does not saturate into a one-hot.
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (..., Tq, Tk)
    if mask is None:
        return scores.softmax(dim=-1)
    # The paper sets blocked scores to -inf. The most negative finite number gives the same
    # weights (exp underflows to exactly 0) and keeps a fully masked row finite instead of NaN.
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = scores.softmax(dim=-1)  # over the keys: each query distributes 1 over the keys
    has_any_key = mask.any(dim=-1, keepdim=True)
    return weights.masked_fill(~has_any_key, 0.0)


def attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
    dropout_p: float = 0.0,
    training: bool = False,
) -> Tensor:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V  (eq. 1).

    q: (..., Tq, d), k: (..., Tk, d), v: (..., Tk, dv); mask: bool, broadcastable to
    (..., Tq, Tk), True = may attend. Dropout (on the weights) only acts when `training`.
    Returns (..., Tq, dv): for each query, a weighted average of the value vectors.
    """
    return attention_with_weights(q, k, v, mask, dropout_p, training)[0]


def attention_with_weights(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
    dropout_p: float = 0.0,
    training: bool = False,
) -> tuple[Tensor, Tensor]:
    """Like `attention`, but also returns the weights (..., Tq, Tk), before dropout."""
    weights = attention_weights(q, k, mask)
    dropped = F.dropout(weights, dropout_p, training) if dropout_p > 0.0 else weights
    return dropped @ v, weights


# ---------------------------------------------------------------- masks


def causal_mask(T: int, device: torch.device | str | None = None) -> Tensor:
    """(T, T) bool: position i may attend to positions 0..i, never to the future."""
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: Tensor, T: int) -> Tensor:
    """(B, 1, T) bool from key lengths (B,): key j of sequence b is real iff j < lengths[b].

    The middle axis of size 1 broadcasts over the queries, so the result combines with a
    (Tq, T) causal mask by `&` and fits scores of shape (B, Tq, T).
    """
    positions = torch.arange(T, device=lengths.device)
    return (positions < lengths[:, None])[:, None, :]


# ---------------------------------------------------------------- multi-head attention


class MultiHeadAttention(nn.Module):
    """h heads of attention side by side, each on its own d/h-dimensional projection.

    Inputs are (B, T, embed_dim) (or (T, B, embed_dim) with batch_first=False). The weight
    layout matches torch.nn.MultiheadAttention, so `load_from_torch` and `to_torch` copy
    weights exactly.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = True,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout, self.batch_first = dropout, batch_first
        # W^Q, W^K, W^V for all heads at once: head i owns rows i*head_dim ... (i+1)*head_dim.
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)  # W^O

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        mask: Tensor | None = None,
        need_weights: bool = False,
        average_weights: bool = True,
    ) -> tuple[Tensor, Tensor | None]:
        """query (B, Tq, E), key and value (B, Tk, E); mask: bool, True = may attend,
        broadcastable to (B, Tq, Tk) with at least two axes (e.g. causal_mask (Tq, Tk) or
        padding_mask (B, 1, Tk)); the same mask applies to every head.

        Returns (output (B, Tq, E), weights or None). Weights are (B, Tq, Tk) averaged over
        heads, or (B, h, Tq, Tk) with average_weights=False.
        """
        if not self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        q = self._split_heads(self.q_proj(query))  # Q W_i^Q for every head i: (B, h, Tq, d_h)
        k = self._split_heads(self.k_proj(key))  # K W_i^K: (B, h, Tk, d_h)
        v = self._split_heads(self.v_proj(value))  # V W_i^V: (B, h, Tk, d_h)
        if mask is not None:
            mask = mask.unsqueeze(-3)  # a head axis: (..., Tq, Tk) -> (..., 1, Tq, Tk)
        heads, weights = attention_with_weights(q, k, v, mask, self.dropout, self.training)
        output = self.out_proj(self._merge_heads(heads))  # Concat(head_1..head_h) W^O
        if not self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        return output, weights.mean(dim=1) if average_weights else weights

    def _split_heads(self, x: Tensor) -> Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.head_dim).transpose(1, 2)

    def _merge_heads(self, x: Tensor) -> Tensor:
        B, _, T, _ = x.shape
        return x.transpose(1, 2).reshape(B, T, self.embed_dim)

    # ------------------------------------------------------------ torch.nn.MultiheadAttention

    @torch.no_grad()
    def load_from_torch(self, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy weights from torch's module: in_proj_weight stacks W^Q, W^K, W^V row-wise."""
        self._check_compatible(mha)
        for proj, w in zip(self._in_projs(), mha.in_proj_weight.chunk(3), strict=True):
            proj.weight.copy_(w)
        self.out_proj.weight.copy_(mha.out_proj.weight)
        if mha.in_proj_bias is not None:
            for proj, b in zip(self._in_projs(), mha.in_proj_bias.chunk(3), strict=True):
                proj.bias.copy_(b)
            self.out_proj.bias.copy_(mha.out_proj.bias)
        return self

    @torch.no_grad()
    def to_torch(self) -> nn.MultiheadAttention:
        """A torch.nn.MultiheadAttention with exactly these weights (and the same batch_first)."""
        bias = self.q_proj.bias is not None
        mha = nn.MultiheadAttention(
            self.embed_dim,
            self.num_heads,
            dropout=self.dropout,
            bias=bias,
            batch_first=self.batch_first,
        ).to(device=self.q_proj.weight.device, dtype=self.q_proj.weight.dtype)
        mha.in_proj_weight.copy_(torch.cat([p.weight for p in self._in_projs()]))
        mha.out_proj.weight.copy_(self.out_proj.weight)
        if bias:
            mha.in_proj_bias.copy_(torch.cat([p.bias for p in self._in_projs()]))
            mha.out_proj.bias.copy_(self.out_proj.bias)
        return mha

    def _in_projs(self) -> tuple[nn.Linear, nn.Linear, nn.Linear]:
        return self.q_proj, self.k_proj, self.v_proj

    def _check_compatible(self, mha: nn.MultiheadAttention) -> None:
        if mha.in_proj_weight is None:
            raise ValueError("torch module uses separate kdim/vdim projections; not supported")
        if (mha.embed_dim, mha.num_heads) != (self.embed_dim, self.num_heads):
            raise ValueError(
                f"shape mismatch: torch has embed_dim={mha.embed_dim}, num_heads={mha.num_heads}; "
                f"this module has embed_dim={self.embed_dim}, num_heads={self.num_heads}"
            )
        if (mha.in_proj_bias is None) != (self.q_proj.bias is None):
            raise ValueError("one module has biases and the other does not")
        if mha.bias_k is not None:
            raise ValueError("torch module uses add_bias_kv; not supported")
