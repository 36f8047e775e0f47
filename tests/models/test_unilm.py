"""UniLM's masks against a position-by-position definition, and what they hide in an encoder."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.models.bert import Bert, BertConfig
from groundup.models.unilm import MODES, attention_masks, encode, segment_layout


def visible_positions(n1: int, n2: int, T: int, i: int, mode: str) -> set[int]:
    """Written out from the paper's description, one query position at a time."""
    first = set(range(n1 + 2))  # [SOS] S1 [EOS]
    second = set(range(n1 + 2, n1 + n2 + 3))  # S2 [EOS]
    real = first | second
    if i not in real:
        return real  # padding queries see the real tokens (their output is ignored)
    if mode == "bidirectional":
        return real
    if mode == "left-to-right":
        return {j for j in real if j <= i}
    if i in first:
        return first
    return first | {j for j in second if j <= i}


rows = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(rows=rows, extra=st.integers(0, 3), mode=st.sampled_from(MODES))
def test_masks_match_the_definition(rows: list[tuple[int, int]], extra: int, mode: str) -> None:
    T = max(n1 + n2 + 3 for n1, n2 in rows) + extra
    token_type_ids, attention_mask = segment_layout([r[0] for r in rows], [r[1] for r in rows], T)
    mask = attention_masks(token_type_ids, attention_mask, mode)
    assert mask.shape == (len(rows), T, T) and mask.dtype == torch.bool
    for b, (n1, n2) in enumerate(rows):
        for i in range(T):
            got = set(torch.nonzero(mask[b, i]).flatten().tolist())
            assert got == visible_positions(n1, n2, T, i, mode), (b, i, mode)


def test_segment_layout_rejects_rows_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="needs 8 positions"):
        segment_layout([3], [2], 7)
    with pytest.raises(ValueError, match="mode"):
        attention_masks(torch.zeros(1, 3, dtype=torch.long), torch.ones(1, 3), "causal")


def tiny_encoder() -> Bert:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    return Bert(config, add_pooling_layer=False).eval()


def test_bidirectional_mask_gives_berts_output() -> None:
    bert = tiny_encoder()
    token_type_ids, attention_mask = segment_layout([4, 1], [3, 2], 12)
    input_ids = torch.randint(1, 50, (2, 12)) * attention_mask
    mask = attention_masks(token_type_ids, attention_mask, "bidirectional")
    ours = encode(bert, input_ids, token_type_ids, mask)
    reference = bert(input_ids, attention_mask, token_type_ids).last_hidden_state
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=1e-5)


def test_seq2seq_mask_hides_the_target_from_the_source_and_the_future() -> None:
    bert = tiny_encoder()
    n1, n2, T = 4, 5, 14  # S2 [EOS] occupies positions 6..11, padding 12..13
    token_type_ids, attention_mask = segment_layout([n1], [n2], T)
    mask = attention_masks(token_type_ids, attention_mask, "seq2seq")
    input_ids = torch.randint(1, 50, (1, T)) * attention_mask
    base = encode(bert, input_ids, token_type_ids, mask)
    first_end, total = n1 + 2, n1 + n2 + 3
    for k in range(first_end, total):  # change the S2 token at position k (and padding)
        changed = input_ids.clone()
        changed[0, k] = (changed[0, k] + 7) % 49 + 1
        changed[0, total:] = 3
        out = encode(bert, changed, token_type_ids, mask)
        # everything before k (all of S1, S2 up to k - 1) is untouched
        torch.testing.assert_close(out[0, :k], base[0, :k], atol=0, rtol=0)
        # the test could not fail if the change were invisible: position k itself moves
        assert (out[0, k:total] - base[0, k:total]).abs().max() > 1e-3
    # and changing S1 reaches S2 (the target reads the source)
    changed = input_ids.clone()
    changed[0, 2] = (changed[0, 2] + 7) % 49 + 1
    out = encode(bert, changed, token_type_ids, mask)
    assert (out[0, first_end:total] - base[0, first_end:total]).abs().min() > 1e-5


def test_left_to_right_mask_hides_the_future() -> None:
    bert = tiny_encoder()
    token_type_ids, attention_mask = segment_layout([3], [3], 9)
    mask = attention_masks(token_type_ids, attention_mask, "left-to-right")
    input_ids = torch.randint(1, 50, (1, 9))
    base = encode(bert, input_ids, token_type_ids, mask)
    changed = input_ids.clone()
    changed[0, 4] = (changed[0, 4] + 7) % 49 + 1
    out = encode(bert, changed, token_type_ids, mask)
    torch.testing.assert_close(out[0, :4], base[0, :4], atol=0, rtol=0)
    assert (out[0, 4:] - base[0, 4:]).abs().max() > 1e-3
