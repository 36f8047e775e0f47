"""The Llama model: pieces against transformers' modules, whole model against LlamaForCausalLM
(both directions through save/load folders), GQA variants, and the KV cache contract."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from groundup.models.kv_cache import KVCache
from groundup.models.llama import MLP, Llama, LlamaConfig, RMSNorm, repeat_kv

SMALL = dict(vocab_size=37, hidden_size=64, intermediate_size=96, n_layer=2, n_head=4, n_kv_head=2)


def small_llama(seed: int = 0, **overrides: object) -> Llama:
    torch.manual_seed(seed)
    return Llama(LlamaConfig(**{**SMALL, **overrides}))


def random_ids(shape: tuple[int, int], vocab: int = SMALL["vocab_size"], seed: int = 1):
    return torch.randint(0, vocab, shape, generator=torch.Generator().manual_seed(seed))


def randomise(model: nn.Module, seed: int = 0) -> None:
    """Weights larger than the 0.02 init and norm scales off 1, so logits are O(1) and a
    wrong piece anywhere changes them visibly."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or "layernorm" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=generator))


def hf_llama(seed: int = 0, **overrides: object):
    """A small random transformers LlamaForCausalLM (eager attention) with our SMALL sizes."""
    from transformers import LlamaConfig as HFConfig
    from transformers import LlamaForCausalLM

    c = {**SMALL, **overrides}
    config = HFConfig(
        vocab_size=c["vocab_size"],
        hidden_size=c["hidden_size"],
        intermediate_size=c["intermediate_size"],
        num_hidden_layers=c["n_layer"],
        num_attention_heads=c["n_head"],
        num_key_value_heads=c["n_kv_head"],
        max_position_embeddings=128,
        rope_theta=c.get("rope_theta", 10000.0),
        rms_norm_eps=1e-6,
        tie_word_embeddings=c.get("tie_word_embeddings", False),
        bos_token_id=None,
        eos_token_id=None,
        pad_token_id=None,
        attn_implementation="eager",
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    randomise(model, seed)
    return model


# ---------------------------------------------------------------- config and shapes


def test_config_defaults_and_validation():
    assert LlamaConfig(vocab_size=10, n_head=4).n_kv_head == 4  # None -> multi-head
    with pytest.raises(ValueError, match="divide n_head"):
        LlamaConfig(vocab_size=10, n_head=4, n_kv_head=3)
    with pytest.raises(ValueError, match="divisible"):
        LlamaConfig(vocab_size=10, hidden_size=30, n_head=4)
    with pytest.raises(ValueError, match="even"):
        LlamaConfig(vocab_size=10, hidden_size=12, n_head=4)  # head_dim 3


def test_forward_backward_shapes_and_loss_at_init():
    model = small_llama()
    idx, targets = random_ids((3, 20)), random_ids((3, 20), seed=2)
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 20, SMALL["vocab_size"])
    # N(0, 0.02) weights: near-uniform prediction, loss within 0.05 nats of ln V.
    assert abs(loss.item() - math.log(SMALL["vocab_size"])) < 0.05
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert model(idx)[1] is None
    last, _ = model(idx, last_only=True)
    torch.testing.assert_close(last, logits[:, -1:], atol=1e-6, rtol=1e-6)
    with pytest.raises(ValueError, match="last_only"):
        model(idx, targets, last_only=True)


def test_is_causal():
    model = small_llama()
    randomise(model)
    idx = random_ids((2, 16))
    changed = idx.clone()
    changed[:, 9] = (changed[:, 9] + 1) % SMALL["vocab_size"]
    before, after = model(idx)[0], model(changed)[0]
    torch.testing.assert_close(before[:, :9], after[:, :9], rtol=0, atol=0)
    assert not torch.allclose(before[:, 9:], after[:, 9:])


def test_no_biases_and_gqa_shrinks_key_value_projections():
    model = small_llama(n_kv_head=1)
    assert all(not name.endswith("bias") for name, _ in model.named_parameters())
    attn = model.model.layers[0].self_attn
    assert attn.q_proj.weight.shape == (64, 64)
    assert attn.k_proj.weight.shape == attn.v_proj.weight.shape == (16, 64)  # one head of 16


def test_tied_embeddings_are_one_tensor():
    tied, untied = small_llama(tie_word_embeddings=True), small_llama()
    assert tied.lm_head.weight is tied.model.embed_tokens.weight
    assert untied.num_params() - tied.num_params() == SMALL["vocab_size"] * SMALL["hidden_size"]


# ---------------------------------------------------------------- pieces against transformers


def test_matches_transformers_rmsnorm_and_torch_rmsnorm_values_and_gradients():
    # Tolerance: the same float32 formula -> atol 1e-6.
    from transformers.models.llama.modeling_llama import LlamaRMSNorm

    ours, theirs, torch_norm = (
        RMSNorm(24, eps=1e-5),
        LlamaRMSNorm(24, eps=1e-5),
        nn.RMSNorm(24, 1e-5),
    )
    with torch.no_grad():
        ours.weight.copy_(torch.randn(24))
        theirs.weight.copy_(ours.weight)
        torch_norm.weight.copy_(ours.weight)
    x = (3 * torch.randn(5, 7, 24)).requires_grad_()
    upstream = torch.randn(5, 7, 24)
    grads = []
    for module in (ours, theirs, torch_norm):
        x.grad = None
        out = module(x)
        (out * upstream).sum().backward()
        grads.append((out.detach(), x.grad.clone(), module.weight.grad.clone()))
    for other in grads[1:]:
        for a, b in zip(grads[0], other, strict=True):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_matches_transformers_repeat_kv():
    from transformers.models.llama.modeling_llama import repeat_kv as hf_repeat_kv

    x = torch.randn(2, 3, 5, 8)
    for n_rep in (1, 2, 4):
        torch.testing.assert_close(repeat_kv(x, n_rep), hf_repeat_kv(x, n_rep), rtol=0, atol=0)
        torch.testing.assert_close(repeat_kv(x, n_rep), x.repeat_interleave(n_rep, dim=1))


def test_matches_transformers_swiglu_mlp_values_and_gradients():
    # Tolerance: same matmuls -> atol 1e-6.
    from transformers import LlamaConfig as HFConfig
    from transformers.models.llama.modeling_llama import LlamaMLP

    ours = MLP(LlamaConfig(vocab_size=5, hidden_size=16, intermediate_size=40, n_head=2))
    hf_config = HFConfig(hidden_size=16, intermediate_size=40, num_attention_heads=2)
    theirs = LlamaMLP(hf_config)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(3, 4, 16)
    out, out_ref = ours(x), theirs(x)
    torch.testing.assert_close(out, out_ref, atol=1e-6, rtol=1e-5)
    out.square().sum().backward()
    out_ref.square().sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, atol=1e-6, rtol=1e-5, msg=name)


# ---------------------------------------------------------------- whole model, both directions

VARIANTS = [
    pytest.param(dict(n_kv_head=2), id="gqa"),
    pytest.param(dict(n_kv_head=1), id="multi-query"),
    pytest.param(dict(n_kv_head=4, tie_word_embeddings=True), id="mha-tied"),
    pytest.param(dict(n_kv_head=2, rope_theta=500000.0), id="rope-theta-500k"),
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_matches_transformers_llama_loaded_from_its_folder(tmp_path, variant):
    # transformers writes the folder, we load it: logits atol 1e-5, gradients atol 1e-5.
    hf = hf_llama(seed=3, **variant)
    hf.save_pretrained(tmp_path)
    assert "groundup" not in json.loads((tmp_path / "config.json").read_text())
    ours = Llama.from_pretrained(tmp_path)
    assert ours.config.n_kv_head == variant["n_kv_head"]
    assert ours.config.rope_theta == variant.get("rope_theta", 10000.0)
    assert ours.config.tie_word_embeddings == variant.get("tie_word_embeddings", False)
    idx, targets = random_ids((2, 24), seed=4), random_ids((2, 24), seed=5)
    logits, loss = ours(idx, targets)
    out = hf(input_ids=idx, labels=None)
    assert logits.abs().mean() > 0.3  # large enough that atol 1e-5 means something
    torch.testing.assert_close(logits, out.logits, atol=1e-5, rtol=1e-5)
    hf_loss = nn.functional.cross_entropy(out.logits.flatten(0, 1), targets.flatten())
    torch.testing.assert_close(loss, hf_loss, atol=1e-6, rtol=1e-6)
    loss.backward()
    hf_loss.backward()
    hf_params = dict(hf.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, hf_params[name].grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("variant", VARIANTS[1:3])
def test_saved_folder_opens_in_transformers(tmp_path, variant):
    from transformers import LlamaForCausalLM

    ours = small_llama(seed=6, **variant)
    randomise(ours, seed=6)
    ours.save_pretrained(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"config.json", "model.safetensors"}
    hf = LlamaForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
    assert hf.config.num_key_value_heads == variant["n_kv_head"]
    idx = random_ids((2, 24), seed=7)
    torch.testing.assert_close(hf(input_ids=idx).logits, ours(idx)[0], atol=1e-5, rtol=1e-5)
    # and back: our own folder round-trips exactly, tying included
    loaded = Llama.from_pretrained(tmp_path)
    assert loaded.config == ours.config
    assert (
        loaded.lm_head.weight is loaded.model.embed_tokens.weight
    ) == ours.config.tie_word_embeddings
    torch.testing.assert_close(loaded(idx)[0], ours(idx)[0], rtol=0, atol=0)


def test_loads_a_sharded_checkpoint_in_bfloat16(tmp_path):
    # Hub checkpoints: several safetensors files listed in an index, weights in bfloat16.
    hf = hf_llama(seed=15).to(torch.bfloat16)
    hf.save_pretrained(tmp_path, max_shard_size="40KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    assert len(list(tmp_path.glob("model-*.safetensors"))) > 1
    ours = Llama.from_pretrained(tmp_path)
    assert ours.lm_head.weight.dtype == torch.float32
    # transformers' reference: the same bfloat16-rounded weights, loaded in float32 (casting
    # `hf` back would keep its rotary frequencies rounded to bfloat16)
    from transformers import LlamaForCausalLM

    hf32 = LlamaForCausalLM.from_pretrained(
        tmp_path, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    assert hf32.lm_head.weight.dtype == torch.float32
    idx = random_ids((2, 10), seed=16)
    torch.testing.assert_close(ours(idx)[0], hf32(input_ids=idx).logits, atol=1e-5, rtol=1e-5)


def test_refuses_settings_it_does_not_build(tmp_path):
    hf = hf_llama(seed=0)
    hf.config.mlp_bias = True
    hf.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="mlp_bias"):
        Llama.from_pretrained(tmp_path)


# ---------------------------------------------------------------- KV cache contract


def decode_step_by_step(model: Llama, idx: torch.Tensor, mask: torch.Tensor | None, prefill: int):
    """Logits of a prefill of `prefill` tokens, then one token per forward through a cache."""
    cache = KVCache()
    pieces = [
        model(
            idx[:, :prefill],
            attention_mask=None if mask is None else mask[:, :prefill],
            cache=cache,
        )[0]
    ]
    for t in range(prefill, idx.shape[1]):
        step_mask = None if mask is None else mask[:, : t + 1]
        pieces.append(model(idx[:, t : t + 1], attention_mask=step_mask, cache=cache)[0])
    return torch.cat(pieces, dim=1), cache


@pytest.mark.parametrize("n_kv_head", [1, 2, 4])
def test_cached_decoding_equals_the_uncached_forward(n_kv_head):
    # Tolerance: the same sums in another grouping -> atol 1e-5.
    model = small_llama(seed=8, n_kv_head=n_kv_head).eval()
    randomise(model, seed=8)
    idx = random_ids((2, 14), seed=9)
    with torch.no_grad():
        full = model(idx)[0]
        stepped, cache = decode_step_by_step(model, idx, None, prefill=5)
    torch.testing.assert_close(stepped, full, atol=1e-5, rtol=1e-5)
    # the cache stores n_kv_head heads per layer (after RoPE, before repeat_kv)
    assert len(cache) == 14 and len(cache.keys) == SMALL["n_layer"]
    assert cache.keys[0].shape == (2, n_kv_head, 14, 16)


def test_left_padded_batch_matches_unpadded_rows_and_transformers():
    # Row 0 has 3 padding tokens on the left. Its real tokens must get the logits they get
    # alone (positions from the mask, padding keys hidden), with and without the cache, and
    # the logits of transformers given the same mask and mask-derived positions.
    hf = hf_llama(seed=10)
    model = small_llama(seed=10)
    model.load_state_dict(hf.state_dict())
    model.eval()
    idx = random_ids((2, 12), seed=11)
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[0, :3] = 0
    real = mask.bool()
    with torch.no_grad():
        padded = model(idx, attention_mask=mask)[0]
        alone = model(idx[:1, 3:])[0]
        stepped, _ = decode_step_by_step(model, idx, mask, prefill=6)
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        theirs = hf(input_ids=idx, attention_mask=mask, position_ids=position_ids).logits
    torch.testing.assert_close(padded[0, 3:], alone[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(padded[1], model(idx[1:])[0][0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(stepped[real], padded[real], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(padded[real], theirs[real], atol=1e-5, rtol=1e-5)


def test_greedy_generation_matches_transformers_generate_on_a_padded_batch():
    # generation.generate drives our model through the cache contract; transformers' generate
    # drives its own. Same weights, same left-padded prompts -> the same greedy tokens.
    from groundup.models.generation import generate

    hf = hf_llama(seed=12)
    model = small_llama(seed=12)
    model.load_state_dict(hf.state_dict())
    model.eval()
    idx = random_ids((2, 7), seed=13)
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, :3] = 0
    ours = generate(model, idx, mask, max_new_tokens=10, greedy=True)
    uncached = generate(model, idx, mask, max_new_tokens=10, greedy=True, use_cache=False)
    theirs = hf.generate(
        input_ids=idx,
        attention_mask=mask,
        max_new_tokens=10,
        do_sample=False,
        pad_token_id=0,
        eos_token_id=None,
    )
    assert torch.equal(ours, uncached)
    assert torch.equal(ours, theirs)
