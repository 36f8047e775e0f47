"""Planted bugs for the `efficient_attention` exercise, each a full learner file that one check
must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import math

import torch
import torch.nn.functional as F


def sliding_window_mask(T, window):
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    return (j <= i) & (j > i - window)


def sliding_window_attention(q, k, v, window):
    T, d = q.size(-2), q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    scores = scores.masked_fill(~sliding_window_mask(T, window), float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v


def causal_linear_attention(q, k, v):
    phi_q = F.elu(q) + 1
    phi_k = F.elu(k) + 1
    state = torch.cumsum(phi_k[..., :, None] * v[..., None, :], dim=-3)
    normaliser = torch.cumsum(phi_k, dim=-2)
    numerator = (phi_q[..., None, :] @ state).squeeze(-2)
    return numerator / (phi_q * normaliser).sum(dim=-1, keepdim=True)
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "window_one_too_wide",
        catches="mask_band",
        source=_plant("(j > i - window)", "(j >= i - window)"),
        note="window + 1 keys: the query and `window` keys before it",
    ),
    Mutant(
        "window_not_causal",
        catches="window_locality",
        source=_plant("(j <= i) & (j > i - window)", "(i - j).abs() < window"),
        note="a symmetric band: queries see window - 1 keys ahead of them",
    ),
    Mutant(
        "window_no_scaling",
        catches="window_matches_sdpa",
        source=_plant(" / math.sqrt(d)", ""),
        note="forgets 1 / sqrt(d): the softmax is too sharp",
    ),
    Mutant(
        "window_mask_transposed",
        catches="window_matches_sdpa",
        source=_plant("~sliding_window_mask(T, window)", "~sliding_window_mask(T, window).T"),
        note="reads the mask as (key, query): the band points into the future",
    ),
    Mutant(
        "window_small_penalty",
        catches="window_locality",
        source=_plant('float("-inf")', "-20.0"),
        note="keys outside the window keep a weight of about exp(-20): tiny, but not zero",
    ),
    Mutant(
        "window_weights_detached",
        catches="window_gradients",
        source=_plant("weights @ v", "weights.detach() @ v"),
        note="no gradient reaches q and k",
    ),
    Mutant(
        "linear_plain_elu",
        catches="linear_matches_kernel",
        source=_plant("phi_q = F.elu(q) + 1", "phi_q = F.elu(q)"),
        note="forgets the + 1: features can be negative and the normaliser can cross zero",
    ),
    Mutant(
        "linear_total_normaliser",
        catches="linear_matches_kernel",
        source=_plant(
            "normaliser = torch.cumsum(phi_k, dim=-2)",
            "normaliser = phi_k.sum(dim=-2, keepdim=True)",
        ),
        note="divides by the sum over all keys, future ones included",
    ),
    Mutant(
        "linear_not_causal",
        catches="linear_causal",
        source=_plant(
            "state = torch.cumsum(phi_k[..., :, None] * v[..., None, :], dim=-3)\n"
            "    normaliser = torch.cumsum(phi_k, dim=-2)",
            "state = (phi_k[..., :, None] * v[..., None, :]).sum(dim=-3, keepdim=True)\n"
            "    normaliser = phi_k.sum(dim=-2, keepdim=True)",
        ),
        note="total sums instead of prefix sums: every output sees the whole sequence",
    ),
    Mutant(
        "linear_keys_detached",
        catches="linear_gradients",
        source=_plant("phi_k = F.elu(k) + 1", "phi_k = (F.elu(k) + 1).detach()"),
        note="right values, but no gradient reaches k",
    ),
]
