"""Planted bugs for the `transformer` exercise, each a full learner file one check must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch


def decoder_masks(tgt_is_real, src_is_real):
    T = tgt_is_real.size(1)
    causal = torch.ones(T, T, dtype=torch.bool, device=tgt_is_real.device).tril()
    self_mask = causal[None, :, :] & tgt_is_real[:, None, :]
    memory_mask = src_is_real[:, None, :]
    return self_mask, memory_mask


def decoder_layer(layer, y, memory, self_mask, memory_mask):
    if layer.norm_first:
        h = layer.norm1(y)
        y = y + layer.self_attn(h, h, h, mask=self_mask)[0]
        h = layer.norm2(y)
        y = y + layer.multihead_attn(h, memory, memory, mask=memory_mask)[0]
        return y + layer.ffn(layer.norm3(y))
    y = layer.norm1(y + layer.self_attn(y, y, y, mask=self_mask)[0])
    y = layer.norm2(y + layer.multihead_attn(y, memory, memory, mask=memory_mask)[0])
    return layer.norm3(y + layer.ffn(y))
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "no_causal_mask",
        catches="masks",
        source=_plant("causal[None, :, :] & tgt_is_real", "tgt_is_real"),
        note="keeps only the padding: every position may read the future",
    ),
    Mutant(
        "causal_mask_upper",
        catches="masks",
        source=_plant(".tril()", ".triu()"),
        note="the causal triangle the wrong way round: each position reads only the future",
    ),
    Mutant(
        "padding_inverted",
        catches="masks",
        source=_plant("memory_mask = src_is_real", "memory_mask = ~src_is_real"),
        note="blocks the real source tokens and reads the padding",
    ),
    Mutant(
        "padding_on_queries",
        catches="masks",
        source=_plant("tgt_is_real[:, None, :]", "tgt_is_real[:, :, None]"),
        note="applies the target padding to the rows (queries) instead of the keys",
    ),
    Mutant(
        "self_mask_not_used",
        catches="post_ln",
        source=_plant(
            "y = layer.norm1(y + layer.self_attn(y, y, y, mask=self_mask)[0])",
            "y = layer.norm1(y + layer.self_attn(y, y, y)[0])",
        ),  # fmt: skip
        note="post-LN self-attention without the causal mask",
    ),
    Mutant(
        "post_ln_computed_as_pre_ln",
        catches="post_ln",
        source=_plant("    if layer.norm_first:\n", "    if True:\n"),
        note="always pre-LN: post-LN and pre-LN mixed up",
    ),
    Mutant(
        "pre_ln_norm_after_sum",
        catches="pre_ln",
        source=_plant(
            "        return y + layer.ffn(layer.norm3(y))",
            "        return layer.norm3(y + layer.ffn(y))",
        ),  # fmt: skip
        note="pre-LN branch normalises the feed-forward sublayer after the residual sum",
    ),
    Mutant(
        "cross_attention_residual_missing",
        catches="post_ln",
        source=_plant(
            "layer.norm2(y + layer.multihead_attn(", "layer.norm2(0 + layer.multihead_attn("
        ),
        note="post-LN cross-attention without its residual connection",
    ),
    Mutant(
        "ffn_residual_missing_pre_ln",
        catches="pre_ln",
        source=_plant("return y + layer.ffn(layer.norm3(y))", "return layer.ffn(layer.norm3(y))"),
        note="pre-LN feed-forward without its residual connection",
    ),
    Mutant(
        "cross_attention_keys_from_decoder",
        catches="post_ln",
        source=_plant(
            "layer.multihead_attn(y, memory, memory, mask=memory_mask)",
            "layer.multihead_attn(y, y, y, mask=self_mask)",
        ),  # fmt: skip
        note="cross-attention reads the decoder itself instead of the encoder's memory",
    ),
    Mutant(
        "memory_mask_ignored",
        catches="post_ln",
        source=_plant(
            "layer.multihead_attn(y, memory, memory, mask=memory_mask)",
            "layer.multihead_attn(y, memory, memory)",
        ),  # fmt: skip
        note="cross-attention also reads the padded source positions",
    ),
    Mutant(
        "norms_swapped",
        catches="post_ln",
        source=_plant("y = layer.norm1(y + layer.self_attn", "y = layer.norm2(y + layer.self_attn"),
        note="uses the cross-attention's LayerNorm after self-attention",
    ),
    Mutant(
        "residual_detached",
        catches="gradients",
        source=_plant(
            "return layer.norm3(y + layer.ffn(y))", "return layer.norm3(y.detach() + layer.ffn(y))"
        ),  # fmt: skip
        note="the residual path carries no gradient",
    ),
    Mutant(
        "pre_ln_self_mask_dropped",
        catches="causal",
        source=_plant(
            "y = y + layer.self_attn(h, h, h, mask=self_mask)[0]",
            "y = y + layer.self_attn(h, h, h)[0]",
        ),  # fmt: skip
        note="pre-LN self-attention without the mask: earlier outputs see later tokens",
    ),
]
