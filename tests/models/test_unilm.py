"""UniLM's masks against a position-by-position definition and unilm-v1's loader, what they
hide in an encoder, a causal BERT from transformers as the oracle of the left-to-right mode,
and the objectives and greedy generation built on them."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.models.bert import Bert, BertConfig, rename
from groundup.models.bert_pretraining import IGNORE, BertForPreTraining
from groundup.models.unilm import (
    MODES,
    attention_masks,
    encode,
    generate,
    next_token_labels,
    objective_batch,
    segment_embedding_ids,
    segment_layout,
    unilm_loss,
)


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


@settings(max_examples=15, deadline=None)
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


def unilm_v1_seq2seq_mask(n1: int, n2: int, T: int) -> torch.Tensor:
    """The rule of the seq2seq data loader of microsoft/unilm (unilm-v1, biunilm): every row
    may read the source block [SOS] S1 [EOS]; the target block S2 [EOS] additionally gets a
    lower-triangular matrix over itself. (It also lets padding rows read the source.)"""
    mask = torch.zeros(T, T, dtype=torch.bool)
    mask[:, : n1 + 2] = True
    start, end = n1 + 2, n1 + n2 + 3
    mask[start:end, start:end] = torch.ones(end - start, end - start, dtype=torch.bool).tril()
    return mask


@settings(max_examples=15, deadline=None)
@given(rows=rows, extra=st.integers(0, 3))
def test_seq2seq_mask_matches_the_unilm_v1_loader(rows: list[tuple[int, int]], extra: int) -> None:
    T = max(n1 + n2 + 3 for n1, n2 in rows) + extra
    token_type_ids, attention_mask = segment_layout([r[0] for r in rows], [r[1] for r in rows], T)
    mask = attention_masks(token_type_ids, attention_mask, "seq2seq")
    for b, (n1, n2) in enumerate(rows):
        real = n1 + n2 + 3  # padding rows differ by design: ours see all real tokens
        assert torch.equal(mask[b, :real], unilm_v1_seq2seq_mask(n1, n2, T)[:real])


def test_matches_transformers_causal_bert_in_left_to_right_mode() -> None:
    """transformers' BertModel with is_decoder=True adds a causal mask to the padding mask:
    on the real rows it must equal our encoder under the left-to-right mask, values and
    gradients of every weight (atol 1e-5)."""
    transformers = pytest.importorskip("transformers")
    bert = tiny_encoder()
    state = {rename(n, to_ours=False): t for n, t in bert.state_dict().items()}
    config = transformers.BertConfig(
        **{
            k: v
            for k, v in vars(bert.config).items()
            if k not in ("embedding_size", "share_layers")
        },
        is_decoder=True,
    )
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0
    theirs = transformers.BertModel(config, add_pooling_layer=False).eval()
    theirs.load_state_dict(state)
    token_type_ids, attention_mask = segment_layout([4, 1, 2], [3, 2, 0], 11)
    input_ids = torch.randint(1, 50, (3, 11)) * attention_mask
    mask = attention_masks(token_type_ids, attention_mask, "left-to-right")
    ours = encode(bert, input_ids, token_type_ids, mask)
    reference = theirs(
        input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
    ).last_hidden_state
    real = attention_mask.bool()
    torch.testing.assert_close(ours[real], reference[real], atol=1e-5, rtol=1e-4)
    weights = torch.randn(ours[real].shape)
    (ours[real] * weights).sum().backward()
    (reference[real] * weights).sum().backward()
    for name, parameter in bert.named_parameters():
        other = theirs.get_parameter(rename(name, to_ours=False))
        torch.testing.assert_close(parameter.grad, other.grad, atol=1e-5, rtol=1e-4, msg=name)


def test_next_token_labels_train_s2_only_in_seq2seq() -> None:
    token_type_ids, attention_mask = segment_layout([2], [2], 9)  # S S1 S1 E S2 S2 E pad pad
    input_ids = torch.tensor([[1, 10, 11, 2, 20, 21, 2, 0, 0]])
    l2r = next_token_labels(input_ids, token_type_ids, attention_mask, "left-to-right")
    s2s = next_token_labels(input_ids, token_type_ids, attention_mask, "seq2seq")
    x = IGNORE
    assert l2r.tolist() == [[10, 11, 2, 20, 21, 2, x, x, x]]
    assert s2s.tolist() == [[x, x, x, 20, 21, 2, x, x, x]]
    with pytest.raises(ValueError, match="next-token"):
        next_token_labels(input_ids, token_type_ids, attention_mask, "bidirectional")


def tiny_lm() -> BertForPreTraining:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=40, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )  # fmt: skip
    return BertForPreTraining(config, nsp=False)


@pytest.mark.parametrize("mode", MODES)
def test_unilm_loss_is_cross_entropy_of_all_logits_under_the_mask(mode: str) -> None:
    model = tiny_lm()
    token_type_ids, attention_mask = segment_layout([3, 1], [2, 4], 10)
    input_ids = (torch.randint(5, 30, (2, 10)) * attention_mask).clone()
    input_ids[0, [0, 4, 7]] = torch.tensor([1, 2, 2])
    special = input_ids < 5
    inputs, labels = objective_batch(
        input_ids, token_type_ids, attention_mask, mode, special, 3, 30, 0.5,
        torch.Generator().manual_seed(1),
    )  # fmt: skip
    assert (labels != IGNORE).any()
    loss = unilm_loss(model, inputs, token_type_ids, attention_mask, labels, mode)
    mask = attention_masks(token_type_ids, attention_mask, mode)
    logits = model.cls.predictions(encode(model.bert, inputs, token_type_ids, mask))
    expected = F.cross_entropy(logits.view(-1, 30), labels.view(-1), ignore_index=IGNORE)
    torch.testing.assert_close(loss, expected)


def test_greedy_generation_is_what_teacher_forcing_predicts() -> None:
    """Fed back with its own output, the model under the seq2seq mask predicts at every
    target position the token greedy generation chose; batching (padding) changes nothing."""
    model = tiny_lm()
    with torch.no_grad():  # a bias towards the end token: rows stop at different steps
        model.cls.predictions.bias[2] = 0.1
    sources = [[7, 8, 9, 10], [11], [12, 13]]
    together = generate(model, sources, sos_id=1, eos_id=2, pad_id=0, max_new_tokens=6)
    alone = [generate(model, [s], 1, 2, 0, 6)[0] for s in sources]
    assert together == alone
    assert any(len(g) < 6 for g in together) and any(len(g) > 0 for g in together)
    model.eval()
    for source, target in zip(sources, together, strict=True):
        ended = len(target) < 6
        row = [1, *source, 2, *target, *([2] if ended else [])]
        n2 = len(target) - (0 if ended else 1)
        token_type_ids, attention_mask = segment_layout([len(source)], [n2], len(row))
        mask = attention_masks(token_type_ids, attention_mask, "seq2seq")
        ids = torch.tensor([row])
        with torch.no_grad():
            logits = model.cls.predictions(encode(model.bert, ids, token_type_ids, mask))
        guesses = logits[0].argmax(-1)[len(source) + 1 : len(row) - 1].tolist()
        assert guesses == (target + [2])[: len(guesses)]


def test_six_segment_embeddings_name_the_objective() -> None:
    token_type_ids, _ = segment_layout([1], [1], 6)  # 0 0 0 1 1 pad
    six = Bert(
        BertConfig(
            vocab_size=9,
            hidden_size=8,
            num_hidden_layers=1,
            num_attention_heads=1,
            intermediate_size=8,
            type_vocab_size=6,
        )
    )
    two = tiny_encoder()
    firsts = [segment_embedding_ids(six, token_type_ids, mode)[0, :5].tolist() for mode in MODES]
    assert firsts == [[0, 0, 0, 1, 1], [2, 2, 2, 3, 3], [4, 4, 4, 5, 5]]
    for mode in MODES:
        assert torch.equal(segment_embedding_ids(two, token_type_ids, mode), token_type_ids)
