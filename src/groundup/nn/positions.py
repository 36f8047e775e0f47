"""Positional encodings: sinusoidal, learned, rotary (RoPE) and linear biases (ALiBi).

Attention by itself is blind to order: permute the keys and values together and every output
stays the same. Four common ways to tell the model where each token sits:

- Sinusoidal (Vaswani et al. 2017, section 3.5): add a fixed table of sines and cosines of
  geometrically spaced frequencies to the token embeddings.
- Learned absolute (GPT-2, BERT): add a trained vector per position; nothing exists beyond
  the last trained position.
- RoPE (Su et al. 2021, "RoFormer"): rotate each pair of query and key features by an angle
  proportional to the position. A dot product of two rotated vectors depends only on the
  difference of their angles, so attention scores see relative positions only.
- ALiBi (Press, Smith & Lewis 2021, "Train Short, Test Long"): no embedding at all; add
  -m * (i - j) to the score of query i and key j, with one slope m per head.
- T5's relative bias (Raffel et al. 2020, after Shaw et al. 2018): a learned scalar per head
  and bucket of the offset j - i, added to the score; far offsets share log-spaced buckets.

The first two act on the input of the model, the last three inside every attention layer.
`PositionalSelfAttention` at the end wires each kind into one causal attention layer.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

PositionKind = Literal["none", "sinusoidal", "learned", "rope", "alibi", "t5"]
RopeLayout = Literal["half", "interleaved"]

# ---------------------------------------------------------------- sinusoidal (absolute, fixed)


def sinusoidal_table(length: int, dim: int, base: float = 10000.0, offset: int = 0) -> Tensor:
    """(length, dim) table for positions offset .. offset+length-1 (section 3.5):

        PE(pos, 2i)   = sin(pos / base^(2i / dim))
        PE(pos, 2i+1) = cos(pos / base^(2i / dim))

    Column pairs (2i, 2i+1) hold one frequency each, from one cycle per 2*pi positions down
    to one per 2*pi*base positions. It is computed, not stored, so any length works.
    """
    if dim % 2 != 0:
        raise ValueError(f"sinusoidal positions need an even dim, got {dim}")
    positions = torch.arange(offset, offset + length, dtype=torch.float64)
    inv_freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # (dim/2,)
    angles = positions[:, None] * inv_freq[None, :]  # (length, dim/2)
    table = torch.stack([angles.sin(), angles.cos()], dim=-1)  # (length, dim/2, 2)
    return table.flatten(-2).to(torch.get_default_dtype())  # interleave: sin, cos, sin, ...


# ---------------------------------------------------------------- learned (absolute, trained)


class LearnedPositions(nn.Module):
    """One trained vector per position 0 .. max_len-1: an nn.Embedding indexed by position."""

    def __init__(self, max_len: int, dim: int) -> None:
        super().__init__()
        self.max_len = max_len
        self.embedding = nn.Embedding(max_len, dim)
        # GPT-2 draws position vectors from N(0, 0.02^2), small next to the token embeddings.
        nn.init.normal_(self.embedding.weight, std=0.02)

    def forward(self, length: int, offset: int = 0) -> Tensor:
        """(length, dim) vectors for positions offset .. offset+length-1."""
        if offset < 0 or offset + length > self.max_len:
            raise ValueError(
                f"learned positions exist for 0..{self.max_len - 1}, but positions "
                f"{offset}..{offset + length - 1} were asked for: a learned table cannot "
                "extrapolate; train with a longer max_len or use sinusoidal, rope or alibi"
            )
        positions = torch.arange(offset, offset + length, device=self.embedding.weight.device)
        return self.embedding(positions)


# ---------------------------------------------------------------- RoPE (relative, rotation)


def rope_angles(
    positions: Tensor, dim: int, theta: float = 10000.0, dtype: torch.dtype = torch.float32
) -> Tensor:
    """Rotation angles (*positions.shape, dim/2): angle[p, i] = p * theta^(-2i / dim).

    Feature pair i turns by theta^(-2i/dim) radians per position: pair 0 fastest (one radian
    per step), the last pair slowest. `theta` is the "base"; Llama 3 raises it to 500000 to
    slow every pair down for long contexts. Angles are float32 like Hugging Face's (float64
    for float64 inputs); large positions lose digits in low precision.
    """
    if dim % 2 != 0:
        raise ValueError(f"RoPE rotates feature pairs, so it needs an even dim, got {dim}")
    inv_freq = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=dtype, device=positions.device) / dim)
    return positions.to(dtype)[..., None] * inv_freq


def rotate_half(x: Tensor) -> Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last axis: pair i is (x[i], x[i + d/2])."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def rotate_interleaved(x: Tensor) -> Tensor:
    """(a, b) -> (-b, a) on neighbouring features: pair i is (x[2i], x[2i + 1])."""
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([-b, a], dim=-1).flatten(-2)


def apply_rope(
    x: Tensor,
    positions: Tensor | None = None,
    offset: int = 0,
    theta: float = 10000.0,
    layout: RopeLayout = "half",
    rotary_dim: int | None = None,
) -> Tensor:
    """Rotate queries or keys x (..., T, d) by their positions.

    positions: (T,), or any shape that broadcasts with x.shape[:-1] (e.g. (B, 1, T) for
    per-sequence positions of x (B, h, T, d)); default offset .. offset+T-1, where `offset`
    is the number of tokens already in a KV cache. Each feature pair (u, v)
    at position p becomes (u cos a - v sin a, u sin a + v cos a) with a = p * theta^(-2i/r).

    layout "half": pair i = features (i, i + r/2), as in GPT-NeoX, Llama and Hugging Face.
    layout "interleaved": pair i = features (2i, 2i + 1), as in RoFormer, GPT-J and Meta's
    Llama code. The two give the same attention scores once the weights are permuted to
    match, but a checkpoint only works with the layout it was trained with.
    rotary_dim r (even, default d): rotate only the first r features and pass the rest
    through unchanged ("partial rotary", GPT-NeoX and Phi).
    """
    d = x.size(-1)
    r = d if rotary_dim is None else rotary_dim
    if not 0 < r <= d:
        raise ValueError(f"rotary_dim must be in 1..{d}, got {r}")
    if positions is None:
        positions = torch.arange(offset, offset + x.size(-2), device=x.device)
    precision = torch.float64 if x.dtype == torch.float64 else torch.float32
    angles = rope_angles(positions, r, theta, precision)  # (..., T, r/2)
    if layout == "half":
        angles, rotate = torch.cat([angles, angles], dim=-1), rotate_half
    elif layout == "interleaved":
        angles, rotate = angles.repeat_interleave(2, dim=-1), rotate_interleaved
    else:
        raise ValueError(f"layout must be 'half' or 'interleaved', got {layout!r}")
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x_rot, x_pass = x[..., :r], x[..., r:]
    # The 2x2 rotation written without matrices: [u, v] -> u*cos + (-v, u)*sin.
    rotated = x_rot * cos + rotate(x_rot) * sin
    return torch.cat([rotated, x_pass], dim=-1)


# ---------------------------------------------------------------- ALiBi (relative, bias)


def alibi_slopes(num_heads: int) -> Tensor:
    """(num_heads,) slopes m_h, the geometric sequence of the paper (section 3).

    For n heads, n a power of two: m_h = 2^(-8h/n), h = 1..n (8 heads: 1/2, 1/4, ..., 1/256).
    Otherwise, with n' the largest power of two below n: the n' slopes for n', then the odd
    positions (h = 1, 3, 5, ...) of the 2n' slopes for 2n', until there are n. This keeps the
    slopes of the nearest power of two and fills in between them.
    """
    if num_heads < 1:
        raise ValueError(f"num_heads must be positive, got {num_heads}")

    def power_of_two_slopes(n: int) -> Tensor:
        h = torch.arange(1, n + 1, dtype=torch.float64)
        return 2.0 ** (-8.0 * h / n)

    closest = 2 ** math.floor(math.log2(num_heads))
    slopes = power_of_two_slopes(closest)
    if closest < num_heads:
        extra = power_of_two_slopes(2 * closest)[0::2][: num_heads - closest]
        slopes = torch.cat([slopes, extra])
    return slopes.to(torch.get_default_dtype())


def alibi_bias(num_heads: int, num_queries: int, num_keys: int | None = None) -> Tensor:
    """(num_heads, Tq, Tk) bias -m_h * (i - j) for query i and key j, added to the scores.

    Queries are the last Tq of the Tk positions (Tk = Tq without a cache), so query i sits at
    position Tk - Tq + i. The bias is 0 on the diagonal and falls linearly into the past;
    future keys (j > i) get a positive value and must be blocked by a causal mask.
    """
    num_keys = num_queries if num_keys is None else num_keys
    query_positions = torch.arange(num_keys - num_queries, num_keys, dtype=torch.float64)
    key_positions = torch.arange(num_keys, dtype=torch.float64)
    distance = query_positions[:, None] - key_positions[None, :]  # (Tq, Tk): i - j
    bias = -alibi_slopes(num_heads).double()[:, None, None] * distance
    return bias.to(torch.get_default_dtype())


# ---------------------------------------------------------------- T5 bias (relative, learned)


def relative_position_bucket(
    relative_position: Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> Tensor:
    """Bucket in [0, num_buckets) of each offset key - query, as in T5 (Mesh TensorFlow).

    Per direction, half of the buckets hold one small distance each (0, 1, 2, ...); the other
    half cover distances up to max_distance in logarithmically wider steps, and every distance
    beyond shares the last bucket, so any length maps to a trained bucket. A decoder
    (bidirectional=False) sees only the past: offsets > 0 fall into bucket 0 with the diagonal.
    """
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).long() * num_buckets  # keys ahead: upper half
        distance = relative_position.abs()
    else:
        distance = -torch.clamp(relative_position, max=0)
    max_exact = num_buckets // 2
    # max_exact -> bucket max_exact, max_distance -> num_buckets; the same float steps as T5's
    # code, so the floor lands in the same bucket. clamp(min=1): log(0) is never selected anyway.
    scaled = torch.log(distance.clamp(min=1).float() / max_exact) / math.log(
        max_distance / max_exact
    )
    large = (max_exact + (scaled * (num_buckets - max_exact)).long()).clamp(max=num_buckets - 1)
    return buckets + torch.where(distance < max_exact, distance, large)


class RelativePositionBias(nn.Module):
    """T5's learned bias: one scalar per head and offset bucket, added to the attention scores."""

    def __init__(
        self,
        num_heads: int,
        num_buckets: int = 32,
        max_distance: int = 128,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.num_buckets, self.max_distance = num_buckets, max_distance
        self.bidirectional = bidirectional
        self.embedding = nn.Embedding(num_buckets, num_heads)
        nn.init.normal_(self.embedding.weight, std=0.02)  # start close to no bias at all

    def forward(self, num_queries: int, num_keys: int | None = None) -> Tensor:
        """(num_heads, Tq, Tk); queries are the last Tq of the Tk positions, as in alibi_bias."""
        num_keys = num_queries if num_keys is None else num_keys
        device = self.embedding.weight.device
        query_positions = torch.arange(num_keys - num_queries, num_keys, device=device)
        key_positions = torch.arange(num_keys, device=device)
        offset = key_positions[None, :] - query_positions[:, None]  # (Tq, Tk): j - i
        bucket = relative_position_bucket(
            offset, self.bidirectional, self.num_buckets, self.max_distance
        )
        return self.embedding(bucket).permute(2, 0, 1)


# ---------------------------------------------------------------- one attention call, any kind


def causal_mask(num_queries: int, num_keys: int, device: torch.device | None = None) -> Tensor:
    """(Tq, Tk) bool, True = may attend: query i (at position Tk - Tq + i) sees keys <= it."""
    query_positions = torch.arange(num_keys - num_queries, num_keys, device=device)
    return torch.arange(num_keys, device=device)[None, :] <= query_positions[:, None]


def biased_attention(
    q: Tensor, k: Tensor, v: Tensor, bias: Tensor | None = None, mask: Tensor | None = None
) -> Tensor:
    """softmax(q k^T / sqrt(d) + bias) v with masked keys removed (mask: True = may attend).

    q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv); bias and mask broadcast to (..., Tq, Tk).
    Every query must see at least one key (true for causal masks).
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if bias is not None:
        scores = scores + bias
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(dim=-1) @ v


class PositionalSelfAttention(nn.Module):
    """Causal multi-head self-attention with one kind of position information.

    kind "sinusoidal" / "learned": position vectors are added to the input x before the
    projections (in a one-layer model that is the same as adding them to the token
    embeddings; in a stack, add them once at the bottom and use kind "none" above).
    kind "rope": queries and keys are rotated after the projections.
    kind "alibi": the linear bias is added to the scores.
    kind "t5": T5's learned bucketed bias is added to the scores; offsets of t5_max_distance
    and more share the last bucket, which is trained only if the training sequences reach it.
    kind "none": no positions at all (the causal mask still leaks some order).

    Only "learned" has a length limit (max_len); the others run on any length, which is what
    an extrapolation experiment (train short, test long) compares.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        kind: PositionKind,
        max_len: int = 512,
        theta: float = 10000.0,
        rope_layout: RopeLayout = "half",
        t5_max_distance: int = 128,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        if kind not in ("none", "sinusoidal", "learned", "rope", "alibi", "t5"):
            raise ValueError(f"unknown position kind {kind!r}")
        self.embed_dim, self.num_heads, self.kind = embed_dim, num_heads, kind
        self.head_dim = embed_dim // num_heads
        self.theta, self.rope_layout = theta, rope_layout
        self.learned = LearnedPositions(max_len, embed_dim) if kind == "learned" else None
        self.relative = (
            RelativePositionBias(num_heads, max_distance=t5_max_distance) if kind == "t5" else None
        )
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)
        self.out = nn.Linear(embed_dim, embed_dim)

    def forward(self, x: Tensor) -> Tensor:
        """x (B, T, E) -> (B, T, E); token t attends to tokens 0..t."""
        B, T, E = x.shape
        if self.kind == "sinusoidal":
            x = x + sinusoidal_table(T, E).to(x)
        elif self.learned is not None:
            x = x + self.learned(T)
        q, k, v = self.qkv(x).view(B, T, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        bias = None
        if self.kind == "rope":
            q = apply_rope(q, theta=self.theta, layout=self.rope_layout)
            k = apply_rope(k, theta=self.theta, layout=self.rope_layout)
        elif self.kind == "alibi":
            bias = alibi_bias(self.num_heads, T).to(x)  # (h, T, T), broadcasts over the batch
        elif self.relative is not None:
            bias = self.relative(T).to(x)
        heads = biased_attention(q, k, v, bias, causal_mask(T, T, x.device))  # (B, h, T, d_h)
        return self.out(heads.transpose(1, 2).reshape(B, T, E))
