"""Attention that avoids the T x T score matrix: sliding-window, block-sparse and linear.

Full attention (nn/attention.py) builds a (T, T) matrix of scores, so its memory grows as T^2.
Three ways around that, each computing exactly what a masked or re-weighted full attention
would compute, but without materialising the full matrix:

- sliding_window_attention: query i sees only keys within `window` positions (Longformer,
  Mistral). Queries are cut into chunks; each chunk meets only the slab of keys its window can
  reach, so scores take O(T * window) memory.
- block_sparse_attention: the sequence is cut into blocks and a (n_blocks, n_blocks) boolean
  layout says which query block sees which key block (Child et al. 2019, "Generating Long
  Sequences with Sparse Transformers"; BigBird). Only the active blocks are gathered.
- linear_attention: replace exp(q.k) by a kernel phi(q).phi(k) (Katharopoulos et al. 2020,
  "Transformers are RNNs"). Then sum_j phi(k_j) v_j^T is computed once (or as a prefix sum
  for causal attention) and memory is linear in T. With positive random features
  (Choromanski et al. 2021, "Performer") phi(q).phi(k) is an unbiased estimate of exp(q.k),
  so linear attention approximates softmax attention.

Mask convention as in nn/attention.py: True = "this query may attend to this key". Inputs are
self-attention shaped: q, k: (..., T, d), v: (..., T, dv).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

# ---------------------------------------------------------------- shared masked softmax


def _masked_softmax_average(scores: Tensor, allowed: Tensor, values: Tensor) -> Tensor:
    """softmax over the allowed keys of `scores`, then the weighted average of `values`.

    Same rule as nn/attention.py: blocked scores become the most negative finite number, and a
    query with no allowed key gets weights (and output) zero instead of NaN.
    """
    scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    weights = scores.softmax(dim=-1)
    weights = weights.masked_fill(~allowed.any(dim=-1, keepdim=True), 0.0)
    return weights @ values


# ---------------------------------------------------------------- sliding-window attention


def sliding_window_mask(T: int, window: int, causal: bool = True) -> Tensor:
    """(T, T) bool band: causal, key j is seen by query i iff i - window < j <= i (window keys);
    bidirectional, iff |i - j| < window (2 * window - 1 keys). The dense form, for checking."""
    offset = torch.arange(T)[None, :] - torch.arange(T)[:, None]  # j - i
    after = 0 if causal else window - 1
    return (offset > -window) & (offset <= after)


def sliding_window_attention(
    q: Tensor, k: Tensor, v: Tensor, window: int, causal: bool = True, chunk: int | None = None
) -> Tensor:
    """Attention restricted to the band of `sliding_window_mask`, in O(T * window) memory.

    Queries are split into chunks of `chunk` positions (default: `window`). The keys a chunk
    can reach form a slab of chunk + before + after consecutive positions; the slabs of all
    chunks are overlapping views of one padded key tensor (`unfold`), so the scores are
    (..., n_chunks, chunk, slab) instead of (..., T, T).
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    T, d = q.size(-2), q.size(-1)
    c = chunk or window
    before, after = window - 1, 0 if causal else window - 1
    n_chunks = math.ceil(T / c)
    pad_end = n_chunks * c - T  # the last chunk is filled up with dummy positions
    slab = c + before + after

    q_chunks = F.pad(q, (0, 0, 0, pad_end)).unflatten(-2, (n_chunks, c))  # (..., n, c, d)
    # Pad keys so that chunk b's slab starts at position b * c - before.
    k_slabs = F.pad(k, (0, 0, before, pad_end + after)).unfold(-2, slab, c).transpose(-1, -2)
    v_slabs = F.pad(v, (0, 0, before, pad_end + after)).unfold(-2, slab, c).transpose(-1, -2)

    # Position of query r of chunk b: b*c + r. Position of slab key l: b*c - before + l.
    chunk_start = torch.arange(n_chunks, device=q.device)[:, None, None] * c
    key_pos = chunk_start - before + torch.arange(slab, device=q.device)  # (n, 1, slab)
    query_pos = chunk_start + torch.arange(c, device=q.device)[:, None]  # (n, c, 1)
    offset = key_pos - query_pos
    allowed = (offset >= -before) & (offset <= after) & (key_pos >= 0) & (key_pos < T)

    scores = q_chunks @ k_slabs.transpose(-1, -2) / math.sqrt(d)  # (..., n, c, slab)
    out = _masked_softmax_average(scores, allowed, v_slabs)  # (..., n, c, dv)
    return out.flatten(-3, -2)[..., :T, :]


# ---------------------------------------------------------------- block-sparse attention


def local_global_layout(
    n_blocks: int, local: int = 1, global_blocks: tuple[int, ...] = (0,), causal: bool = True
) -> Tensor:
    """(n_blocks, n_blocks) bool: each query block sees its `local` nearest key blocks (itself
    included; behind it only if causal) and every block in `global_blocks`, and the global
    blocks see every block (BigBird's local + global pattern). Causal drops blocks ahead."""
    offset = torch.arange(n_blocks)[None, :] - torch.arange(n_blocks)[:, None]
    layout = (offset > -local) & (offset <= (0 if causal else local - 1))
    is_global = torch.zeros(n_blocks, dtype=torch.bool)
    is_global[list(global_blocks)] = True
    layout = layout | is_global[None, :] | is_global[:, None]
    return layout.tril() if causal else layout


def fixed_layout(n_blocks: int, stride: int, causal: bool = True) -> Tensor:
    """Sparse Transformer's "fixed" pattern on blocks (Child et al. 2019, section 4.2 with c = 1
    block): a block sees the blocks of its own group of `stride` blocks, and the last block of
    every group, which acts as that group's summary for everything after it."""
    index = torch.arange(n_blocks)
    same_group = (index // stride)[:, None] == (index // stride)[None, :]
    is_summary = index % stride == stride - 1
    layout = same_group | is_summary[None, :]
    return layout.tril() if causal else layout


def block_sparse_mask(T: int, block: int, layout: Tensor, causal: bool = True) -> Tensor:
    """(T, T) bool: the layout blown up to positions (plus the causal mask), for checking."""
    ones = torch.ones(block, block, dtype=torch.bool)
    dense = torch.kron(layout.int(), ones.int()).bool()[:T, :T]
    return dense & torch.ones(T, T, dtype=torch.bool).tril() if causal else dense


def block_sparse_attention(
    q: Tensor, k: Tensor, v: Tensor, block: int, layout: Tensor, causal: bool = True
) -> Tensor:
    """Attention over the key blocks that `layout` (n_blocks, n_blocks) marks active.

    Each query block gathers its active key blocks (padded to the busiest row's count, the
    padding masked out), so scores are (..., n_blocks, block, max_active * block): memory
    O(T * max_active * block) instead of O(T^2). `causal` also masks the future inside blocks.
    """
    T, d = q.size(-2), q.size(-1)
    n_blocks = math.ceil(T / block)
    if layout.shape != (n_blocks, n_blocks):
        raise ValueError(f"layout must be ({n_blocks}, {n_blocks}) for T={T}, block={block}")
    pad_end = n_blocks * block - T
    q_blocks, k_blocks, v_blocks = (
        F.pad(x, (0, 0, 0, pad_end)).unflatten(-2, (n_blocks, block)) for x in (q, k, v)
    )

    # For each query block, the indices of its active key blocks, padded with block 0.
    max_active = int(layout.sum(dim=1).max())
    order = layout.int().argsort(dim=1, descending=True, stable=True)[:, :max_active]
    is_active = layout.gather(1, order)  # (n_blocks, max_active)
    keys = k_blocks[..., order, :, :].flatten(-3, -2)  # (..., n_blocks, max_active*block, d)
    values = v_blocks[..., order, :, :].flatten(-3, -2)

    query_pos = torch.arange(n_blocks)[:, None] * block + torch.arange(block)  # (n, block)
    key_pos = (order[..., None] * block + torch.arange(block)).flatten(-2)  # (n, active*block)
    allowed = is_active.repeat_interleave(block, dim=1)[:, None, :] & (key_pos < T)[:, None, :]
    if causal:
        allowed = allowed & (key_pos[:, None, :] <= query_pos[:, :, None])
    allowed = allowed.to(q.device)

    scores = q_blocks @ keys.transpose(-1, -2) / math.sqrt(d)  # (..., n, block, active*block)
    out = _masked_softmax_average(scores, allowed, values)
    return out.flatten(-3, -2)[..., :T, :]


# ---------------------------------------------------------------- linear attention


def elu_feature_map(x: Tensor) -> Tensor:
    """phi(x) = elu(x) + 1 (Katharopoulos et al. 2020, eq. 7): positive, so the normaliser
    sum_j phi(q).phi(k_j) does not vanish. Written as x + 1 for x > 0 and exp(x) otherwise (the
    same function): elu(x) + 1 computed literally cancels to exactly 0 below x = -37 in
    float64 (-17 in float32), and a row of zeros would divide 0 by 0."""
    # exp of the clamped input: the unused branch of `where` must not overflow, or its
    # infinite gradient times zero would turn the backward pass into NaN.
    return torch.where(x > 0, x + 1.0, torch.exp(x.clamp(max=0.0)))


def linear_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    causal: bool = False,
    feature_map: Callable[[Tensor], Tensor] = elu_feature_map,
    chunk: int | None = None,
) -> Tensor:
    """out_i = phi(q_i)^T S_i / phi(q_i)^T z_i with S = sum_j phi(k_j) v_j^T, z = sum_j phi(k_j)
    (sums over all j, or j <= i when causal). Memory O(T): no (T, T) matrix. The causal prefix
    sums hold one (d_phi, dv) state per position; with `chunk`, causal attention keeps states
    only at chunk boundaries instead (see chunked_causal_linear_attention)."""
    if causal and chunk is not None:
        return chunked_causal_linear_attention(q, k, v, chunk, feature_map)
    phi_q, phi_k = feature_map(q), feature_map(k)  # (..., T, d_phi)
    if causal:
        # Prefix sums over positions turn the sums over j <= i into one cumsum.
        state = torch.cumsum(phi_k[..., :, None] * v[..., None, :], dim=-3)  # (..., T, d_phi, dv)
        normaliser = torch.cumsum(phi_k, dim=-2)  # (..., T, d_phi)
        numerator = (phi_q[..., None, :] @ state).squeeze(-2)  # (..., T, dv)
    else:
        state = phi_k.transpose(-1, -2) @ v  # (..., d_phi, dv), computed once for all queries
        normaliser = phi_k.sum(dim=-2, keepdim=True)  # (..., 1, d_phi)
        numerator = phi_q @ state
    return numerator / (phi_q * normaliser).sum(dim=-1, keepdim=True)


def chunked_causal_linear_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    chunk: int,
    feature_map: Callable[[Tensor], Tensor] = elu_feature_map,
) -> Tensor:
    """Causal linear attention in chunks: inside a chunk the (chunk, chunk) kernel matrix with a
    causal mask, from earlier chunks one summed state. Memory O(T * chunk + T / chunk * d * dv)
    instead of the O(T * d * dv) of one state per position."""
    T = q.size(-2)
    n_chunks = math.ceil(T / chunk)
    pad_end = n_chunks * chunk - T  # padded keys sit after every real query: causally unseen
    q, k, v = (F.pad(x, (0, 0, 0, pad_end)).unflatten(-2, (n_chunks, chunk)) for x in (q, k, v))
    # The feature map goes on after padding, so padded queries get a positive normaliser too:
    # a 0 / 0 there would be dropped from the output but still send NaN into the gradients.
    phi_q, phi_k = feature_map(q), feature_map(k)  # (..., n, chunk, d_phi)

    # Sum over all earlier chunks: the inclusive prefix sum shifted by one chunk.
    chunk_state = phi_k.transpose(-1, -2) @ v  # (..., n, d_phi, dv)
    earlier_state = F.pad(chunk_state.cumsum(dim=-3), (0, 0, 0, 0, 1, 0))[..., :-1, :, :]
    earlier_z = F.pad(phi_k.sum(dim=-2).cumsum(dim=-2), (0, 0, 1, 0))[..., :-1, :]

    within = phi_q @ phi_k.transpose(-1, -2)  # (..., n, chunk, chunk)
    within = within * torch.ones(chunk, chunk, dtype=torch.bool, device=q.device).tril()
    numerator = within @ v + phi_q @ earlier_state
    denominator = within.sum(dim=-1, keepdim=True) + phi_q @ earlier_z[..., :, None]
    return (numerator / denominator).flatten(-3, -2)[..., :T, :]


def quadratic_kernel_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    causal: bool = False,
    feature_map: Callable[[Tensor], Tensor] = elu_feature_map,
) -> Tensor:
    """The same kernel attention written densely, (T, T) similarities phi(Q) phi(K)^T, each
    row normalised to sum 1. O(T^2) memory: the reference linear_attention must equal."""
    similarity = feature_map(q) @ feature_map(k).transpose(-1, -2)  # (..., T, T)
    if causal:
        similarity = similarity * torch.ones_like(similarity, dtype=torch.bool).tril()
    return similarity / similarity.sum(dim=-1, keepdim=True) @ v


def random_features(d: int, n_features: int, generator: torch.Generator | None = None) -> Tensor:
    """(n_features, d) Gaussian projection for performer_feature_map (iid rows; the paper's
    orthogonal rows lower the variance but are not needed for unbiasedness)."""
    return torch.randn(n_features, d, generator=generator, dtype=torch.float64)


def performer_feature_map(projection: Tensor) -> Callable[[Tensor], Tensor]:
    """FAVOR+ positive random features: phi(x) = exp(w^T x - |x|^2 / 2) / sqrt(m) for the m rows
    w of `projection`, applied to x / d^(1/4). Then E[phi(q).phi(k)] = exp(q.k / sqrt(d)), the
    unnormalised softmax weight, so linear_attention approximates softmax attention."""
    m, d = projection.shape

    def phi(x: Tensor) -> Tensor:
        x = x / d**0.25  # splits the 1/sqrt(d) temperature between q and k
        w = projection.to(x.dtype)
        return torch.exp(x @ w.T - (x * x).sum(dim=-1, keepdim=True) / 2) / math.sqrt(m)

    return phi


# ---------------------------------------------------------------- cost measurement


def largest_intermediate_elements(
    method: str, T: int, d: int, window: int = 64, block: int = 64, max_active: int = 3
) -> int:
    """Elements of the biggest tensor each method builds per (batch, head), counted from the
    shapes above (torch's CPU allocations are not visible to tracemalloc, so this is counted
    analytically, not measured). Linear attention is the causal form (its largest tensor).
    Only the forward pass is counted; autograd keeps tensors of the same orders of size."""
    if method == "full":
        return T * T
    if method == "sliding":
        n_chunks = math.ceil(T / window)
        return n_chunks * window * (2 * window - 1)  # causal window, chunk = window
    if method == "block_sparse":
        return math.ceil(T / block) * block * max_active * block
    if method == "linear":
        return T * d * d  # one (d, d) state per position
    if method == "linear_chunked":  # chunk = window
        n_chunks = math.ceil(T / window)
        return max(n_chunks * window * window, (n_chunks + 1) * d * d)
    raise ValueError(f"unknown method {method!r}")


def measure_attention_cost(
    seq_lens: list[int], d: int = 32, window: int = 64, repeats: int = 1, seed: int = 0
) -> list[dict[str, float | int | str]]:
    """For each T and method (full, sliding, block_sparse, linear, linear_chunked; all causal,
    window = block = chunk = `window`): wall seconds of
    one forward + backward (best of `repeats`) and the analytic bytes of the largest tensor.

    Returns rows {"method", "T", "seconds", "peak_bytes"}, ready for a plot against T.
    """
    from groundup.nn.attention import attention, causal_mask

    g = torch.Generator().manual_seed(seed)
    rows: list[dict[str, float | int | str]] = []
    for T in seq_lens:
        q, k, v = (torch.randn(1, T, d, generator=g) for _ in range(3))
        n_blocks = math.ceil(T / window)
        layout = local_global_layout(n_blocks, local=2, global_blocks=(0,))
        methods: dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {
            "full": lambda q, k, v: attention(q, k, v, causal_mask(q.size(-2))),
            "sliding": lambda q, k, v: sliding_window_attention(q, k, v, window),
            "block_sparse": lambda q, k, v, layout=layout: block_sparse_attention(
                q, k, v, window, layout
            ),
            "linear": lambda q, k, v: linear_attention(q, k, v, causal=True),
            "linear_chunked": lambda q, k, v: linear_attention(q, k, v, True, chunk=window),
        }
        for name, fn in methods.items():
            best = math.inf
            for _ in range(repeats):
                inputs = [x.clone().requires_grad_() for x in (q, k, v)]
                start = time.perf_counter()
                fn(*inputs).sum().backward()
                best = min(best, time.perf_counter() - start)
            elements = largest_intermediate_elements(
                name, T, d, window, window, int(layout.sum(dim=1).max())
            )
            bytes_per = q.element_size()
            rows.append(
                {"method": name, "T": T, "seconds": best, "peak_bytes": elements * bytes_per}
            )
    return rows
