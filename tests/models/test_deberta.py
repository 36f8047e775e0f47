"""DeBERTa-v2 against transformers' DebertaV2 modules.

Oracles:
- relative positions: `build_relative_position` and `make_log_bucket_position` equal
  transformers' functions exactly (integer bucket ids) on random lengths, bucket sizes and
  maximal distances, and on every distance up to 3000 for a grid of 600 (bucket size, max
  distance) pairs;
- attention: transformers' DebertaV2Attention (disentangled self-attention + output block) on
  small random configs (hidden 64, 4 heads; 256 log buckets with shared keys, no buckets with
  separate position projections, few buckets so that distances are clipped, c2p or p2c alone),
  with and without padding, gives the same outputs (atol 1e-5) and the same gradients of every
  parameter, the input and the relative table (atol 1e-5) with weights copied by name;
- layer: transformers' DebertaV2Layer, likewise (values and gradients, atol 1e-5);
- model: transformers' DebertaV2Model (a v3-like and a v2-like config) with its state_dict
  loaded strictly into ours gives the same hidden states of every layer (atol 1e-5, float32)
  and the same gradients of every parameter (atol 1e-5, float64), with padding; a folder
  written by transformers' save_pretrained (a masked-LM model) loads with from_pretrained
  and gives transformers' hidden states;
- queries from elsewhere (query_states, the enhanced mask decoder's way in): transformers'
  DebertaV2Layer given query_states, values and gradients (atol 1e-5);
- masked LM: transformers' DebertaV2ForMaskedLM (legacy head, no EMD) gives the same logits,
  loss and gradients with the state_dict copied (float64, atol 1e-6).

transformers has no enhanced mask decoder (its DebertaV2Model.z_steps path does not run in
this version), so the EMD is tested by its definition and its properties: built from
transformers' own layer and head (the last layer run twice with query_states, first H + P),
it gives our logits and gradients; with P = 0 and one pass it is the encoder's last layer; the
encoder alone does not see absolute positions (left padding leaves the real tokens' outputs
unchanged), the EMD does; and the two position terms equal their definition written as loops.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import DebertaV2Config as HFConfig
from transformers.models.deberta_v2 import modeling_deberta_v2 as hf

from groundup.models.deberta import (
    DebertaV2Attention,
    DebertaV2Config,
    DebertaV2ForMaskedLM,
    DebertaV2Layer,
    DebertaV2Model,
    build_relative_position,
    content_to_position,
    make_log_bucket_position,
    pair_mask,
    position_to_content,
)

ATOL = 1e-5

# ---------------------------------------------------------------- relative positions


@settings(max_examples=40, deadline=None)
@given(
    query_size=st.integers(1, 700),
    key_size=st.integers(1, 700),
    bucket_size=st.sampled_from([-1, 0, 4, 8, 32, 256]),
    extra=st.integers(0, 600),
)
def test_matches_transformers_build_relative_position(
    query_size: int, key_size: int, bucket_size: int, extra: int
) -> None:
    max_position = max(bucket_size, 2) + extra  # the reference needs max_position - 1 > mid
    ours = build_relative_position(query_size, key_size, bucket_size, max_position)
    theirs = hf.build_relative_position(
        torch.empty(query_size, 1), torch.empty(key_size, 1), bucket_size, max_position
    )
    assert ours.dtype == theirs.dtype == torch.long
    assert torch.equal(ours, theirs)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    bucket_size=st.sampled_from([4, 6, 16, 64, 256]),
    extra=st.integers(1, 1000),
)
def test_matches_transformers_make_log_bucket_position(
    seed: int, bucket_size: int, extra: int
) -> None:
    generator = torch.Generator().manual_seed(seed)
    max_position = bucket_size + extra
    relative = torch.randint(-3 * max_position, 3 * max_position, (500,), generator=generator)
    ours = make_log_bucket_position(relative, bucket_size, max_position)
    theirs = hf.make_log_bucket_position(relative, bucket_size, max_position)
    assert torch.equal(ours, theirs)


def test_matches_transformers_log_buckets_on_a_grid() -> None:
    """Every distance up to 3000 for many (bucket size, max distance) pairs: some of them, such
    as (8, 15) and (6, 27), put a float32 log ratio right at a ceil boundary."""
    distances = torch.arange(-3000, 3001)
    for bucket_size in (4, 6, 8, 16, 64, 256):
        for max_position in [*range(bucket_size, bucket_size + 100), 512, 1024]:
            ours = make_log_bucket_position(distances, bucket_size, max_position)
            theirs = hf.make_log_bucket_position(distances, bucket_size, max_position)
            assert torch.equal(ours, theirs), (bucket_size, max_position)


def test_log_buckets_are_symmetric_monotone_and_exact_up_to_half() -> None:
    distances = torch.arange(0, 2000)
    buckets = make_log_bucket_position(distances, 256, 512)
    assert torch.equal(buckets[:129], distances[:129].float())  # near: one id per distance
    assert torch.all(buckets.diff() >= 0)  # far: wider and wider buckets, never backwards
    assert buckets[511] <= 255  # max_position - 1 still fits the table
    assert torch.equal(make_log_bucket_position(-distances, 256, 512), -buckets)


# ---------------------------------------------------------------- attention

ATTENTION_CONFIGS = {
    "v3_shared_256_buckets": dict(
        position_buckets=256, max_relative_positions=512, share_att_key=True, pos_att_type="p2c|c2p"
    ),
    "v2_no_buckets_own_projections": dict(
        position_buckets=0, max_relative_positions=16, share_att_key=False, pos_att_type="c2p|p2c"
    ),
    "few_buckets_clipped": dict(
        position_buckets=8, max_relative_positions=24, share_att_key=False, pos_att_type="c2p|p2c"
    ),
    "c2p_only": dict(
        position_buckets=16, max_relative_positions=64, share_att_key=False, pos_att_type="c2p"
    ),
    "p2c_only_shared": dict(
        position_buckets=0, max_relative_positions=-1, share_att_key=True, pos_att_type="p2c"
    ),
    # No relative attention: the scale still counts the listed terms, as in the reference.
    "no_relative_attention": dict(relative_attention=False, pos_att_type="c2p|p2c"),
}


def hf_config(**overrides: object) -> HFConfig:
    base = dict(
        vocab_size=50,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=96,
        max_position_embeddings=48,
        relative_attention=True,
        layer_norm_eps=1e-7,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return HFConfig(**{**base, **overrides})


def random_mask(batch: int, length: int, padded: bool, generator: torch.Generator) -> torch.Tensor:
    mask = torch.ones(batch, length, dtype=torch.long)
    if padded:
        for b, real in enumerate(torch.randint(1, length, (batch,), generator=generator)):
            mask[b, real:] = 0
    return mask


def grads(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.grad for name, p in module.named_parameters()}


@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
@pytest.mark.parametrize("name", list(ATTENTION_CONFIGS))
def test_matches_transformers_disentangled_attention(name: str, padded: bool) -> None:
    torch.manual_seed(0)
    config = hf_config(**ATTENTION_CONFIGS[name])
    theirs = hf.DebertaV2Attention(config).eval()
    ours = DebertaV2Attention(DebertaV2Config.from_dict(config.to_dict())).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)

    generator = torch.Generator().manual_seed(1)
    B, T = 3, 40  # T > 2 * buckets in "few_buckets_clipped": distances get clipped
    span = ours.self.span
    x = torch.randn(B, T, 64, generator=generator)
    table = torch.randn(2 * span + 5, 64, generator=generator)  # rows past 2 * span unused
    mask = random_mask(B, T, padded, generator)
    cfg = DebertaV2Config.from_dict(config.to_dict())
    relative_pos = build_relative_position(T, T, cfg.position_buckets, cfg.max_distance)
    weight = torch.randn(B, T, 64, generator=generator)

    results = []
    for module, is_ours in ((ours, True), (theirs, False)):
        x_in, table_in = x.clone().requires_grad_(), table.clone().requires_grad_()
        if is_ours:
            out = module(x_in, pair_mask(mask), relative_pos, table_in)
        else:
            hf_mask = (mask[:, None, None, :] * mask[:, None, :, None]).bool()
            out, _ = module(x_in, hf_mask, relative_pos=relative_pos, rel_embeddings=table_in)
        (out * weight).sum().backward()
        results.append((out, x_in.grad, table_in.grad, grads(module)))

    (out, gx, gt, gp), (ref, ref_gx, ref_gt, ref_gp) = results
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=0)
    torch.testing.assert_close(gx, ref_gx, atol=ATOL, rtol=0)
    if gt is None or ref_gt is None:  # without relative attention the table is unused
        assert gt is None and ref_gt is None and name == "no_relative_attention"
    else:
        torch.testing.assert_close(gt, ref_gt, atol=ATOL, rtol=0)
    assert gp.keys() == ref_gp.keys()
    for key in gp:
        torch.testing.assert_close(gp[key], ref_gp[key], atol=ATOL, rtol=0, msg=key)


def paired_layers(name: str) -> tuple[torch.nn.Module, DebertaV2Layer, DebertaV2Config]:
    """transformers' DebertaV2Layer and ours with the same random weights."""
    torch.manual_seed(0)
    config = hf_config(**ATTENTION_CONFIGS[name])
    theirs = hf.DebertaV2Layer(config).eval()
    cfg = DebertaV2Config.from_dict(config.to_dict())
    ours = DebertaV2Layer(cfg).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs, ours, cfg


@pytest.mark.parametrize("name", ["v3_shared_256_buckets", "few_buckets_clipped"])
def test_matches_transformers_encoder_layer(name: str) -> None:
    theirs, ours, cfg = paired_layers(name)
    generator = torch.Generator().manual_seed(3)
    B, T = 2, 33
    x = torch.randn(B, T, 64, generator=generator)
    table = torch.randn(2 * cfg.span, 64, generator=generator)
    mask = random_mask(B, T, True, generator)
    relative_pos = build_relative_position(T, T, cfg.position_buckets, cfg.max_distance)
    weight = torch.randn(B, T, 64, generator=generator)
    out = ours(x, pair_mask(mask), relative_pos, table)
    hf_mask = (mask[:, None, None, :] * mask[:, None, :, None]).bool()
    ref, _ = theirs(x, hf_mask, relative_pos=relative_pos, rel_embeddings=table)
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=0)
    (out * weight).sum().backward()
    (ref * weight).sum().backward()
    ref_grads = grads(theirs)
    for key, grad in grads(ours).items():
        torch.testing.assert_close(grad, ref_grads[key], atol=ATOL, rtol=0, msg=key)


def test_scale_counts_the_position_terms() -> None:
    """Same weights: with both position terms the content score is divided by sqrt(3d), so
    zeroing the relative table must not give the plain sqrt(d) attention."""
    torch.manual_seed(0)
    config = DebertaV2Config(
        vocab_size=10, hidden_size=16, num_attention_heads=2, position_buckets=4, share_att_key=True
    )
    attention = DebertaV2Attention(config).self.eval()
    x = torch.randn(1, 5, 16)
    relative_pos = build_relative_position(5, 5, 4, config.max_distance)
    mask = pair_mask(torch.ones(1, 5))
    # With a zero table the position terms are the bias projections only; remove them too.
    with torch.no_grad():
        attention.query_proj.bias.zero_()
        attention.key_proj.bias.zero_()
    out = attention(x, mask, relative_pos, torch.zeros(8, 16))
    q, k, v = (
        attention.split_heads(p(x))
        for p in (attention.query_proj, attention.key_proj, attention.value_proj)
    )
    expected = torch.softmax(q @ k.transpose(-1, -2) / (8 * 3) ** 0.5, -1) @ v
    torch.testing.assert_close(out, expected.transpose(1, 2).reshape(1, 5, 16), atol=1e-6, rtol=0)


# ---------------------------------------------------------------- the model

MODEL_CONFIGS = {
    "v3_like": dict(
        position_buckets=256,
        max_relative_positions=-1,
        share_att_key=True,
        pos_att_type="p2c|c2p",
        norm_rel_ebd="layer_norm",
        position_biased_input=False,
        type_vocab_size=0,
    ),
    "v2_like": dict(
        position_buckets=0,
        max_relative_positions=20,
        share_att_key=False,
        pos_att_type="c2p|p2c",
        position_biased_input=True,
        type_vocab_size=2,
        embedding_size=32,
    ),
}


@pytest.mark.parametrize("name", list(MODEL_CONFIGS))
def test_matches_transformers_deberta_v2_model(name: str) -> None:
    torch.manual_seed(0)
    config = hf_config(**MODEL_CONFIGS[name])
    theirs = hf.DebertaV2Model(config).eval()
    ours = DebertaV2Model(DebertaV2Config.from_dict(config.to_dict())).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)

    generator = torch.Generator().manual_seed(2)
    B, T = 3, 30
    input_ids = torch.randint(1, 50, (B, T), generator=generator)
    mask = random_mask(B, T, True, generator)
    input_ids = input_ids * mask  # padding id 0 at padded places
    token_types = torch.randint(0, max(config.type_vocab_size, 1), (B, T), generator=generator)
    weight = torch.randn(B, T, 64, generator=generator)

    out = ours(input_ids, mask, token_types)
    ref = theirs(input_ids, mask, token_types, output_hidden_states=True)
    assert len(out.hidden_states) == len(ref.hidden_states) == 3
    for mine, expected in zip(out.hidden_states, ref.hidden_states, strict=True):
        torch.testing.assert_close(mine, expected, atol=ATOL, rtol=0)
    # Gradients reach the hundreds here (post-LN with eps 1e-7): float32 rounding alone would
    # exceed an absolute 1e-5, so the gradients are compared in float64.
    ours.double(), theirs.double()
    out = ours(input_ids, mask, token_types).last_hidden_state
    ref = theirs(input_ids, mask, token_types).last_hidden_state
    (out * weight.double()).sum().backward()
    (ref * weight.double()).sum().backward()
    ref_grads = grads(theirs)
    for key, grad in grads(ours).items():
        torch.testing.assert_close(grad, ref_grads[key], atol=ATOL, rtol=0, msg=key)


def test_real_tokens_ignore_the_padding() -> None:
    torch.manual_seed(0)
    model = DebertaV2Model(
        DebertaV2Config(
            vocab_size=30,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=48,
            position_buckets=8,
        )
    ).eval()
    ids = torch.randint(1, 30, (1, 12))
    mask = torch.ones(1, 12, dtype=torch.long)
    mask[:, 7:] = 0
    other = ids.clone()
    other[:, 7:] = torch.randint(1, 30, (1, 5))
    a = model(ids, mask).last_hidden_state[:, :7]
    b = model(other, mask).last_hidden_state[:, :7]
    torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
    short = model(ids[:, :7]).last_hidden_state
    torch.testing.assert_close(a, short, atol=1e-5, rtol=0)


def test_from_pretrained_reads_a_transformers_folder(tmp_path) -> None:
    """A task model's folder (weights under "deberta.", plus a head) saved by transformers."""
    torch.manual_seed(0)
    config = hf_config(**MODEL_CONFIGS["v3_like"])
    theirs = hf.DebertaV2ForMaskedLM(config).eval()
    theirs.save_pretrained(tmp_path)
    ours = DebertaV2Model.from_pretrained(tmp_path)
    ids = torch.randint(1, 50, (2, 9))
    expected = theirs.deberta(ids).last_hidden_state
    torch.testing.assert_close(ours(ids).last_hidden_state, expected, atol=ATOL, rtol=0)


def test_from_dict_refuses_the_convolution_layer() -> None:
    with pytest.raises(ValueError, match="convolution"):
        DebertaV2Config.from_dict({"conv_kernel_size": 3})


# ---------------------------------------------------------------- the position terms


def test_position_terms_equal_their_definition() -> None:
    """c2p[i, j] = q_i . Kr[clip(i - j) + span] and p2c[i, j] = k_j . Qr[clip(i - j) + span],
    written as loops, on plain distances long enough to be clipped."""
    generator = torch.Generator().manual_seed(5)
    T, span, d = 11, 4, 6
    q, k = torch.randn(2, T, d, generator=generator), torch.randn(2, T, d, generator=generator)
    pos_key = torch.randn(2, 2 * span, d, generator=generator)
    pos_query = torch.randn(2, 2 * span, d, generator=generator)
    relative_pos = build_relative_position(T, T)
    c2p = content_to_position(q, pos_key, relative_pos)
    p2c = position_to_content(k, pos_query, relative_pos)
    for i in range(T):
        for j in range(T):
            row = min(max(i - j + span, 0), 2 * span - 1)
            torch.testing.assert_close(c2p[:, i, j], (q[:, i] * pos_key[:, row]).sum(-1))
            torch.testing.assert_close(p2c[:, i, j], (k[:, j] * pos_query[:, row]).sum(-1))


# ---------------------------------------------------------------- queries from elsewhere


@pytest.mark.parametrize("name", ["v3_shared_256_buckets", "few_buckets_clipped"])
def test_matches_transformers_layer_with_query_states(name: str) -> None:
    theirs, ours, cfg = paired_layers(name)
    generator = torch.Generator().manual_seed(4)
    B, T = 2, 21
    x = torch.randn(B, T, 64, generator=generator)
    query = torch.randn(B, T, 64, generator=generator)
    table = torch.randn(2 * cfg.span, 64, generator=generator)
    mask = random_mask(B, T, True, generator)
    relative_pos = build_relative_position(T, T, cfg.position_buckets, cfg.max_distance)
    weight = torch.randn(B, T, 64, generator=generator)
    inputs = []
    for module, is_ours in ((ours, True), (theirs, False)):
        x_in, q_in = x.clone().requires_grad_(), query.clone().requires_grad_()
        if is_ours:
            out = module(x_in, pair_mask(mask), relative_pos, table, query_states=q_in)
        else:
            hf_mask = (mask[:, None, None, :] * mask[:, None, :, None]).bool()
            out, _ = module(
                x_in, hf_mask, query_states=q_in, relative_pos=relative_pos, rel_embeddings=table
            )
        (out * weight).sum().backward()
        inputs.append((out, x_in.grad, q_in.grad))
    for mine, expected in zip(*inputs, strict=True):
        torch.testing.assert_close(mine, expected, atol=ATOL, rtol=0)
    ref_grads = grads(theirs)
    for key, grad in grads(ours).items():
        torch.testing.assert_close(grad, ref_grads[key], atol=ATOL, rtol=0, msg=key)


# ---------------------------------------------------------------- masked LM and the EMD


def mlm_pair(emd: bool) -> tuple[DebertaV2ForMaskedLM, torch.nn.Module]:
    """Ours and transformers' DebertaV2ForMaskedLM with the same weights, in float64."""
    torch.manual_seed(0)
    config = hf_config(**{**MODEL_CONFIGS["v3_like"], "position_buckets": 8})
    theirs = hf.DebertaV2ForMaskedLM(config).double().eval()
    ours = DebertaV2ForMaskedLM(DebertaV2Config.from_dict(config.to_dict()), emd=emd)
    state = {k: v for k, v in theirs.state_dict().items() if k != "cls.predictions.decoder.bias"}
    if emd:
        positions = torch.randn(config.max_position_embeddings, 64, dtype=torch.float64)
        state["emd.position_embeddings.weight"] = positions
    ours.double().eval().load_state_dict(state, strict=True)
    return ours, theirs


def mlm_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(6)
    B, T = 3, 19
    mask = random_mask(B, T, True, generator)
    ids = torch.randint(1, 50, (B, T), generator=generator) * mask
    labels = torch.where(torch.rand(B, T, generator=generator) < 0.3, ids, -100)
    labels[mask == 0] = -100
    labels[:, 0] = ids[:, 0]  # at least one target per row
    return ids, mask, labels


def test_matches_transformers_masked_lm() -> None:
    ours, theirs = mlm_pair(emd=False)
    ids, mask, labels = mlm_batch()
    out = ours(ids, mask, labels=labels)
    ref = theirs(ids, attention_mask=mask, labels=labels)
    torch.testing.assert_close(out.logits, ref.logits, atol=1e-6, rtol=0)
    torch.testing.assert_close(out.loss, ref.loss, atol=1e-6, rtol=0)
    out.loss.backward()
    ref.loss.backward()
    ref_grads = grads(theirs)
    for key, grad in grads(ours).items():
        torch.testing.assert_close(grad, ref_grads[key], atol=1e-6, rtol=0, msg=key)


def test_emd_is_transformers_last_layer_run_twice_on_h_plus_p() -> None:
    """The definition, built from transformers' modules: H = input of the last layer,
    out = layer(H, queries=layer(H, queries=H + P)), then the MLM head."""
    ours, theirs = mlm_pair(emd=True)
    ids, mask, labels = mlm_batch()
    T = ids.shape[1]
    out = ours(ids, mask, labels=labels)

    states = theirs.deberta(ids, attention_mask=mask, output_hidden_states=True).hidden_states
    encoder = theirs.deberta.encoder
    hf_mask = encoder.get_attention_mask(mask)
    relative_pos = encoder.get_rel_pos(states[-2])
    table = encoder.get_rel_embedding()
    query = states[-2] + ours.emd.position_embeddings.weight[:T]
    for _ in range(2):
        query, _ = encoder.layer[-1](
            states[-2],
            hf_mask,
            query_states=query,
            relative_pos=relative_pos,
            rel_embeddings=table,
        )
    logits = theirs.cls(query)
    loss = torch.nn.functional.cross_entropy(logits.view(-1, 50), labels.view(-1))
    torch.testing.assert_close(out.logits, logits, atol=1e-6, rtol=0)
    out.loss.backward()
    loss.backward()
    ref_grads = grads(theirs)
    for key, grad in grads(ours).items():
        if key.startswith("emd."):
            assert grad is not None and grad[:T].abs().sum() > 0 and grad[T:].abs().sum() == 0
        else:
            torch.testing.assert_close(grad, ref_grads[key], atol=1e-6, rtol=0, msg=key)


def small_mlm(emd: bool) -> DebertaV2ForMaskedLM:
    torch.manual_seed(1)
    config = DebertaV2Config(
        vocab_size=40,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=48,
        max_position_embeddings=32,
        position_buckets=8,
        max_relative_positions=16,
    )
    return DebertaV2ForMaskedLM(config, emd=emd).eval()


def test_emd_with_zero_positions_and_one_pass_is_the_last_layer() -> None:
    model = small_mlm(emd=True)
    model.emd.passes = 1
    with torch.no_grad():
        model.emd.position_embeddings.weight.zero_()
    ids = torch.randint(1, 40, (2, 12))
    decoded, states = model.encode(ids)
    torch.testing.assert_close(decoded, states[-1], atol=1e-6, rtol=0)


def test_only_the_emd_sees_absolute_positions() -> None:
    """Left padding moves every real token 5 places to the right. Relative positions and the
    pair mask make the encoder blind to that; the EMD's absolute table is not."""
    ids = torch.randint(1, 40, (1, 10), generator=torch.Generator().manual_seed(2))
    padded = torch.cat([torch.zeros(1, 5, dtype=torch.long), ids], dim=1)
    mask = torch.cat([torch.zeros(1, 5, dtype=torch.long), torch.ones(1, 10, dtype=torch.long)], 1)
    for emd, blind in ((False, True), (True, False)):
        model = small_mlm(emd)
        with torch.no_grad():
            plain = model(ids).logits
            shifted = model(padded, mask).logits[:, 5:]
        assert torch.allclose(plain, shifted, atol=1e-5) is blind, emd
