"""Planted bugs for the `llama` exercise, each a full learner file that one check must catch.

They start from SOLUTION, a correct answer written the way a learner would (explicit
formulas, a hand-written causal softmax), and change one thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import math

import torch
import torch.nn.functional as F


def rms_norm(x, weight, eps=1e-6):
    mean_square = x.pow(2).mean(dim=-1, keepdim=True)
    return x * torch.rsqrt(mean_square + eps) * weight


def swiglu(x, w_gate, w_up, w_down):
    gate = F.silu(x @ w_gate.T)
    up = x @ w_up.T
    return (gate * up) @ w_down.T


def repeat_kv(x, n_rep):
    B, H, T, d = x.shape
    return x[:, :, None, :, :].expand(B, H, n_rep, T, d).reshape(B, H * n_rep, T, d)


def gqa_attention(q, k, v):
    n_rep = q.size(1) // k.size(1)
    k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
    T, d = q.size(-2), q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
    scores = scores.masked_fill(future, float("-inf"))
    return scores.softmax(dim=-1) @ v
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "rms_norm_subtracts_mean",
        catches="rms_norm_matches",
        source=_plant(
            "    mean_square = x.pow(2).mean(dim=-1, keepdim=True)\n",
            "    x = x - x.mean(dim=-1, keepdim=True)\n"
            "    mean_square = x.pow(2).mean(dim=-1, keepdim=True)\n",
        ),
        note="centres x first, as LayerNorm does",
    ),
    Mutant(
        "rms_norm_over_all_features",
        catches="rms_norm_matches",
        source=_plant("x.pow(2).mean(dim=-1, keepdim=True)", "x.pow(2).mean()"),
        note="one root mean square for the whole tensor instead of one per position",
    ),
    Mutant(
        "rms_norm_eps_outside_sqrt",
        catches="rms_norm_eps",
        source=_plant(
            "x * torch.rsqrt(mean_square + eps) * weight",
            "x / (mean_square.sqrt() + eps) * weight",
        ),
        note="adds eps after the square root; invisible for activations of size 1",
    ),
    Mutant(
        "rms_norm_detached_scale",
        catches="rms_norm_gradients",
        source=_plant("torch.rsqrt(mean_square + eps)", "torch.rsqrt(mean_square + eps).detach()"),
        note="right values, but the gradient ignores how the scale depends on x",
    ),
    Mutant(
        "swiglu_sigmoid_gate",
        catches="swiglu_matches",
        source=_plant("gate = F.silu(x @ w_gate.T)", "gate = torch.sigmoid(x @ w_gate.T)"),
        note="the original GLU (sigmoid) instead of Swish/SiLU",
    ),
    Mutant(
        "swiglu_silu_on_up_branch",
        catches="swiglu_matches",
        source=_plant(
            "    gate = F.silu(x @ w_gate.T)\n    up = x @ w_up.T\n",
            "    gate = x @ w_gate.T\n    up = F.silu(x @ w_up.T)\n",
        ),
        note="activates the wrong branch, so gate_proj and up_proj swap roles",
    ),
    Mutant(
        "swiglu_detached_gate",
        catches="swiglu_gradients",
        source=_plant("gate = F.silu(x @ w_gate.T)", "gate = F.silu(x @ w_gate.T).detach()"),
        note="w_gate never learns",
    ),
    Mutant(
        "repeat_kv_tiles",
        catches="repeat_kv_order",
        source=_plant(
            "    return x[:, :, None, :, :].expand(B, H, n_rep, T, d).reshape(B, H * n_rep, T, d)\n",
            "    return x.repeat(1, n_rep, 1, 1)\n",
        ),
        note="[k0, k1] -> [k0, k1, k0, k1]: query heads get another group's keys",
    ),
    Mutant(
        "gqa_scales_by_model_width",
        catches="gqa_matches",
        source=_plant("/ math.sqrt(d)", "/ math.sqrt(d * q.size(1))"),
        note="divides by sqrt of all heads' width instead of one head's",
    ),
    Mutant(
        "gqa_not_causal",
        catches="gqa_causal",
        source=_plant('    scores = scores.masked_fill(future, float("-inf"))\n', ""),
        note="every position sees the future",
    ),
    Mutant(
        "gqa_detached_values",
        catches="gqa_gradients",
        source=_plant(
            "k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)",
            "k, v = repeat_kv(k, n_rep), repeat_kv(v.detach(), n_rep)",
        ),
        note="values get no gradient",
    ),
]
