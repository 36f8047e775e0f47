"""Positional encodings against their references.

Oracles: the paper formulas written out with `math` (sinusoidal table, ALiBi slopes);
Hugging Face transformers' LlamaRotaryEmbedding + apply_rotary_pos_emb (half layout) and
GPT-NeoX's (partial rotary); a complex-number RoPE as in Meta's Llama reference code
(interleaved layout); BLOOM's build_alibi_tensor; T5Attention's relative position buckets and
compute_bias; torch's scaled_dot_product_attention.

Tolerances: float64 atol 1e-12, rtol 1e-10 (same arithmetic in another order); float32 atol
1e-5, rtol 1e-5 (the angles are float32 on both sides, positions stay small).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor
from transformers import GPTNeoXConfig, LlamaConfig, T5Config
from transformers.models.bloom.modeling_bloom import build_alibi_tensor
from transformers.models.gpt_neox import modeling_gpt_neox as gpt_neox
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb
from transformers.models.t5.modeling_t5 import T5Attention

from groundup.nn.positions import (
    LearnedPositions,
    PositionalSelfAttention,
    RelativePositionBias,
    alibi_bias,
    alibi_slopes,
    apply_rope,
    biased_attention,
    causal_mask,
    relative_position_bucket,
    rotate_half,
    rotate_interleaved,
    sinusoidal_table,
)

F64 = {"atol": 1e-12, "rtol": 1e-10}
F32 = {"atol": 1e-5, "rtol": 1e-5}
FAST = settings(max_examples=15, deadline=None)


def randn(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def values_and_grads(fn, *inputs: Tensor) -> list[Tensor]:
    """fn(*inputs) (a tensor or a tuple of them) and the gradients of a fixed random
    weighting of all outputs with respect to every input."""
    inputs = tuple(x.detach().clone().requires_grad_() for x in inputs)
    outputs = fn(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    loss = sum((out * randn(*out.shape, seed=99, dtype=out.dtype)).sum() for out in outputs)
    loss.backward()
    return [out.detach() for out in outputs] + [x.grad for x in inputs]


def assert_all_close(got: list[Tensor], expected: list[Tensor], **tol: float) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, **tol)


# ---------------------------------------------------------------- sinusoidal


def test_matches_paper_formula_sinusoidal_table() -> None:
    length, dim, base = 12, 10, 10000.0
    expected = torch.zeros(length, dim, dtype=torch.float64)
    for pos in range(length):
        for i in range(dim // 2):
            expected[pos, 2 * i] = math.sin(pos / base ** (2 * i / dim))
            expected[pos, 2 * i + 1] = math.cos(pos / base ** (2 * i / dim))
    got = sinusoidal_table(length, dim, base).double()
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)  # the table is float32


def test_sinusoidal_offset_is_a_slice_and_any_length_works() -> None:
    full = sinusoidal_table(5000, 8)
    torch.testing.assert_close(sinusoidal_table(7, 8, offset=4990), full[4990:4997])
    with pytest.raises(ValueError, match="even dim"):
        sinusoidal_table(4, 7)


def test_sinusoidal_shift_is_a_fixed_rotation_of_each_pair() -> None:
    """Section 3.5: PE(pos + k) is a linear function of PE(pos), the same for every pos."""
    dim, k = 8, 5
    table = sinusoidal_table(40, dim).double()
    inv_freq = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    c, s = (k * inv_freq).cos(), (k * inv_freq).sin()
    sin_p, cos_p = table[:-k, 0::2], table[:-k, 1::2]
    # sin(a + b) = sin a cos b + cos a sin b; cos(a + b) = cos a cos b - sin a sin b
    torch.testing.assert_close(table[k:, 0::2], sin_p * c + cos_p * s, atol=1e-6, rtol=0)
    torch.testing.assert_close(table[k:, 1::2], cos_p * c - sin_p * s, atol=1e-6, rtol=0)


# ---------------------------------------------------------------- learned


def test_matches_nn_embedding_learned_positions() -> None:
    torch.manual_seed(0)
    learned = LearnedPositions(max_len=10, dim=4)
    out = learned(3, offset=2)
    torch.testing.assert_close(out, learned.embedding.weight[2:5])
    out.sum().backward()
    grad = learned.embedding.weight.grad
    used = torch.zeros(10, dtype=torch.bool)
    used[2:5] = True
    assert torch.all(grad[used] == 1.0) and torch.all(grad[~used] == 0.0)


def test_learned_positions_refuse_positions_past_max_len() -> None:
    learned = LearnedPositions(max_len=8, dim=4)
    assert learned(8).shape == (8, 4)
    with pytest.raises(ValueError, match=r"0\.\.7.*8\.\.8.*cannot extrapolate"):
        learned(1, offset=8)
    with pytest.raises(ValueError, match="cannot extrapolate"):
        learned(9)


# ---------------------------------------------------------------- RoPE


@st.composite
def rope_cases(draw: st.DrawFn) -> dict:
    return {
        "batch": draw(st.integers(1, 2)),
        "heads": draw(st.integers(1, 3)),
        "T": draw(st.integers(1, 7)),
        "head_dim": 2 * draw(st.integers(1, 8)),
        "theta": draw(st.sampled_from([10000.0, 500000.0, 100.0])),
        "offset": draw(st.integers(0, 50)),
        "seed": draw(st.integers(0, 2**16)),
    }


def llama_rope(case: dict, head_dim: int):
    config = LlamaConfig(
        hidden_size=head_dim * case["heads"],
        num_attention_heads=case["heads"],
        head_dim=head_dim,
        rope_parameters={"rope_type": "default", "rope_theta": case["theta"]},
    )
    return LlamaRotaryEmbedding(config)


@FAST
@given(rope_cases())
def test_matches_transformers_llama_rope_half_layout(case: dict) -> None:
    B, h, T, d = case["batch"], case["heads"], case["T"], case["head_dim"]
    q = randn(B, h, T, d, seed=case["seed"])
    k = randn(B, h, T, d, seed=case["seed"] + 1)
    rotary = llama_rope(case, d)
    position_ids = torch.arange(case["offset"], case["offset"] + T).expand(B, T)

    def reference(q: Tensor, k: Tensor) -> tuple[Tensor, Tensor]:
        cos, sin = rotary(q, position_ids)  # (B, T, d)
        return apply_rotary_pos_emb(q, k, cos, sin)

    def ours(q: Tensor, k: Tensor) -> tuple[Tensor, Tensor]:
        rope = {"offset": case["offset"], "theta": case["theta"], "layout": "half"}
        return apply_rope(q, **rope), apply_rope(k, **rope)

    assert_all_close(values_and_grads(ours, q, k), values_and_grads(reference, q, k), **F32)


def test_matches_transformers_gpt_neox_partial_rotary() -> None:
    B, h, T, d, factor = 2, 2, 6, 16, 0.25
    config = GPTNeoXConfig(
        hidden_size=h * d,
        num_attention_heads=h,
        rope_parameters={
            "rope_type": "default",
            "rope_theta": 10000.0,
            "partial_rotary_factor": factor,
        },
    )
    rotary = gpt_neox.GPTNeoXRotaryEmbedding(config)
    q, k = randn(B, h, T, d, seed=3), randn(B, h, T, d, seed=4)
    position_ids = torch.arange(3, 3 + T).expand(B, T)

    def reference(q: Tensor, k: Tensor) -> tuple[Tensor, Tensor]:
        cos, sin = rotary(q, position_ids)
        assert cos.shape[-1] == int(d * factor)
        return gpt_neox.apply_rotary_pos_emb(q, k, cos, sin)

    def ours(q: Tensor, k: Tensor) -> tuple[Tensor, Tensor]:
        rope = {"offset": 3, "rotary_dim": int(d * factor)}
        return apply_rope(q, **rope), apply_rope(k, **rope)

    assert_all_close(values_and_grads(ours, q, k), values_and_grads(reference, q, k), **F32)


def complex_rope(x: Tensor, positions: Tensor, theta: float) -> Tensor:
    """Meta's Llama reference: pairs (x[2i], x[2i+1]) as complex numbers times e^(i*angle)."""
    d = x.size(-1)
    freqs = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64)[: d // 2] / d)
    angles = torch.outer(positions.double(), freqs)  # (T, d/2)
    freqs_cis = torch.polar(torch.ones_like(angles), angles)  # e^(i * angle)
    x_complex = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2))
    return torch.view_as_real(x_complex * freqs_cis).flatten(-2)


@FAST
@given(rope_cases())
def test_matches_complex_number_rope_interleaved_layout(case: dict) -> None:
    B, h, T, d = case["batch"], case["heads"], case["T"], case["head_dim"]
    x = randn(B, h, T, d, seed=case["seed"], dtype=torch.float64)
    positions = torch.arange(case["offset"], case["offset"] + T)
    ours = values_and_grads(
        lambda x: apply_rope(x, positions, theta=case["theta"], layout="interleaved"), x
    )
    reference = values_and_grads(lambda x: complex_rope(x, positions, case["theta"]), x)
    assert_all_close(ours, reference, **F64)


@pytest.mark.parametrize("layout", ["half", "interleaved"])
def test_rope_offset_continues_the_sequence_as_a_kv_cache_needs(layout: str) -> None:
    x = randn(2, 3, 10, 8, seed=5, dtype=torch.float64)
    full = apply_rope(x, layout=layout)
    torch.testing.assert_close(apply_rope(x[..., 6:, :], offset=6, layout=layout), full[..., 6:, :])
    explicit = apply_rope(x, positions=torch.arange(10), layout=layout)
    torch.testing.assert_close(explicit, full, **F64)


def test_rope_layouts_are_one_feature_permutation_apart() -> None:
    """Interleaved on x equals half-layout on x with pairs regrouped (and back)."""
    d = 8
    x = randn(5, d, seed=6, dtype=torch.float64)
    to_half = torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])  # (0,2,4,6,1,3,5,7)
    interleaved = apply_rope(x, layout="interleaved")
    half = apply_rope(x[:, to_half], layout="half")
    torch.testing.assert_close(half, interleaved[:, to_half], **F64)


def test_rotations_are_the_two_by_two_rotation_by_ninety_degrees() -> None:
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert rotate_half(x).tolist() == [-3.0, -4.0, 1.0, 2.0]
    assert rotate_interleaved(x).tolist() == [-2.0, 1.0, -4.0, 3.0]
    with pytest.raises(ValueError, match="even dim"):
        apply_rope(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="layout"):
        apply_rope(torch.zeros(2, 4), layout="diagonal")  # type: ignore[arg-type]


@FAST
@given(
    m=st.integers(0, 200),
    n=st.integers(0, 200),
    shift=st.integers(-100, 300),
    layout=st.sampled_from(["half", "interleaved"]),
    seed=st.integers(0, 2**16),
)
def test_rope_score_depends_only_on_relative_position(
    m: int, n: int, shift: int, layout: str, seed: int
) -> None:
    """q_m . k_n = q_{m+s} . k_{n+s}: moving both tokens by s leaves the score unchanged,
    while the norm of each vector is kept (rotations)."""
    q, k = (
        randn(1, 16, seed=seed, dtype=torch.float64),
        randn(1, 16, seed=seed + 1, dtype=torch.float64),
    )

    def score(m: int, n: int) -> Tensor:
        rq = apply_rope(q, torch.tensor([m]), layout=layout)
        rk = apply_rope(k, torch.tensor([n]), layout=layout)
        torch.testing.assert_close(rq.norm(), q.norm(), **F64)
        return (rq * rk).sum()

    torch.testing.assert_close(score(m, n), score(m + shift, n + shift), atol=1e-10, rtol=1e-10)


def test_rope_score_changes_with_distance() -> None:
    """The property above is not vacuous: different distances give different scores."""
    q, k = randn(1, 16, seed=7, dtype=torch.float64), randn(1, 16, seed=8, dtype=torch.float64)
    scores = [
        (apply_rope(q, torch.tensor([m])) * apply_rope(k, torch.tensor([0]))).sum().item()
        for m in range(5)
    ]
    assert len({round(s, 6) for s in scores}) == 5


# ---------------------------------------------------------------- ALiBi


def paper_slopes(n: int) -> list[float]:
    """The slope recipe of Press et al. (their reference code), written out with `math`."""

    def power_of_two(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(n).is_integer():
        return power_of_two(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_two(closest) + paper_slopes(2 * closest)[0::2][: n - closest]


@pytest.mark.parametrize("num_heads", [1, 2, 3, 5, 6, 8, 12, 16, 20, 24, 32, 40])
def test_matches_paper_formula_alibi_slopes(num_heads: int) -> None:
    expected = torch.tensor(paper_slopes(num_heads), dtype=torch.float64)
    torch.testing.assert_close(alibi_slopes(num_heads).double(), expected, rtol=1e-6, atol=0)


def test_alibi_slopes_for_eight_heads_are_halvings() -> None:
    assert alibi_slopes(8).tolist() == [2.0**-i for i in range(1, 9)]
    with pytest.raises(ValueError):
        alibi_slopes(0)


@pytest.mark.parametrize("num_heads", [1, 3, 4, 6, 8, 12])
def test_matches_transformers_bloom_alibi_bias(num_heads: int) -> None:
    """BLOOM adds m_h * j (key position only). That differs from the paper's -m_h * (i - j)
    by m_h * i, a constant per query row, which softmax ignores. We compare exactly this:
    (1) our bias equals BLOOM's minus each row's value at the diagonal, at every (i, j);
    (2) causal softmax(scores + bias) and its gradient with respect to the scores are equal."""
    T = 9
    bloom = build_alibi_tensor(torch.ones(1, T), num_heads, torch.float32)  # (h, 1, T)
    bloom_rows = bloom.expand(num_heads, T, T)  # row i: m_h * j
    diagonal = bloom_rows.diagonal(dim1=-2, dim2=-1)[..., :, None]  # m_h * i
    ours = alibi_bias(num_heads, T)
    torch.testing.assert_close(ours, bloom_rows - diagonal, **F32)

    mask = causal_mask(T, T)

    def causal_softmax(bias: Tensor):
        return lambda scores: (scores + bias).masked_fill(~mask, float("-inf")).softmax(-1)

    scores = randn(num_heads, T, T, seed=num_heads)
    assert_all_close(
        values_and_grads(causal_softmax(ours), scores),
        values_and_grads(causal_softmax(bloom), scores),
        **F32,
    )


def test_alibi_bias_with_cached_keys_is_the_last_rows() -> None:
    full = alibi_bias(4, 10)
    torch.testing.assert_close(alibi_bias(4, 3, 10), full[:, 7:, :])
    assert torch.all(full.diagonal(dim1=-2, dim2=-1) == 0)
    assert torch.all(full.tril() <= 0)
    torch.testing.assert_close(causal_mask(3, 10), causal_mask(10, 10)[7:])


# ---------------------------------------------------------------- attention with positions


def test_matches_sdpa_biased_attention() -> None:
    q, k, v = randn(2, 3, 5, 4, seed=1), randn(2, 3, 7, 4, seed=2), randn(2, 3, 7, 6, seed=3)
    bias, mask = alibi_bias(3, 5, 7), causal_mask(5, 7)

    def reference(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        float_mask = bias.masked_fill(~mask, float("-inf"))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=float_mask)

    ours = values_and_grads(lambda q, k, v: biased_attention(q, k, v, bias, mask), q, k, v)
    assert_all_close(ours, values_and_grads(reference, q, k, v), **F32)


def reference_self_attention(layer: PositionalSelfAttention, x: Tensor) -> Tensor:
    """The same layer built from torch/transformers parts: SDPA, HF RoPE, BLOOM ALiBi."""
    B, T, E = x.shape
    h, d = layer.num_heads, layer.head_dim
    if layer.kind == "sinusoidal":
        position = torch.arange(T, dtype=torch.float64)[:, None]
        inv_freq = 10000.0 ** (-torch.arange(0, E, 2, dtype=torch.float64) / E)
        table = torch.zeros(T, E, dtype=torch.float64)
        table[:, 0::2], table[:, 1::2] = (position * inv_freq).sin(), (position * inv_freq).cos()
        x = x + table.float()
    elif layer.kind == "learned":
        x = x + layer.learned.embedding.weight[:T]
    q, k, v = F.linear(x, layer.qkv.weight, layer.qkv.bias).split(E, dim=-1)
    q, k, v = (t.reshape(B, T, h, d).transpose(1, 2) for t in (q, k, v))
    attn_mask = torch.zeros(h, T, T).masked_fill(
        ~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf")
    )
    if layer.kind == "rope":
        case = {"heads": h, "theta": layer.theta}
        cos, sin = llama_rope(case, d)(q, torch.arange(T).expand(B, T))
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
    elif layer.kind == "alibi":
        bloom = build_alibi_tensor(torch.ones(1, T), h, torch.float32)  # (h, 1, T)
        attn_mask = attn_mask + bloom  # a per-row constant away from the paper's bias
    heads = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    return F.linear(heads.transpose(1, 2).reshape(B, T, E), layer.out.weight, layer.out.bias)


@pytest.mark.parametrize("kind", ["none", "sinusoidal", "learned", "rope", "alibi"])
def test_matches_torch_reference_positional_self_attention(kind: str) -> None:
    torch.manual_seed(0)
    layer = PositionalSelfAttention(embed_dim=12, num_heads=3, kind=kind, max_len=16)
    x = randn(2, 7, 12, seed=11)
    params = list(layer.parameters())

    def grads(fn) -> list[Tensor]:
        x_ = x.clone().requires_grad_()
        out = fn(x_)
        (out * randn(*out.shape, seed=12)).sum().backward()
        result = [out.detach(), x_.grad] + [p.grad.clone() for p in params]
        layer.zero_grad()
        return result

    assert_all_close(grads(layer), grads(lambda x: reference_self_attention(layer, x)), **F32)


def test_positional_self_attention_is_causal_and_extrapolates() -> None:
    torch.manual_seed(0)
    x = randn(1, 40, 8, seed=13)
    for kind in ["none", "sinusoidal", "rope", "alibi"]:
        layer = PositionalSelfAttention(8, 2, kind, max_len=16)
        out = layer(x)  # 40 > max_len: fine for every kind but "learned"
        changed = x.clone()
        changed[:, 30:] += 1.0  # the future must not change earlier outputs
        torch.testing.assert_close(layer(changed)[:, :30], out[:, :30])
    learned = PositionalSelfAttention(8, 2, "learned", max_len=16)
    with pytest.raises(ValueError, match="cannot extrapolate"):
        learned(x)
    with pytest.raises(ValueError, match="unknown position kind"):
        PositionalSelfAttention(8, 2, "relative")  # type: ignore[arg-type]


def test_positions_change_the_output_except_for_none() -> None:
    """Swapping two earlier tokens changes the last output only if positions are encoded."""
    torch.manual_seed(0)
    x = randn(1, 6, 8, seed=14)
    swapped = x[:, [1, 0, 2, 3, 4, 5]]
    for kind in ["none", "sinusoidal", "learned", "rope", "alibi"]:
        layer = PositionalSelfAttention(8, 2, kind, max_len=16)
        if kind == "learned":
            torch.nn.init.normal_(layer.learned.embedding.weight, std=1.0)
        same = torch.allclose(layer(x)[:, -1], layer(swapped)[:, -1], atol=1e-6)
        assert same == (kind == "none"), kind


def test_rope_per_sequence_positions_broadcast_over_heads() -> None:
    """Left-padded batches give each sequence its own positions: (B, 1, T) for (B, h, T, d)."""
    x = randn(2, 3, 5, 8, seed=15, dtype=torch.float64)
    positions = torch.stack([torch.arange(5), torch.arange(4, 9)])[:, None, :]
    rotated = apply_rope(x, positions)
    torch.testing.assert_close(rotated[0], apply_rope(x[0]), **F64)
    torch.testing.assert_close(rotated[1], apply_rope(x[1], offset=4), **F64)


# ---------------------------------------------------------------- T5 relative bias


@FAST
@given(
    bidirectional=st.booleans(),
    num_buckets=st.sampled_from([4, 8, 32]),
    max_distance=st.sampled_from([40, 128]),  # above the exact range, as T5 requires
    seed=st.integers(0, 2**16),
)
def test_matches_transformers_t5_relative_position_bucket(
    bidirectional: bool, num_buckets: int, max_distance: int, seed: int
) -> None:
    g = torch.Generator().manual_seed(seed)
    offsets = torch.cat([torch.arange(-300, 301), torch.randint(-5000, 5000, (200,), generator=g)])
    expected = T5Attention._relative_position_bucket(
        offsets, bidirectional=bidirectional, num_buckets=num_buckets, max_distance=max_distance
    )
    got = relative_position_bucket(offsets, bidirectional, num_buckets, max_distance)
    assert torch.equal(got, expected)
    assert int(got.min()) >= 0 and int(got.max()) < num_buckets


def t5_attention(heads: int, decoder: bool, num_buckets: int = 32, max_distance: int = 128):
    config = T5Config(d_model=8 * heads, d_kv=8, num_heads=heads, is_decoder=decoder,
                      relative_attention_num_buckets=num_buckets,
                      relative_attention_max_distance=max_distance)  # fmt: skip
    return T5Attention(config, has_relative_attention_bias=True)


@pytest.mark.parametrize(("decoder", "Tq", "Tk"), [(True, 9, 9), (True, 3, 200), (False, 7, 7)])
def test_matches_transformers_t5_compute_bias(decoder: bool, Tq: int, Tk: int) -> None:
    """Values and the gradient with respect to the bucket table, also with cached keys."""
    ours = RelativePositionBias(3, num_buckets=16, max_distance=64, bidirectional=not decoder)
    theirs = t5_attention(3, decoder, num_buckets=16, max_distance=64)
    with torch.no_grad():
        theirs.relative_attention_bias.weight.copy_(randn(16, 3, seed=21))
        ours.embedding.weight.copy_(theirs.relative_attention_bias.weight)
    weights = randn(3, Tq, Tk, seed=22)
    got, expected = ours(Tq, Tk), theirs.compute_bias(Tq, Tk, past_seen_tokens=Tk - Tq)[0]
    torch.testing.assert_close(got, expected, rtol=0, atol=0)  # a lookup: exactly equal
    (got * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(
        ours.embedding.weight.grad, theirs.relative_attention_bias.weight.grad, **F32
    )


def test_t5_positional_self_attention_matches_sdpa_with_t5_bias_and_extrapolates() -> None:
    torch.manual_seed(0)
    layer = PositionalSelfAttention(12, 3, "t5")
    x = randn(2, 300, 12, seed=23)  # past max_distance 128: the last bucket covers the rest
    E, h, d, T = 12, 3, 4, 300
    q, k, v = F.linear(x, layer.qkv.weight, layer.qkv.bias).split(E, dim=-1)
    q, k, v = (t.reshape(2, T, h, d).transpose(1, 2) for t in (q, k, v))
    t5 = t5_attention(3, decoder=True)
    with torch.no_grad():
        t5.relative_attention_bias.weight.copy_(layer.relative.embedding.weight)
    attn_mask = t5.compute_bias(T, T)[0].masked_fill(~causal_mask(T, T), float("-inf"))
    heads = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    expected = F.linear(heads.transpose(1, 2).reshape(2, T, E), layer.out.weight, layer.out.bias)
    torch.testing.assert_close(layer(x), expected, **F32)
