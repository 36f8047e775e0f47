"""Planted bugs for the `deberta` exercise, each a full learner file that one check must
catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import math

import torch


def log_bucket_position(relative_pos, bucket_size, max_position):
    mid = bucket_size // 2
    sign = torch.sign(relative_pos)
    far = (relative_pos > mid) | (relative_pos < -mid)
    abs_pos = torch.where(far, relative_pos.abs(), torch.full_like(relative_pos, mid))
    log_pos = torch.ceil(
        torch.log(abs_pos.float() / mid) / math.log((max_position - 1) / mid) * (mid - 1)
    ) + mid
    return torch.where(far, log_pos * sign, relative_pos.float())


def relative_position(query_size, key_size, bucket_size=-1, max_position=-1):
    relative = torch.arange(query_size)[:, None] - torch.arange(key_size)[None, :]
    if bucket_size > 0 and max_position > 0:
        relative = log_bucket_position(relative, bucket_size, max_position)
    return relative.long()


def position_scores(q, k, pos_key, pos_query, relative_pos):
    span = pos_key.shape[-2] // 2
    T = q.shape[-2]
    shape = (*q.shape[:-2], T, T)
    c2p_rows = (relative_pos + span).clamp(0, 2 * span - 1).expand(shape)
    c2p = torch.gather(q @ pos_key.transpose(-1, -2), -1, c2p_rows)
    p2c_rows = (-relative_pos + span).clamp(0, 2 * span - 1).expand(shape)
    p2c = torch.gather(k @ pos_query.transpose(-1, -2), -1, p2c_rows).transpose(-1, -2)
    return c2p, p2c


def disentangled_attention(q, k, v, pos_key, pos_query, relative_pos, mask):
    c2p, p2c = position_scores(q, k, pos_key, pos_query, relative_pos)
    d = q.shape[-1]
    scores = (q @ k.transpose(-1, -2) + c2p + p2c) / math.sqrt(3 * d)
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    probs = torch.softmax(scores, dim=-1)
    return probs @ v
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "distance_j_minus_i",
        catches="relative_position_plain",
        source=_plant(
            "torch.arange(query_size)[:, None] - torch.arange(key_size)[None, :]",
            "torch.arange(key_size)[None, :] - torch.arange(query_size)[:, None]",
        ),
        note="delta(i, j) = j - i: every distance has the wrong sign",
    ),
    Mutant(
        "bucket_sign_lost",
        catches="log_buckets_near",
        source=_plant(
            "return torch.where(far, log_pos * sign, relative_pos.float())",
            "return torch.where(far, log_pos, relative_pos.abs().float())",
        ),
        note="buckets of |d|: keys before and after the query look the same",
    ),
    Mutant(
        "bucket_floor_instead_of_ceil",
        catches="log_buckets_far",
        source=_plant("log_pos = torch.ceil(", "log_pos = torch.floor("),
        note="rounds the log position down: far distances land one bucket too near",
    ),
    Mutant(
        "bucket_log_of_max_position",
        catches="log_buckets_far",
        source=_plant("math.log((max_position - 1) / mid)", "math.log(max_position / mid)"),
        note="log(max_position / mid) in the denominator: buckets wrong beyond the linear range",
    ),
    Mutant(
        "buckets_always_on",
        catches="relative_position_bucketed",
        source=_plant("if bucket_size > 0 and max_position > 0:", "if max_position > 0:"),
        note="buckets even when bucket_size is 0, which asks for plain distances",
    ),
    Mutant(
        "c2p_and_p2c_swapped",
        catches="c2p_term",
        source=_plant("return c2p, p2c\n", "return p2c, c2p\n"),
        note="returns the two position terms in the wrong order",
    ),
    Mutant(
        "c2p_uses_query_projection",
        catches="c2p_term",
        source=_plant("q @ pos_key.transpose(-1, -2)", "q @ pos_query.transpose(-1, -2)"),
        note="content-to-position scores the query against the query-projected table",
    ),
    Mutant(
        "p2c_sign_of_distance",
        catches="p2c_term",
        source=_plant("p2c_rows = (-relative_pos + span)", "p2c_rows = (relative_pos + span)"),
        note="p2c gathers at +delta: key j reads the row of j - i instead of i - j",
    ),
    Mutant(
        "p2c_not_transposed",
        catches="p2c_term",
        source=_plant("p2c_rows).transpose(-1, -2)\n", "p2c_rows)\n"),
        note="p2c left with keys on the rows and queries on the columns",
    ),
    Mutant(
        "no_clamp",
        catches="clipped_distances",
        source=_plant(
            "c2p_rows = (relative_pos + span).clamp(0, 2 * span - 1)",
            "c2p_rows = (relative_pos + span)",
        ).replace(
            "p2c_rows = (-relative_pos + span).clamp(0, 2 * span - 1)",
            "p2c_rows = (-relative_pos + span)",
        ),
        note="row indices past the table: gather fails on long sequences",
    ),
    Mutant(
        "scale_sqrt_d",
        catches="attention_unmasked",
        source=_plant("math.sqrt(3 * d)", "math.sqrt(d)"),
        note="scaled as plain attention: the three terms together are too large",
    ),
    Mutant(
        "softmax_over_queries",
        catches="attention_unmasked",
        source=_plant("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-2)"),
        note="normalises each key's column instead of each query's row",
    ),
    Mutant(
        "mask_not_applied",
        catches="attention_masked",
        source=_plant(
            "    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)\n", ""
        ),
        note="padding and masked keys still get attention",
    ),
    Mutant(
        "mask_with_minus_infinity",
        catches="attention_masked",
        source=_plant("torch.finfo(scores.dtype).min", "float('-inf')"),
        note="-inf: the rows of padding queries, masked entirely, become NaN",
    ),
    Mutant(
        "position_table_detached",
        catches="gradients",
        source=_plant(
            "c2p = torch.gather(q @ pos_key.transpose(-1, -2)",
            "c2p = torch.gather(q @ pos_key.detach().transpose(-1, -2)",
        ),
        note="no gradient reaches the relative embeddings through c2p",
    ),
]
