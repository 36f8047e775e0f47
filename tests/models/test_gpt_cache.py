"""GPT under the KV-cache contract: cached steps, left padding, and transformers' GPT-2."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from groundup.models.gpt import GPT, GPTConfig
from groundup.models.kv_cache import KVCache, positions

CONFIG = dict(vocab_size=37, block_size=24, n_layer=2, n_head=4, n_embd=32)


def random_gpt(seed: int = 0) -> GPT:
    """A small GPT in eval mode with every parameter random, LayerNorms included."""
    torch.manual_seed(seed)
    model = GPT(GPTConfig(**CONFIG)).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "ln_" in name:
                p.normal_(1.0 if name.endswith("weight") else 0.0, 0.2)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.05)
    return model


def ids(shape: tuple[int, int], seed: int) -> torch.Tensor:
    return torch.randint(
        0, CONFIG["vocab_size"], shape, generator=torch.Generator().manual_seed(seed)
    )


def padded_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Three rows of 10 tokens: 4, 0 and 7 of them left padding (token 0)."""
    tokens = ids((3, 10), seed=3)
    mask = torch.ones_like(tokens)
    for row, pad in enumerate([4, 0, 7]):
        mask[row, :pad] = 0
        tokens[row, :pad] = 0
    return tokens, mask


def cached_logits(model: GPT, tokens: torch.Tensor, mask: torch.Tensor | None, prefill: int):
    """Logits of every position: the first `prefill` tokens at once, then one at a time."""
    cache = KVCache()
    steps = [(0, prefill)] + [(t, t + 1) for t in range(prefill, tokens.size(1))]
    out = []
    for start, end in steps:
        m = None if mask is None else mask[:, :end]
        logits, loss = model(tokens[:, start:end], attention_mask=m, cache=cache)
        assert loss is None and len(cache) == end
        out.append(logits)
    return torch.cat(out, dim=1)


@torch.no_grad()
def test_prefill_then_single_steps_equal_the_uncached_forward():
    # Tolerance: float32, the same operations over a different number of keys -> atol 1e-5.
    model = random_gpt(seed=1)
    tokens = ids((2, 16), seed=2)
    full, _ = model(tokens)
    torch.testing.assert_close(
        cached_logits(model, tokens, None, prefill=5), full, atol=1e-5, rtol=0
    )
    # with an all-ones mask the same
    ones = torch.ones_like(tokens)
    torch.testing.assert_close(
        cached_logits(model, tokens, ones, prefill=1), full, atol=1e-5, rtol=0
    )


@torch.no_grad()
def test_left_padded_batch_cached_and_uncached_equal_each_row_alone():
    model = random_gpt(seed=4)
    tokens, mask = padded_batch()
    full, _ = model(tokens, attention_mask=mask)
    stepped = cached_logits(model, tokens, mask, prefill=8)
    real = mask.bool()
    torch.testing.assert_close(stepped[real], full[real], atol=1e-5, rtol=0)
    for row in range(3):
        alone, _ = model(tokens[row : row + 1, real[row]])  # no padding, positions from 0
        torch.testing.assert_close(full[row, real[row]], alone[0], atol=1e-5, rtol=0)
        torch.testing.assert_close(stepped[row, real[row]], alone[0], atol=1e-5, rtol=0)
    # The padding really is hidden: changing a pad token's id changes no real position.
    changed = tokens.clone()
    changed[0, :4] = 5
    torch.testing.assert_close(model(changed, attention_mask=mask)[0][real], full[real])


@torch.no_grad()
def test_matches_transformers_gpt2_with_left_padding_and_position_ids(tmp_path):
    # Tolerance: float32 through 2 blocks, different kernels -> atol 1e-5 on logits.
    from transformers import GPT2LMHeadModel

    model = random_gpt(seed=5)
    model.save_pretrained(tmp_path)  # writes activation_function "gelu": the exact GELU
    hf = GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    assert hf.config.activation_function == "gelu"
    tokens, mask = padded_batch()
    position_ids = positions(mask, 0, tokens.size(1), tokens.device)
    expected = hf(input_ids=tokens, attention_mask=mask, position_ids=position_ids).logits
    real = mask.bool()
    ours, _ = model(tokens, attention_mask=mask)
    torch.testing.assert_close(ours[real], expected[real], atol=1e-5, rtol=1e-4)
    stepped = cached_logits(model, tokens, mask, prefill=8)
    torch.testing.assert_close(stepped[real], expected[real], atol=1e-5, rtol=1e-4)


@torch.no_grad()
def test_last_only_gives_the_last_column():
    model = random_gpt(seed=6)
    tokens, mask = padded_batch()
    full, _ = model(tokens, attention_mask=mask)
    last, _ = model(tokens, attention_mask=mask, last_only=True)
    assert last.shape == (3, 1, CONFIG["vocab_size"])
    torch.testing.assert_close(last, full[:, -1:], atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="last_only"):
        model(tokens, tokens, last_only=True)


def test_cache_counts_towards_block_size_and_custom_attention_refuses_masks():
    model = random_gpt(seed=7)
    cache = KVCache()
    model(ids((1, 20), seed=8), cache=cache)
    with pytest.raises(ValueError, match="block_size"):
        model(ids((1, 5), seed=9), cache=cache)  # 20 cached + 5 new > 24
    model.set_attention(lambda q, k, v: nn.functional.scaled_dot_product_attention(q, k, v))
    tokens, mask = padded_batch()
    with pytest.raises(ValueError, match="custom attention"):
        model(tokens, attention_mask=mask)
