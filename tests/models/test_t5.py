"""models/t5.py against transformers' T5ForConditionalGeneration (the oracle).

A small random T5 is written with transformers' save_pretrained and read with our
from_pretrained; logits, loss and gradients must agree to atol 1e-5 on padded batches, and
greedy decoding must produce the same tokens as transformers' generate(do_sample=False).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from groundup.models.t5 import T5, T5Config, T5LayerNorm, gelu_tanh
from groundup.text.span_corruption import compute_input_and_target_lengths, span_corrupt_batch

transformers = pytest.importorskip("transformers")

ATOL = 1e-5
# float32 logits of the unscaled (v1.1) head reach ~10, where one rounding step is ~1e-6.
RTOL = 1e-6
SMALL = dict(
    vocab_size=120,
    d_model=64,
    d_kv=16,
    d_ff=96,
    num_layers=2,
    num_decoder_layers=2,
    num_heads=4,
    relative_attention_num_buckets=32,
    relative_attention_max_distance=20,  # short, so the test lengths reach the log buckets
    decoder_start_token_id=0,
    pad_token_id=0,
    eos_token_id=1,
)


def reference_and_ours(tmp_path, **overrides) -> tuple[torch.nn.Module, T5]:
    torch.manual_seed(0)
    config = transformers.T5Config(**{**SMALL, **overrides})
    reference = transformers.T5ForConditionalGeneration(config).eval()
    reference.save_pretrained(tmp_path)
    return reference, T5.from_pretrained(tmp_path)


def padded_batch(vocab: int = 120, seed: int = 1) -> dict[str, torch.Tensor]:
    """Three sources of lengths 30, 17 and 5 and targets of lengths 12, 7 and 1 (-100 after)."""
    g = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(2, vocab, (3, 30), generator=g)
    attention_mask = torch.ones(3, 30, dtype=torch.long)
    for row, length in enumerate((30, 17, 5)):
        attention_mask[row, length:] = 0
    input_ids = input_ids.masked_fill(attention_mask == 0, 0)
    labels = torch.randint(2, vocab, (3, 12), generator=g)
    for row, length in enumerate((12, 7, 1)):
        labels[row, length:] = -100
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def test_layer_norm_is_rms_norm_without_mean_or_bias():
    norm = T5LayerNorm(8, eps=1e-6)
    x = torch.randn(4, 8) + 3.0  # a large mean: a mean-subtracting norm would differ
    expected = x / x.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()
    torch.testing.assert_close(norm(x), expected)
    assert [name for name, _ in norm.named_parameters()] == ["weight"]


def test_matches_transformers_gelu_new():
    x = torch.linspace(-6, 6, 101, dtype=torch.float64)
    expected = transformers.activations.ACT2FN["gelu_new"](x)
    torch.testing.assert_close(gelu_tanh(x), expected, atol=1e-12, rtol=0)


def test_parameter_names_and_sharing_follow_transformers(tmp_path):
    reference, ours = reference_and_ours(tmp_path)
    assert set(ours.state_dict()) == set(reference.state_dict())
    # One table for encoder input, decoder input and output; bias tables only in block 0.
    assert ours.encoder.embed_tokens.weight is ours.shared.weight
    assert ours.decoder.embed_tokens.weight is ours.shared.weight
    assert ours.lm_head.weight is ours.shared.weight
    assert not hasattr(ours.encoder.block[1].layer[0].SelfAttention, "relative_attention_bias")
    assert ours.num_params() == sum(p.numel() for p in reference.parameters())


@pytest.mark.parametrize(
    "overrides",
    [{}, {"feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}],
    ids=["t5-relu-tied-scaled", "v1.1-gated-gelu-unscaled"],
)
def test_matches_transformers_logits_loss_and_gradients(tmp_path, overrides):
    reference, ours = reference_and_ours(tmp_path, **overrides)
    assert ours.config.scale_decoder_outputs == (overrides.get("tie_word_embeddings", True))
    batch = padded_batch()
    # Both are in eval mode (no dropout); gradients flow all the same.
    expected = reference(**batch)
    got = ours(**batch)
    keep = batch["labels"] != -100  # logits at ignored targets are padding, yet still equal
    torch.testing.assert_close(got.logits, expected.logits, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(got.logits[keep], expected.logits[keep], atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(got.loss, expected.loss, atol=ATOL, rtol=RTOL)

    expected.loss.backward()
    got.loss.backward()
    theirs = dict(reference.named_parameters())
    compared = 0
    for name, parameter in ours.named_parameters():
        torch.testing.assert_close(parameter.grad, theirs[name].grad, atol=ATOL, rtol=1e-4)
        compared += 1
    assert compared == len(theirs)


def test_matches_transformers_with_explicit_decoder_inputs_and_padding(tmp_path):
    reference, ours = reference_and_ours(tmp_path)
    batch = padded_batch(seed=2)
    decoder_input_ids = torch.randint(2, 120, (3, 9))
    decoder_attention_mask = torch.ones(3, 9, dtype=torch.long)
    decoder_attention_mask[2, 4:] = 0
    kwargs = dict(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        decoder_input_ids=decoder_input_ids,
        decoder_attention_mask=decoder_attention_mask,
    )
    with torch.no_grad():
        expected = reference(**kwargs).logits
        got = ours(**kwargs).logits
    torch.testing.assert_close(got[:, :4], expected[:, :4], atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(got[:2], expected[:2], atol=ATOL, rtol=RTOL)


def test_padding_does_not_change_the_result(tmp_path):
    _, ours = reference_and_ours(tmp_path)
    batch = padded_batch()
    with torch.no_grad():
        full = ours(**batch).logits
        alone = ours(batch["input_ids"][1:2, :17], labels=batch["labels"][1:2]).logits
    torch.testing.assert_close(alone, full[1:2], atol=ATOL, rtol=RTOL)


def test_matches_transformers_greedy_generate(tmp_path):
    reference, ours = reference_and_ours(tmp_path)
    # A freshly initialised T5 repeats one token forever. Small embeddings and large layer
    # weights make the output depend on the input; EOS (id 1) as a scaled copy of token 60
    # ends row 1 early, so padding after EOS and stopping are tested as well.
    with torch.no_grad():
        for name, parameter in reference.named_parameters():
            if "layer_norm" not in name:
                parameter.mul_(0.05 if name == "shared.weight" else 3.0)
        reference.shared.weight[1] = reference.shared.weight[60] * 1.05
    ours.load_state_dict(reference.state_dict())
    batch = padded_batch(seed=3)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    expected = reference.generate(**inputs, do_sample=False, num_beams=1, max_new_tokens=12)
    got = ours.generate_greedy(**inputs, max_new_tokens=12)
    assert torch.equal(got, expected)
    assert torch.equal(ours.generate_greedy(**inputs, max_new_tokens=12, use_cache=False), got)
    assert got[1, 2] == 1 and (got[1, 3:] == 0).all()  # EOS, then padding
    assert len(set(got[:, 1].tolist())) == 3  # three different first tokens

    single = {name: tensor[1:2] for name, tensor in inputs.items()}
    expected = reference.generate(**single, do_sample=False, num_beams=1, max_new_tokens=12)
    got = ours.generate_greedy(**single, max_new_tokens=12)
    assert got.tolist() == expected.tolist() == [[0, 80, 1]]  # stops at EOS


def test_cached_decoding_step_by_step_equals_the_full_decoder(tmp_path):
    _, ours = reference_and_ours(tmp_path)
    batch = padded_batch(seed=5)
    decoder_input_ids = torch.randint(2, 120, (3, 25))  # longer than max_distance 20
    with torch.no_grad():
        encoder_states = ours.encode(batch["input_ids"], batch["attention_mask"])
        full = ours.decode(decoder_input_ids, encoder_states, batch["attention_mask"])
        cache = {}
        steps = [
            ours.decode(
                decoder_input_ids[:, t : t + 1],
                encoder_states,
                batch["attention_mask"],
                cache=cache,
                past_length=t,
            )
            for t in range(25)
        ]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=ATOL, rtol=RTOL)
    # One stored (keys, values) pair per decoder attention: self and cross in both blocks.
    assert len(cache) == 4
    self_keys, _ = cache[ours.decoder.block[1].layer[0].SelfAttention]
    assert self_keys.shape == (3, 4, 25, 16)


def test_save_pretrained_round_trips_through_transformers(tmp_path):
    torch.manual_seed(3)
    ours = T5(T5Config(**SMALL)).eval()
    ours.save_pretrained(tmp_path)
    reference = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path).eval()
    batch = padded_batch(seed=4)
    with torch.no_grad():
        torch.testing.assert_close(
            ours(**batch).logits, reference(**batch).logits, atol=ATOL, rtol=0
        )


def test_init_scales_fold_the_square_root_into_q():
    torch.manual_seed(0)
    config = T5Config(vocab_size=50, d_model=256, d_kv=64, d_ff=512, num_layers=1, num_heads=4)
    model = T5(config)
    attention = model.encoder.block[0].layer[0].SelfAttention
    assert attention.q.weight.std().item() == pytest.approx((256 * 64) ** -0.5, rel=0.05)
    assert attention.k.weight.std().item() == pytest.approx(256**-0.5, rel=0.05)
    assert model.shared.weight.std().item() == pytest.approx(1.0, rel=0.05)


def test_learns_span_corruption_from_scratch():
    """A tiny T5 trained for 30 steps on span-corrupted arithmetic sequences fills in the
    spans far better than token frequencies alone allow (uniform guessing: ln 64 = 4.16)."""
    torch.manual_seed(0)
    vocab = 64  # ids 2..41 are tokens, the top ones serve as sentinels
    config = T5Config(
        vocab_size=vocab, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4, dropout_rate=0.0
    )
    model = T5(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    tokens_length, targets_length = compute_input_and_target_lengths(24)
    losses = []
    for _ in range(30):
        starts, strides = rng.integers(2, 40, (16, 1)), rng.integers(1, 3, (16, 1))
        tokens = 2 + (starts + strides * np.arange(tokens_length)) % 40
        batch = span_corrupt_batch(tokens, vocab, rng=rng)
        assert batch["labels"].shape == (16, targets_length)
        loss = model(
            torch.as_tensor(batch["input_ids"]), labels=torch.as_tensor(batch["labels"])
        ).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 4.0
    assert np.mean(losses[-5:]) < 2.3
