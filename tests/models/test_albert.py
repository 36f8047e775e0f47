"""ALBERT against transformers' AlbertModel and AlbertForPreTraining.

Oracles: a small random transformers ALBERT (embedding_size 32, hidden 64, 4 heads, 4 layers;
1 and 2 layer groups, eager attention, float32, padded batch) with its state dict copied into
ours by name gives the same hidden states of every layer, pooler output, MLM and SOP logits
and loss (atol 1e-5) and the same gradients of every parameter (atol 1e-5, float32 is enough);
the parameter counts are equal; a folder written by save_pretrained loads through
from_pretrained and gives the same outputs.
"""

from __future__ import annotations

import pytest
import torch
import transformers

from groundup.models.albert import (
    Albert,
    AlbertConfig,
    AlbertForPreTraining,
    AlbertTransformer,
    describe_embedding_saving,
    embedding_parameters,
    sentence_order_inputs,
    sentence_order_pair,
)

ATOL = 1e-5


def small_config(num_hidden_groups: int = 1, inner_group_num: int = 1) -> dict:
    return {
        "vocab_size": 99,
        "embedding_size": 32,
        "hidden_size": 64,
        "num_hidden_layers": 4,
        "num_hidden_groups": num_hidden_groups,
        "inner_group_num": inner_group_num,
        "num_attention_heads": 4,
        "intermediate_size": 96,
        "max_position_embeddings": 40,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "classifier_dropout_prob": 0.0,
    }


def hf_config(raw: dict) -> transformers.AlbertConfig:
    config = transformers.AlbertConfig(**raw)
    config._attn_implementation = "eager"  # the textbook computation, no fused kernel
    return config


def padded_batch(seed: int = 1) -> dict[str, torch.Tensor]:
    """Three rows of 11 tokens; two of them padded on the right; two segments each."""
    gen = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(1, 99, (3, 11), generator=gen)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 7:] = 0
    attention_mask[2, 4:] = 0
    input_ids[attention_mask == 0] = 0
    token_type_ids = torch.zeros_like(input_ids)
    token_type_ids[:, 5:] = 1
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": token_type_ids,
    }


GROUPINGS = [(1, 1), (2, 1), (2, 2)]  # (num_hidden_groups, inner_group_num)


@pytest.mark.parametrize(("groups", "inner"), GROUPINGS)
def test_matches_transformers_albert_model(groups: int, inner: int) -> None:
    raw = small_config(groups, inner)
    torch.manual_seed(0)
    theirs = transformers.AlbertModel(hf_config(raw)).eval()
    ours = Albert(AlbertConfig.from_dict(raw)).eval()
    ours.load_state_dict(theirs.state_dict())  # strict: every name matches
    assert ours.num_params() == theirs.num_parameters()
    batch = padded_batch()
    expected = theirs(**batch, output_hidden_states=True)
    got = ours(**batch)
    # projected embeddings + one state per layer applied (4 steps x inner layers)
    assert len(got.hidden_states) == len(expected.hidden_states) == 1 + 4 * inner
    for mine, ref in zip(got.hidden_states, expected.hidden_states, strict=True):
        torch.testing.assert_close(mine, ref, atol=ATOL, rtol=0)
    torch.testing.assert_close(got.last_hidden_state, expected.last_hidden_state, atol=ATOL, rtol=0)
    torch.testing.assert_close(got.pooler_output, expected.pooler_output, atol=ATOL, rtol=0)


@pytest.mark.parametrize(("groups", "inner"), GROUPINGS)
def test_matches_transformers_pretraining_logits_loss_and_gradients(
    groups: int, inner: int
) -> None:
    raw = small_config(groups, inner)
    torch.manual_seed(0)
    theirs = transformers.AlbertForPreTraining(hf_config(raw)).eval()
    ours = AlbertForPreTraining(AlbertConfig.from_dict(raw)).eval()
    # random head biases, so that a wrong bias tie or a missing bias would show
    with torch.no_grad():
        theirs.predictions.bias.normal_()
        theirs.predictions.LayerNorm.weight.normal_()
    ours.load_state_dict(theirs.state_dict())
    assert ours.num_params() == theirs.num_parameters()
    batch = padded_batch()
    labels = torch.full_like(batch["input_ids"], -100)
    labels[:, 2] = batch["input_ids"][:, 2]
    labels[0, 6] = 17
    order = torch.tensor([0, 1, 1])
    expected = theirs(**batch, labels=labels, sentence_order_label=order)
    got = ours(**batch, labels=labels, sentence_order_label=order)
    torch.testing.assert_close(got.prediction_logits, expected.prediction_logits, atol=ATOL, rtol=0)
    torch.testing.assert_close(got.sop_logits, expected.sop_logits, atol=ATOL, rtol=0)
    torch.testing.assert_close(got.loss, expected.loss, atol=ATOL, rtol=0)
    expected.loss.backward()
    got.loss.backward()
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        torch.testing.assert_close(param.grad, their_params[name].grad, atol=ATOL, rtol=0)


def test_the_output_projection_is_the_word_embedding_table() -> None:
    model = AlbertForPreTraining(AlbertConfig.from_dict(small_config()))
    embeddings = model.albert.embeddings.word_embeddings.weight
    assert model.predictions.decoder.weight is embeddings
    assert model.predictions.bias is model.predictions.decoder.bias
    assert torch.all(model.predictions.bias == 0)


@pytest.mark.parametrize("model_class", ["AlbertModel", "AlbertForPreTraining"])
def test_from_pretrained_reads_a_save_pretrained_folder(tmp_path, model_class: str) -> None:
    raw = small_config(num_hidden_groups=2)
    torch.manual_seed(3)
    theirs = getattr(transformers, model_class)(hf_config(raw)).eval()
    theirs.save_pretrained(tmp_path)
    ours_class = Albert if model_class == "AlbertModel" else AlbertForPreTraining
    ours = ours_class.from_pretrained(tmp_path)
    assert ours.config.num_hidden_groups == 2
    batch = padded_batch(seed=4)
    with torch.no_grad():
        expected, got = theirs(**batch), ours(**batch)
    if model_class == "AlbertModel":
        torch.testing.assert_close(
            got.last_hidden_state, expected.last_hidden_state, atol=ATOL, rtol=0
        )
        torch.testing.assert_close(got.pooler_output, expected.pooler_output, atol=ATOL, rtol=0)
    else:
        torch.testing.assert_close(
            got.prediction_logits, expected.prediction_logits, atol=ATOL, rtol=0
        )
        torch.testing.assert_close(got.sop_logits, expected.sop_logits, atol=ATOL, rtol=0)
        decoder = ours.predictions.decoder.weight
        assert decoder is ours.albert.embeddings.word_embeddings.weight


def test_the_encoder_loads_from_a_pretraining_folder(tmp_path) -> None:
    torch.manual_seed(5)
    theirs = transformers.AlbertForPreTraining(hf_config(small_config())).eval()
    theirs.save_pretrained(tmp_path)
    ours = Albert.from_pretrained(tmp_path)
    batch = padded_batch(seed=6)
    with torch.no_grad():
        expected, got = theirs.albert(**batch), ours(**batch)
    torch.testing.assert_close(got.last_hidden_state, expected.last_hidden_state, atol=ATOL, rtol=0)


def test_from_pretrained_names_missing_weights(tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    torch.manual_seed(0)
    transformers.AlbertModel(hf_config(small_config())).save_pretrained(tmp_path)
    state = load_file(str(tmp_path / "model.safetensors"))
    del state["encoder.embedding_hidden_mapping_in.weight"]
    save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(KeyError, match="embedding_hidden_mapping_in"):
        Albert.from_pretrained(tmp_path)


def test_shared_layers_make_depth_free() -> None:
    """With one group, 4 or 12 steps use the same weights: the count does not change."""
    shallow = AlbertConfig.from_dict(small_config())
    deep = AlbertConfig.from_dict({**small_config(), "num_hidden_layers": 12})
    assert Albert(shallow).num_params() == Albert(deep).num_params()
    two_groups = AlbertConfig.from_dict(small_config(num_hidden_groups=2))
    layer = sum(p.numel() for p in Albert(shallow).encoder.albert_layer_groups[0].parameters())
    assert Albert(two_groups).num_params() == Albert(shallow).num_params() + layer


@pytest.mark.parametrize(("layers", "groups"), [(12, 1), (12, 3), (12, 4), (6, 6), (8, 2)])
def test_steps_walk_through_the_groups_like_transformers(layers: int, groups: int) -> None:
    config = AlbertConfig.from_dict(
        {**small_config(num_hidden_groups=groups), "num_hidden_layers": layers}
    )
    encoder = AlbertTransformer(config)
    ours = [encoder.group_of_step(i) for i in range(layers)]
    theirs = [int(i / (layers / groups)) for i in range(layers)]  # transformers' formula
    assert ours == theirs
    assert ours == sorted(ours) and set(ours) == set(range(groups))


def test_embedding_saving_equals_the_difference_in_weights() -> None:
    V, E, H = 99, 32, 64
    counts = embedding_parameters(V, E, H)
    assert counts == {"factorised": V * E + E * H, "full": V * H, "saved": V * H - V * E - E * H}
    model = Albert(AlbertConfig.from_dict(small_config()))
    table = model.embeddings.word_embeddings.weight.numel()
    projection = model.encoder.embedding_hidden_mapping_in.weight.numel()
    assert table + projection == counts["factorised"]
    line = describe_embedding_saving(AlbertConfig())  # xxlarge: V 30000, E 128, H 4096
    assert "4,364,288" in line and "122,880,000" in line


def test_sentence_order_pair_swaps_half_the_time_reproducibly() -> None:
    first, second = [5, 6, 7], [8, 9]
    draws = [sentence_order_pair(first, second, torch.Generator().manual_seed(0))]
    again = [sentence_order_pair(first, second, torch.Generator().manual_seed(0))]
    assert draws == again  # same seed, same draw
    gen = torch.Generator().manual_seed(1)
    pairs = [sentence_order_pair(first, second, gen) for _ in range(2000)]
    for a, b, label in pairs:
        assert (a, b) == ((first, second) if label == 0 else (second, first))
    swapped = sum(label for _, _, label in pairs)
    assert 900 < swapped < 1100  # Binomial(2000, 0.5): mean 1000, sd 22
    replay = torch.Generator().manual_seed(1)
    assert [sentence_order_pair(first, second, replay) for _ in range(2000)] == pairs


def test_sentence_order_inputs_layout() -> None:
    input_ids, token_type_ids = sentence_order_inputs([5, 6], [7], cls_id=2, sep_id=3)
    assert input_ids == [2, 5, 6, 3, 7, 3]
    assert token_type_ids == [0, 0, 0, 0, 1, 1]
