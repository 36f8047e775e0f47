"""Planted bugs for the `seq2seq-attention` exercise, each a full learner file one check
must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch


def additive_scores(query, keys, w_query, w_key, v):
    projected_query = query @ w_query.T  # (B, T, A)
    projected_keys = keys @ w_key.T  # (B, S, A)
    hidden = torch.tanh(projected_query[:, :, None, :] + projected_keys[:, None, :, :])
    return hidden @ v  # (B, T, S)


def dot_scores(query, keys):
    return query @ keys.transpose(1, 2)


def general_scores(query, keys, w):
    return query @ (keys @ w.T).transpose(1, 2)


def attend(scores, keys, mask):
    if mask is not None:
        scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
    scores = scores - scores.max(dim=-1, keepdim=True).values
    exp = torch.exp(scores)
    weights = exp / exp.sum(dim=-1, keepdim=True)
    return weights @ keys, weights
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "scores_transposed",
        catches="shapes",
        source=_plant("return query @ keys.transpose(1, 2)", "return keys @ query.transpose(1, 2)"),
        note="one row per source position instead of one per target step: (B, S, T)",
    ),
    Mutant(
        "additive_without_tanh",
        catches="additive",
        source=_plant(
            "torch.tanh(projected_query[:, :, None, :] + projected_keys[:, None, :, :])",
            "projected_query[:, :, None, :] + projected_keys[:, None, :, :]",
        ),
        note="a linear score: v . (W_q q + W_k k) splits into a query part and a key part",
    ),
    Mutant(
        "additive_tanh_after_v",
        catches="additive",
        source=_plant(
            "hidden = torch.tanh(projected_query[:, :, None, :] + projected_keys[:, None, :, :])\n"
            "    return hidden @ v",
            "hidden = projected_query[:, :, None, :] + projected_keys[:, None, :, :]\n"
            "    return torch.tanh(hidden @ v)",
        ),
        note="squashes the score instead of the hidden layer",
    ),
    Mutant(
        "dot_scaled_like_the_transformer",
        catches="luong",
        source=_plant(
            "return query @ keys.transpose(1, 2)",
            "return query @ keys.transpose(1, 2) / query.shape[-1] ** 0.5",
        ),
        note="Vaswani's 1/sqrt(d) in Luong's dot score",
    ),
    Mutant(
        "general_weight_on_the_query",
        catches="luong",
        source=_plant(
            "return query @ (keys @ w.T).transpose(1, 2)",
            "return (query @ w[:, : query.shape[-1]]) @ keys[..., : query.shape[-1]]"
            ".transpose(1, 2)",
        ),
        note="W applied on the wrong side (and cut to fit)",
    ),
    Mutant(
        "softmax_over_target_steps",
        catches="attend",
        source=_plant(
            "weights = exp / exp.sum(dim=-1, keepdim=True)",
            "weights = exp / exp.sum(dim=1, keepdim=True)",
        ),
        note="normalises over the queries: each source position hands out one unit",
    ),
    Mutant(
        "mask_inverted",
        catches="mask",
        source=_plant("masked_fill(~mask[:, None, :]", "masked_fill(mask[:, None, :]"),
        note="attends only to the padding",
    ),
    Mutant(
        "mask_filled_with_zero",
        catches="mask",
        source=_plant('float("-inf"))', "0.0)"),
        note="a score of 0 is not 'never': exp(0) = 1 still gives padding weight",
    ),
    Mutant(
        "mask_after_softmax",
        catches="mask",
        source=_plant(
            "    return weights @ keys, weights",
            "    if mask is not None:\n"
            "        weights = exp.masked_fill(~mask[:, None, :], 0.0) / exp.sum(-1, keepdim=True)\n"
            "    return weights @ keys, weights",
        ).replace('scores = scores.masked_fill(~mask[:, None, :], float("-inf"))', "pass"),
        note="zeroes the padding after normalising: rows no longer sum to 1",
    ),
    Mutant(
        "softmax_without_max_subtraction",
        catches="stable",
        source=_plant("    scores = scores - scores.max(dim=-1, keepdim=True).values\n", ""),
        note="exp(1000) = inf, and inf / inf = nan",
    ),
    Mutant(
        "values_detached",
        catches="gradients",
        source=_plant("return weights @ keys, weights", "return weights @ keys.detach(), weights"),
        note="the keys' second path (as values) carries no gradient",
    ),
]
