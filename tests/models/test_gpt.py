"""The GPT model: shapes, loss at init, causality, tied weights, oracles, save/load."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from groundup.models.gpt import GPT, Block, GPTConfig

SMALL = dict(vocab_size=29, block_size=16, n_layer=2, n_head=4, n_embd=32)


def small_gpt(seed: int = 0, **overrides: object) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(**{**SMALL, **overrides}))


def random_ids(shape: tuple[int, int], vocab: int = SMALL["vocab_size"], seed: int = 1):
    return torch.randint(0, vocab, shape, generator=torch.Generator().manual_seed(seed))


def test_forward_backward_smoke():
    model = small_gpt(dropout=0.1)
    idx, targets = random_ids((3, 16)), random_ids((3, 16), seed=2)
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 16, SMALL["vocab_size"])
    assert loss is not None and loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
    logits, loss = model(idx[:, :5])  # no targets: logits for every position, no loss
    assert logits.shape == (3, 5, SMALL["vocab_size"]) and loss is None


def test_rejects_sequences_longer_than_block_size():
    with pytest.raises(ValueError, match="block_size"):
        small_gpt()(random_ids((1, 17)))


def test_loss_at_init_is_ln_vocab():
    # Logits start near zero, so the prediction is close to uniform: loss ~ ln(V).
    # Tolerance 0.1 nats (the spread of the small initial logits adds about 0.03).
    model = small_gpt(vocab_size=65, n_embd=128, block_size=64, n_layer=4)
    _, loss = model(random_ids((8, 64), 65, seed=3), random_ids((8, 64), 65, seed=4))
    assert abs(loss.item() - math.log(65)) < 0.1


def test_is_causal():
    model = small_gpt().eval()
    idx = random_ids((2, 16))
    changed = idx.clone()
    changed[:, 9] = (changed[:, 9] + 1) % SMALL["vocab_size"]
    before, _ = model(idx)
    after, _ = model(changed)
    torch.testing.assert_close(before[:, :9], after[:, :9], rtol=0, atol=0)
    assert not torch.allclose(before[:, 9:], after[:, 9:])


def test_output_layer_is_tied_to_token_embedding():
    model = small_gpt()
    assert model.lm_head.weight is model.transformer.wte.weight
    names = [name for name, _ in model.named_parameters()]
    assert "lm_head.weight" not in names  # counted once
    n_all = sum(p.numel() for p in model.parameters())
    assert model.num_params(non_embedding=False) == n_all
    assert model.num_params() == n_all - SMALL["block_size"] * SMALL["n_embd"]


def test_gpt2_init():
    model = small_gpt(n_layer=8, n_embd=256, vocab_size=300)
    assert model.transformer.wte.weight.std().item() == pytest.approx(0.02, rel=0.05)
    fc = model.transformer.h[0].mlp.c_fc
    assert fc.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert torch.count_nonzero(fc.bias) == 0
    proj = model.transformer.h[0].mlp.c_proj.weight
    assert proj.std().item() == pytest.approx(0.02 / math.sqrt(16), rel=0.05)
    assert model.transformer.h[0].ln_1.weight.eq(1).all()


class ReferenceBlock(nn.Module):
    """A pre-LN block assembled from torch.nn's own MultiheadAttention, LayerNorm, Linear, GELU."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        future = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)  # True = masked
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=future, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


def test_matches_torch_nn_block_values_and_gradients():
    # Tolerance: float32, same operations in a different order -> atol 1e-5.
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=10, n_embd=32, n_head=4)
    block, ref = Block(config), ReferenceBlock(32, 4)
    for p in block.parameters():  # the GPT init leaves LayerNorms at 1/0; randomise everything
        nn.init.normal_(p, std=0.3)
    with torch.no_grad():
        ref.ln_1.load_state_dict(block.ln_1.state_dict())
        ref.ln_2.load_state_dict(block.ln_2.state_dict())
        ref.attn.in_proj_weight.copy_(block.attn.c_attn.weight)  # rows: q, k, v
        ref.attn.in_proj_bias.copy_(block.attn.c_attn.bias)
        ref.attn.out_proj.load_state_dict(block.attn.c_proj.state_dict())
        ref.mlp[0].load_state_dict(block.mlp.c_fc.state_dict())
        ref.mlp[2].load_state_dict(block.mlp.c_proj.state_dict())
    x = torch.randn(3, 11, 32, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    upstream = torch.randn(3, 11, 32)
    out, out_ref = block(x), ref(x_ref)
    torch.testing.assert_close(out, out_ref, atol=1e-5, rtol=1e-4)
    (out * upstream).sum().backward()
    (out_ref * upstream).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, atol=1e-5, rtol=1e-4)
    pairs = [
        (block.attn.c_attn.weight, ref.attn.in_proj_weight),
        (block.attn.c_proj.weight, ref.attn.out_proj.weight),
        (block.mlp.c_fc.weight, ref.mlp[0].weight),
        (block.ln_1.weight, ref.ln_1.weight),
        (block.ln_2.bias, ref.ln_2.bias),
    ]
    for ours, theirs in pairs:
        torch.testing.assert_close(ours.grad, theirs.grad, atol=1e-4, rtol=1e-4)


def hf_gpt2_copy(model: GPT):
    """transformers' GPT2LMHeadModel (eager attention, exact GELU) with our weights copied in."""
    from transformers import GPT2Config, GPT2LMHeadModel

    c = model.config
    hf_config = GPT2Config(
        vocab_size=c.vocab_size,
        n_positions=c.block_size,
        n_embd=c.n_embd,
        n_layer=c.n_layer,
        n_head=c.n_head,
        activation_function="gelu",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=1e-5,
        bos_token_id=None,
        eos_token_id=None,
    )
    hf_config._attn_implementation = "eager"  # plain matmul + softmax, not the fused kernel
    hf = GPT2LMHeadModel(hf_config)
    conv1d = ("c_attn.weight", "c_proj.weight", "c_fc.weight")  # HF Conv1D: (in, out)
    state = {
        name: (tensor.t() if name.endswith(conv1d) else tensor)
        for name, tensor in model.state_dict().items()
    }
    missing, unexpected = hf.load_state_dict(state, strict=False)
    assert not unexpected and all(".attn.bias" in m or "masked_bias" in m for m in missing)
    return hf


def test_matches_transformers_gpt2_logits_loss_and_gradients():
    # Tolerance: float32 through 2 blocks, different kernels -> atol 1e-4 on logits.
    model = small_gpt(seed=5)
    for name, p in model.named_parameters():  # move LayerNorms off 1/0 so they matter
        if "ln_" in name:
            nn.init.normal_(p, mean=1.0 if name.endswith("weight") else 0.0, std=0.2)
    hf = hf_gpt2_copy(model)
    idx, targets = random_ids((2, 16), seed=6), random_ids((2, 16), seed=7)
    logits, loss = model(idx, targets)
    out = hf(input_ids=idx)
    torch.testing.assert_close(logits, out.logits, atol=1e-4, rtol=1e-4)
    hf_loss = nn.functional.cross_entropy(out.logits.flatten(0, 1), targets.flatten())
    torch.testing.assert_close(loss, hf_loss, atol=1e-5, rtol=1e-5)
    loss.backward()
    hf_loss.backward()
    hf_params = dict(hf.named_parameters())
    for name, p in model.named_parameters():
        theirs = hf_params[name].grad
        theirs = (
            theirs.t()
            if name.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight"))
            else theirs
        )
        torch.testing.assert_close(p.grad, theirs, atol=1e-5, rtol=1e-3, msg=name)


def test_save_load_round_trip_gives_identical_logits(tmp_path):
    model = small_gpt(seed=8).eval()
    idx = random_ids((2, 12))
    model.save_pretrained(tmp_path / "ckpt")
    assert {p.name for p in (tmp_path / "ckpt").iterdir()} == {"config.json", "model.safetensors"}
    loaded = GPT.from_pretrained(tmp_path / "ckpt").eval()
    assert loaded.config == model.config
    assert loaded.lm_head.weight is loaded.transformer.wte.weight
    torch.testing.assert_close(loaded(idx)[0], model(idx)[0], rtol=0, atol=0)


def test_saved_folder_opens_in_transformers(tmp_path):
    from transformers import GPT2LMHeadModel

    model = small_gpt(seed=9, bias=False).eval()
    with torch.no_grad():  # random biases are absent with bias=False; LayerNorm scales random
        for name, p in model.named_parameters():
            if "ln_" in name:
                p.normal_(1.0, 0.2)
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "gpt2" and config["n_positions"] == SMALL["block_size"]
    hf = GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    idx = random_ids((2, 16))
    torch.testing.assert_close(hf(input_ids=idx).logits, model(idx)[0], atol=1e-5, rtol=1e-4)


def test_loads_a_gpt2_folder_written_by_transformers(tmp_path):
    from safetensors.torch import load_file, save_file

    model = small_gpt(seed=14).eval()
    hf_gpt2_copy(model).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert "groundup" not in config  # only GPT-2's own fields to go by
    # Checkpoints on the hub name tensors without the "transformer." prefix; accept both.
    tensors = load_file(tmp_path / "model.safetensors")
    save_file(
        {k.removeprefix("transformer."): v for k, v in tensors.items()},
        tmp_path / "model.safetensors",
    )
    loaded = GPT.from_pretrained(tmp_path).eval()
    assert loaded.config == model.config
    idx = random_ids((2, 16))
    torch.testing.assert_close(loaded(idx)[0], model(idx)[0], rtol=0, atol=0)


def test_generate_crops_context_and_is_reproducible():
    model = small_gpt(seed=10, block_size=8).eval()  # 3 + 12 tokens: longer than the block
    start = random_ids((2, 3))
    out = model.generate(start, 12, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 15) and out.dtype == torch.long
    assert torch.equal(out[:, :3], start)  # the prompt is kept
    assert out.max() < SMALL["vocab_size"] and out.min() >= 0
    again = model.generate(start, 12, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    # Greedy: every new token is the argmax given the last block_size tokens before it.
    greedy = model.generate(start, 12, greedy=True)
    for t in range(3, 15):
        context = greedy[:, max(0, t - 8) : t]
        assert torch.equal(greedy[:, t], model(context)[0][:, -1].argmax(-1))


def test_matches_groundup_attention_values_and_gradients():
    # The fused kernel and the from-scratch attention of the attention step give the same model.
    # Tolerance: float32, different summation order -> atol 1e-5.
    from groundup.nn.attention import attention, causal_mask

    fused = small_gpt(seed=11)
    scratch = small_gpt(seed=11)
    calls = []

    def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        calls.append(q.shape)
        return attention(q, k, v, causal_mask(q.shape[-2], q.device))

    scratch.set_attention(attend)
    idx, targets = random_ids((2, 16), seed=12), random_ids((2, 16), seed=13)
    logits, loss = fused(idx, targets)
    logits_ref, loss_ref = scratch(idx, targets)
    assert calls == [(2, 4, 16, 8)] * SMALL["n_layer"]  # it really ran, once per block
    torch.testing.assert_close(logits, logits_ref, atol=1e-5, rtol=1e-4)
    loss.backward()
    loss_ref.backward()
    for (name, p), p_ref in zip(fused.named_parameters(), scratch.parameters(), strict=True):
        torch.testing.assert_close(p.grad, p_ref.grad, atol=1e-5, rtol=1e-3, msg=name)
    scratch.set_attention(None)  # back to the fused kernel
    assert all(block.attn.attend is None for block in scratch.transformer.h)


def test_config_rejects_heads_that_do_not_divide_the_width():
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(vocab_size=10, n_embd=30, n_head=4)
