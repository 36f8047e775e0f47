"""Planted bugs for the unilm exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """import torch


def segment_layout(first_lengths, second_lengths, T):
    B = len(first_lengths)
    token_type_ids = torch.zeros(B, T, dtype=torch.long)
    attention_mask = torch.zeros(B, T, dtype=torch.long)
    for row in range(B):
        n1, n2 = first_lengths[row], second_lengths[row]
        total = n1 + n2 + 3
        if total > T:
            raise ValueError(f"row {row} needs {total} positions")
        token_type_ids[row, n1 + 2 : total] = 1
        attention_mask[row, :total] = 1
    return token_type_ids, attention_mask


def attention_masks(token_type_ids, attention_mask, mode):
    B, T = token_type_ids.shape
    real = attention_mask.bool()
    real_key = real[:, None, :].expand(B, T, T)
    at_or_before = torch.tril(torch.ones(T, T, dtype=torch.bool))
    if mode == "bidirectional":
        visible = real_key
    elif mode == "left-to-right":
        visible = real_key & at_or_before
    elif mode == "seq2seq":
        key_in_s1 = (token_type_ids == 0)[:, None, :]
        query_in_s2 = (token_type_ids == 1)[:, :, None]
        visible = real_key & (key_in_s1 | (query_in_s2 & at_or_before))
    else:
        raise ValueError(f"unknown mode {mode!r}")
    padding_query = ~real[:, :, None]
    return torch.where(padding_query, real_key, visible)
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "eos_of_s1_in_segment_two",
        catches="layout_basic",
        source=_plant("token_type_ids[row, n1 + 2 : total] = 1",
                      "token_type_ids[row, n1 + 1 : total] = 1"),
        note="the [EOS] closing S1 is counted as part of S2",
    ),
    Mutant(
        "padding_in_segment_two",
        catches="layout_padding",
        source=_plant("token_type_ids[row, n1 + 2 : total] = 1",
                      "token_type_ids[row, n1 + 2 :] = 1"),
        note="segment 1 runs on into the padding",
    ),
    Mutant(
        "padding_rows_see_nothing",
        catches="no_empty_rows",
        source=_plant("return torch.where(padding_query, real_key, visible)",
                      "return visible & ~padding_query"),
        note="padding queries get an all-False row: softmax 0/0",
    ),
    Mutant(
        "padding_visible",
        catches="bidirectional_matches",
        source=_plant("        visible = real_key\n",
                      "        visible = torch.ones(B, T, T, dtype=torch.bool)\n"),
        note="bidirectional attention reads the padding",
    ),
    Mutant(
        "causal_off_by_one",
        catches="left_to_right_matches",
        source=_plant("visible = real_key & at_or_before",
                      "visible = real_key & torch.tril(at_or_before, diagonal=-1)"),
        note="j < i instead of j <= i: a token does not see itself ([SOS] sees nothing)",
    ),
    Mutant(
        "s2_does_not_see_itself",
        catches="seq2seq_matches",
        source=_plant("(query_in_s2 & at_or_before)",
                      "(query_in_s2 & torch.tril(at_or_before, diagonal=-1))"),
        note="an S2 token sees S1 and the S2 tokens before it, but not itself",
    ),
    Mutant(
        "s1_sees_s2",
        catches="leak_test",
        source=_plant("key_in_s1 | (query_in_s2 & at_or_before)",
                      "key_in_s1 | ~query_in_s2 | at_or_before"),
        note="the source reads the whole target: what S2 says leaks into S1",
    ),
    Mutant(
        "s2_sees_its_future",
        catches="leak_test",
        source=_plant("key_in_s1 | (query_in_s2 & at_or_before)", "key_in_s1 | query_in_s2"),
        note="the target is bidirectional inside itself: each S2 token sees the next one",
    ),
    Mutant(
        "seq2seq_padding_visible",
        catches="leak_test",
        source=_plant("visible = real_key & (key_in_s1 | (query_in_s2 & at_or_before))",
                      "visible = key_in_s1 | (query_in_s2 & at_or_before)"),
        note="padding has segment 0, so without the real-key test everyone reads it",
    ),
]  # fmt: skip
