"""Planted bugs for the `positional_encodings` exercise, each a full learner file that one
check must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import math

import torch


def sinusoidal_table(length, dim, base=10000.0):
    positions = torch.arange(length, dtype=torch.float64)[:, None]
    frequencies = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    angles = positions * frequencies
    table = torch.zeros(length, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angles)
    table[:, 1::2] = torch.cos(angles)
    return table.float()


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x, positions, theta=10000.0):
    d = x.size(-1)
    inv_freq = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = positions.to(torch.float64)[:, None] * inv_freq[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    return x * cos + rotate_half(x) * sin


def alibi_slopes(num_heads):
    def slopes_for(n):
        return [2.0 ** (-8.0 * h / n) for h in range(1, n + 1)]

    p = 2 ** math.floor(math.log2(num_heads))
    slopes = slopes_for(p)
    if p < num_heads:
        slopes += slopes_for(2 * p)[0::2][: num_heads - p]
    return torch.tensor(slopes)


def alibi_bias(num_heads, length):
    i = torch.arange(length)[:, None]
    j = torch.arange(length)[None, :]
    distance = (i - j).float()
    return -alibi_slopes(num_heads)[:, None, None] * distance
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "sin_and_cos_swapped",
        catches="sinusoidal_first_rows",
        source=_plant("table[:, 0::2] = torch.sin", "table[:, 0::2] = torch.cos").replace(
            "table[:, 1::2] = torch.cos", "table[:, 1::2] = torch.sin"
        ),
        note="cosines in the even columns and sines in the odd ones",
    ),
    Mutant(
        "sines_then_cosines",
        catches="sinusoidal_first_rows",
        source=_plant(
            "    table = torch.zeros(length, dim, dtype=torch.float64)\n"
            "    table[:, 0::2] = torch.sin(angles)\n"
            "    table[:, 1::2] = torch.cos(angles)\n",
            "    table = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)\n",
        ),
        note="all sines first, then all cosines (the layout of some codebases, not the paper's)",
    ),
    Mutant(
        "frequency_exponent_i_over_dim",
        catches="sinusoidal_matches_formula",
        source=_plant(
            "base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)",
            "base ** (-torch.arange(dim // 2, dtype=torch.float64) / dim)",
        ),
        note="exponent i/dim instead of 2i/dim: frequencies fall half as fast",
    ),
    Mutant(
        "base_ignored",
        catches="sinusoidal_matches_formula",
        source=_plant("frequencies = base **", "frequencies = 10000.0 **"),
        note="always uses 10000, whatever base is passed",
    ),
    Mutant(
        "rope_interleaved_layout",
        catches="rope_matches_llama_layout",
        source=_plant(
            "    x1, x2 = x.chunk(2, dim=-1)\n    return torch.cat([-x2, x1], dim=-1)\n",
            "    x1, x2 = x[..., 0::2], x[..., 1::2]\n"
            "    return torch.stack([-x2, x1], dim=-1).flatten(-2)\n",
        ).replace("torch.cat([angles, angles], dim=-1)", "angles.repeat_interleave(2, dim=-1)"),
        note="the interleaved (GPT-J, Meta) layout: a valid RoPE, but not Llama's in HF",
    ),
    Mutant(
        "rope_theta_ignored",
        catches="rope_matches_llama_layout",
        source=_plant("1.0 / theta **", "1.0 / 10000.0 **"),
        note="always uses theta 10000",
    ),
    Mutant(
        "rope_positions_ignored",
        catches="rope_matches_llama_layout",
        source=_plant(
            "positions.to(torch.float64)[:, None]",
            "torch.arange(x.size(-2), dtype=torch.float64)[:, None]",
        ),
        note="counts positions from 0 instead of using the ones given (breaks a KV cache)",
    ),
    Mutant(
        "rotate_half_without_minus",
        catches="rope_preserves_norms",
        source=_plant("torch.cat([-x2, x1], dim=-1)", "torch.cat([x2, x1], dim=-1)"),
        note="(x2, x1) instead of (-x2, x1): a reflection mix, not a rotation",
    ),
    Mutant(
        "rope_angle_offset",
        catches="rope_relative_scores",
        source=_plant(
            "positions.to(torch.float64)[:, None] * inv_freq[None, :]",
            "(positions.to(torch.float64)[:, None] ** 2) * inv_freq[None, :] / 10",
        ),
        note="angle grows with the square of the position: scores no longer relative",
    ),
    Mutant(
        "rope_through_numpy",
        catches="rope_gradients",
        source=_plant(
            "    return x * cos + rotate_half(x) * sin\n",
            "    out = x.detach().numpy() * cos.numpy() + rotate_half(x).detach().numpy() * "
            "sin.numpy()\n    return torch.from_numpy(out)\n",
        ),
        note="computes in numpy: right values, no gradient",
    ),
    Mutant(
        "slopes_start_at_zero",
        catches="alibi_slopes_power_of_two",
        source=_plant("for h in range(1, n + 1)", "for h in range(n)"),
        note="h = 0 .. n-1: the first head gets slope 1 and the last one is missing",
    ),
    Mutant(
        "slopes_formula_for_any_count",
        catches="alibi_slopes_other_counts",
        source=_plant(
            "    p = 2 ** math.floor(math.log2(num_heads))\n"
            "    slopes = slopes_for(p)\n"
            "    if p < num_heads:\n"
            "        slopes += slopes_for(2 * p)[0::2][: num_heads - p]\n",
            "    slopes = slopes_for(num_heads)\n",
        ),
        note="2^(-8h/n) for every n, not the paper's rule for other head counts",
    ),
    Mutant(
        "slopes_odd_entries_from_second",
        catches="alibi_slopes_other_counts",
        source=_plant("slopes_for(2 * p)[0::2]", "slopes_for(2 * p)[1::2]"),
        note="takes h = 2, 4, 6 of the 2p-head sequence, which repeats the first p slopes",
    ),
    Mutant(
        "bias_sign_flipped",
        catches="alibi_bias",
        source=_plant("return -alibi_slopes", "return alibi_slopes"),
        note="+m (i - j): rewards far-away keys instead of penalising them",
    ),
    Mutant(
        "bias_slopes_reversed",
        catches="alibi_attention",
        source=_plant(
            "return -alibi_slopes(num_heads)[:, None, None]",
            "return -alibi_slopes(num_heads).flip(0)[:, None, None]",
        ),
        note="heads get each other's slopes",
    ),
]
