"""The cache appends per layer; mask and positions agree with a hand-built reference."""

import pytest
import torch

from groundup.models.kv_cache import KVCache, attention_bias, positions


def test_cache_appends_per_layer_and_reorders():
    cache = KVCache()
    assert len(cache) == 0
    k0, v0 = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    cache.update(0, k0, v0)
    cache.update(1, k0 * 2, v0 * 2)
    assert len(cache) == 4
    k1, v1 = torch.randn(2, 3, 1, 5), torch.randn(2, 3, 1, 5)
    k_all, v_all = cache.update(0, k1, v1)
    assert torch.equal(k_all, torch.cat([k0, k1], dim=2))
    assert torch.equal(v_all, torch.cat([v0, v1], dim=2))
    cache.reorder(torch.tensor([1, 1]))
    assert torch.equal(cache.keys[0][0], cache.keys[0][1])
    with pytest.raises(IndexError):
        cache.update(5, k1, v1)


def test_positions_count_real_tokens_before():
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    assert positions(mask, 0, 5, torch.device("cpu")).tolist() == [
        [0, 0, 0, 1, 2],
        [0, 1, 2, 3, 4],
    ]
    assert positions(mask, 3, 2, torch.device("cpu")).tolist() == [[1, 2], [3, 4]]
    assert positions(None, 3, 2, torch.device("cpu")).tolist() == [[3, 4]]


def test_attention_bias_hides_future_and_padding():
    assert attention_bias(None, 0, 4, torch.device("cpu")) is None
    mask = torch.tensor([[0, 1, 1, 1], [1, 1, 1, 1]])
    bias = attention_bias(mask, 1, 3, torch.device("cpu"))
    assert bias.shape == (2, 1, 3, 4)
    for b in range(2):
        for i in range(3):
            for j in range(4):
                expected = j <= 1 + i and bool(mask[b, j])
                assert bool(bias[b, 0, i, j]) == expected
    # a padding query (row 0, column 0) still sees itself, so its softmax is finite
    bias = attention_bias(mask, 0, 4, torch.device("cpu"))
    assert bias[0, 0, 0].tolist() == [True, False, False, False]


def test_growing_buffers_hold_exactly_what_was_appended():
    # Many appends of 1-3 tokens: the cache must equal concatenation, and a view returned
    # earlier must not change when later tokens are written or the buffer grows.
    g = torch.Generator().manual_seed(0)
    cache = KVCache()
    appended_k, appended_v, earlier = [], [], []
    for step in range(40):
        n = 1 + step % 3
        for layer in range(2):
            k, v = torch.randn(2, 3, n, 4, generator=g), torch.randn(2, 3, n, 4, generator=g)
            if layer == 0:
                appended_k.append(k)
                appended_v.append(v)
            k_all, v_all = cache.update(layer, k, v)
            if layer == 0:
                earlier.append((k_all, k_all.clone()))
        assert torch.equal(cache.keys[0], torch.cat(appended_k, dim=2))
        assert torch.equal(cache.values[0], torch.cat(appended_v, dim=2))
    assert len(cache) == sum(1 + s % 3 for s in range(40))
    assert all(torch.equal(view, copy) for view, copy in earlier)
    rows = torch.tensor([1, 0])
    before = cache.keys[1].clone()
    cache.reorder(rows)
    assert torch.equal(cache.keys[1], before[rows]) and len(cache) == before.shape[2]
    k, v = torch.randn(2, 3, 1, 4), torch.randn(2, 3, 1, 4)
    k_all, _ = cache.update(0, k, v)  # appending after a reorder still works
    assert torch.equal(k_all[:, :, -1:], k)
