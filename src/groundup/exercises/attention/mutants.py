"""Planted bugs for the `attention` exercise, each a full learner file that one check must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import math

import torch


def attention(q, k, v, mask=None):
    d = q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "no_scaling",
        catches="matches_sdpa",
        source=_plant(" / math.sqrt(d)", ""),
        note="forgets the 1/sqrt(d): the softmax gets too sharp",
    ),
    Mutant(
        "scaled_by_d",
        catches="matches_sdpa",
        source=_plant("math.sqrt(d)", "d"),
        note="divides by d instead of sqrt(d)",
    ),
    Mutant(
        "scaled_by_value_width",
        catches="matches_sdpa",
        source=_plant("d = q.size(-1)", "d = v.size(-1)"),
        note="scales by sqrt(dv), the value width, instead of sqrt(d)",
    ),
    Mutant(
        "softmax_over_queries",
        catches="matches_sdpa",
        source=_plant("dim=-1)", "dim=-2)"),
        note="normalises over the queries instead of the keys",
    ),
    Mutant(
        "queries_and_keys_swapped",
        catches="shapes",
        source=_plant("q @ k.transpose(-2, -1)", "k @ q.transpose(-2, -1)"),
        note="scores are (Tk, Tq): breaks as soon as Tq != Tk",
    ),
    Mutant(
        "mask_ignored",
        catches="padding_mask",
        source=_plant("if mask is not None:", "if False:"),
    ),
    Mutant(
        "mask_after_softmax",
        catches="padding_mask",
        source=_plant(
            """    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
""",
            """    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
""",
        ),
        note="zeroes blocked weights after the softmax: rows no longer sum to 1",
    ),
    Mutant(
        "mask_inverted",
        catches="padding_mask",
        source=_plant("masked_fill(~mask,", "masked_fill(mask,"),
        note="blocks exactly the keys that are allowed",
    ),
    Mutant(
        "mask_fills_zero",
        catches="padding_mask",
        source=_plant('float("-inf")', "0.0"),
        note="a blocked score of 0 still gets weight exp(0) = 1",
    ),
    Mutant(
        "mask_transposed",
        catches="causal_mask",
        source=_plant("~mask,", "~mask.transpose(-2, -1),"),
        note="reads the mask as (key, query): a causal mask turns into a look-ahead mask",
    ),
    Mutant(
        "mask_as_lengths",
        catches="general_mask",
        source=_plant(
            'scores = scores.masked_fill(~mask, float("-inf"))',
            "allowed = torch.arange(scores.size(-1)) < mask.sum(-1, keepdim=True)\n"
            '        scores = scores.masked_fill(~allowed, float("-inf"))',
        ),
        note="turns each mask row into a length: right for padding and causal masks only",
    ),
    Mutant(
        "weights_detached",
        catches="gradients",
        source=_plant("weights @ v", "weights.detach() @ v"),
        note="no gradient reaches q and k",
    ),
    Mutant(
        "numpy_softmax",
        catches="gradients",
        source=_plant(
            "weights = torch.softmax(scores, dim=-1)",
            "import numpy as np\n"
            "    s = scores.detach().numpy()\n"
            "    e = np.exp(s - s.max(axis=-1, keepdims=True))\n"
            "    weights = torch.from_numpy(e / e.sum(axis=-1, keepdims=True))",
        ),
        note="right values, but autograd cannot follow numpy",
    ),
    Mutant(
        "mask_small_penalty",
        catches="masked_keys_no_influence",
        source=_plant('float("-inf")', "-20.0"),
        note="blocked keys keep a weight of about exp(-20): tiny, but not zero",
    ),
]
