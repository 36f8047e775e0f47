"""Attention against PyTorch's own: scaled_dot_product_attention and nn.MultiheadAttention.

Tolerances: float64 compares with atol 1e-12, rtol 1e-10 (both sides do the same arithmetic
in a different order, so only rounding differs); float32 with atol 1e-5, rtol 1e-4.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from groundup.nn.attention import (
    MultiHeadAttention,
    attention,
    attention_weights,
    attention_with_weights,
    causal_mask,
    padding_mask,
)

TOL = {torch.float64: {"atol": 1e-12, "rtol": 1e-10}, torch.float32: {"atol": 1e-5, "rtol": 1e-4}}
FAST = settings(max_examples=25, deadline=None)


def close(got: Tensor, expected: Tensor, dtype: torch.dtype) -> None:
    torch.testing.assert_close(got, expected, **TOL[dtype])


@st.composite
def qkv_shapes(draw: st.DrawFn) -> dict:
    return {
        "batch": tuple(draw(st.lists(st.integers(1, 3), max_size=2))),
        "Tq": draw(st.integers(1, 6)),
        "Tk": draw(st.integers(1, 6)),
        "d": draw(st.integers(1, 8)),
        "dv": draw(st.integers(1, 8)),
        "seed": draw(st.integers(0, 2**16)),
    }


def random_qkv(shape: dict, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
    g = torch.Generator().manual_seed(shape["seed"])
    b, Tq, Tk, d, dv = shape["batch"], shape["Tq"], shape["Tk"], shape["d"], shape["dv"]
    return (
        torch.randn(*b, Tq, d, generator=g, dtype=dtype),
        torch.randn(*b, Tk, d, generator=g, dtype=dtype),
        torch.randn(*b, Tk, dv, generator=g, dtype=dtype),
    )


def output_and_grads(fn, q: Tensor, k: Tensor, v: Tensor, **kwargs) -> list[Tensor]:
    """fn's output and the gradients of sum(output * g) for a fixed random g."""
    q, k, v = (x.clone().requires_grad_() for x in (q, k, v))
    out = fn(q, k, v, **kwargs)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=out.dtype)
    (out * upstream).sum().backward()
    return [out.detach(), q.grad, k.grad, v.grad]


def compare_with_sdpa(q, k, v, mine: dict, theirs: dict, dtype: torch.dtype) -> None:
    got = output_and_grads(attention, q, k, v, **mine)
    expected = output_and_grads(F.scaled_dot_product_attention, q, k, v, **theirs)
    for name, a, b in zip(["output", "q.grad", "k.grad", "v.grad"], got, expected, strict=True):
        assert torch.isfinite(a).all(), name
        close(a, b, dtype)


# ---------------------------------------------------------------- oracle: scaled_dot_product_attention

DTYPES = pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])


@DTYPES
@FAST
@given(shape=qkv_shapes())
def test_matches_torch_sdpa_no_mask(shape: dict, dtype: torch.dtype) -> None:
    q, k, v = random_qkv(shape, dtype)
    compare_with_sdpa(q, k, v, {}, {}, dtype)


@DTYPES
@FAST
@given(shape=qkv_shapes(), data=st.data())
def test_matches_torch_sdpa_boolean_mask(
    shape: dict, data: st.DataObject, dtype: torch.dtype
) -> None:
    q, k, v = random_qkv(shape, dtype)
    # Any pattern, fully masked rows included (both sides return zeros there).
    mask_shape = data.draw(
        st.sampled_from([(shape["Tq"], shape["Tk"]), (*shape["batch"], 1, shape["Tk"])])
    )
    g = torch.Generator().manual_seed(shape["seed"] + 1)
    mask = torch.rand(mask_shape, generator=g) < 0.6
    compare_with_sdpa(q, k, v, {"mask": mask}, {"attn_mask": mask}, dtype)


@DTYPES
@FAST
@given(shape=qkv_shapes())
def test_matches_torch_sdpa_causal(shape: dict, dtype: torch.dtype) -> None:
    shape["Tk"] = shape["Tq"]  # is_causal means the square lower triangle
    q, k, v = random_qkv(shape, dtype)
    mask = causal_mask(shape["Tq"])
    compare_with_sdpa(q, k, v, {"mask": mask}, {"is_causal": True}, dtype)


@DTYPES
@FAST
@given(shape=qkv_shapes(), data=st.data())
def test_matches_torch_sdpa_padding(shape: dict, data: st.DataObject, dtype: torch.dtype) -> None:
    shape["batch"] = (data.draw(st.integers(1, 4)),)
    B, Tk = shape["batch"][0], shape["Tk"]
    lengths = torch.tensor(data.draw(st.lists(st.integers(0, Tk), min_size=B, max_size=B)))
    q, k, v = random_qkv(shape, dtype)
    mask = padding_mask(lengths, Tk)
    reference = (torch.arange(Tk)[None, :] < lengths[:, None])[:, None, :]
    assert torch.equal(mask, reference)
    compare_with_sdpa(q, k, v, {"mask": mask}, {"attn_mask": mask}, dtype)


def test_matches_torch_sdpa_causal_and_padding_with_heads() -> None:
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 2, 5, 4, generator=g, dtype=torch.float64) for _ in range(3))
    lengths = torch.tensor([5, 3, 1])
    mask = (causal_mask(5) & padding_mask(lengths, 5))[:, None]  # (B, 1 head axis, T, T)
    compare_with_sdpa(q, k, v, {"mask": mask}, {"attn_mask": mask}, torch.float64)


def test_fully_masked_rows_give_zeros_and_finite_gradients() -> None:
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 4, generator=g, dtype=torch.float64)
    k, v = (
        torch.randn(2, 5, 4, generator=g, dtype=torch.float64),
        torch.randn(2, 5, 2, dtype=torch.float64),
    )
    mask = padding_mask(torch.tensor([0, 2]), 5)  # sequence 0 has no keys at all
    out, q_grad, k_grad, v_grad = output_and_grads(attention, q, k, v, mask=mask)
    assert torch.equal(out[0], torch.zeros(3, 2, dtype=torch.float64))
    assert torch.equal(attention_weights(q, k, mask)[0], torch.zeros(3, 5, dtype=torch.float64))
    assert torch.equal(q_grad[0], torch.zeros_like(q_grad[0]))
    assert (
        torch.isfinite(out).all() and torch.isfinite(k_grad).all() and torch.isfinite(v_grad).all()
    )
    assert out[1].abs().sum() > 0


def test_dropout_only_in_training_and_on_the_weights() -> None:
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, 3, generator=g) for _ in range(3))
    assert torch.equal(attention(q, k, v, dropout_p=0.5, training=False), attention(q, k, v))
    torch.manual_seed(7)
    dropped = attention(q, k, v, dropout_p=0.5, training=True)
    torch.manual_seed(7)
    expected = F.dropout(attention_weights(q, k), 0.5, training=True) @ v
    torch.testing.assert_close(dropped, expected)
    assert not torch.allclose(dropped, attention(q, k, v))


# ---------------------------------------------------------------- properties


@FAST
@given(shape=qkv_shapes())
def test_weight_rows_sum_to_one_or_zero(shape: dict) -> None:
    q, k, _ = random_qkv(shape, torch.float64)
    mask = torch.rand(shape["Tq"], shape["Tk"], generator=torch.Generator().manual_seed(2)) < 0.5
    weights = attention_weights(q, k, mask)
    expected = mask.any(dim=-1).to(torch.float64).expand(weights.shape[:-1])
    torch.testing.assert_close(weights.sum(dim=-1), expected, atol=1e-12, rtol=0)
    assert (weights >= 0).all()
    assert (weights[..., ~mask] == 0).all()  # blocked keys get exactly zero weight


@FAST
@given(shape=qkv_shapes())
def test_causal_weights_are_zero_above_the_diagonal(shape: dict) -> None:
    shape["Tk"] = shape["Tq"]
    q, k, _ = random_qkv(shape, torch.float32)
    weights = attention_weights(q, k, causal_mask(shape["Tq"]))
    above = torch.ones(shape["Tq"], shape["Tq"], dtype=torch.bool).triu(diagonal=1)
    assert (weights[..., above] == 0).all()
    assert (weights[..., 0, 0] == 1).all()  # the first position can only see itself


@FAST
@given(shape=qkv_shapes())
def test_permuting_keys_and_values_together_changes_nothing(shape: dict) -> None:
    q, k, v = random_qkv(shape, torch.float64)
    mask = torch.rand(shape["Tq"], shape["Tk"], generator=torch.Generator().manual_seed(3)) < 0.7
    perm = torch.randperm(shape["Tk"], generator=torch.Generator().manual_seed(4))
    out, weights = attention_with_weights(q, k, v, mask)
    out_p, weights_p = attention_with_weights(q, k[..., perm, :], v[..., perm, :], mask[:, perm])
    torch.testing.assert_close(out_p, out, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(weights_p, weights[..., perm], atol=1e-12, rtol=1e-10)


@FAST
@given(shape=qkv_shapes())
def test_permuting_queries_permutes_outputs(shape: dict) -> None:
    q, k, v = random_qkv(shape, torch.float64)
    perm = torch.randperm(shape["Tq"], generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(
        attention(q[..., perm, :], k, v), attention(q, k, v)[..., perm, :], atol=1e-12, rtol=1e-10
    )


@FAST
@given(shape=qkv_shapes())
def test_masked_keys_have_no_influence(shape: dict) -> None:
    q, k, v = random_qkv(shape, torch.float64)
    mask = torch.rand(shape["Tq"], shape["Tk"], generator=torch.Generator().manual_seed(6)) < 0.5
    blocked_for_all = ~mask.any(dim=0)  # keys no query may see
    k2, v2 = k.clone(), v.clone()
    k2[..., blocked_for_all, :] = 1e6
    v2[..., blocked_for_all, :] = -1e6
    assert torch.equal(attention(q, k2, v2, mask), attention(q, k, v, mask))


def test_scaling_keeps_score_variance_near_one() -> None:
    # Why 1/sqrt(d): for unit-variance q and k the raw dot product has variance d.
    g = torch.Generator().manual_seed(0)
    d = 256
    q, k = torch.randn(4096, d, generator=g), torch.randn(4096, d, generator=g)
    raw = (q * k).sum(dim=-1)
    assert 0.9 * d < raw.var() < 1.1 * d
    assert 0.9 < (raw / d**0.5).var() < 1.1


# ---------------------------------------------------------------- oracle: nn.MultiheadAttention


def mha_inputs(B: int, Tq: int, Tk: int, E: int, seed: int) -> tuple[Tensor, Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(B, T, E, generator=g, dtype=torch.float64, requires_grad=True)
        for T in (Tq, Tk, Tk)
    )


def mha_masks(B: int, Tq: int, Tk: int, kind: str, seed: int) -> tuple[Tensor | None, dict]:
    """Our mask (True = may attend) and the same mask in torch's kwargs (True = blocked)."""
    g = torch.Generator().manual_seed(seed)
    if kind == "none":
        return None, {}
    lengths = torch.randint(1, Tk + 1, (B,), generator=g)  # >= 1: torch gives NaN otherwise
    if kind == "padding":
        return padding_mask(lengths, Tk), {"key_padding_mask": ~padding_mask(lengths, Tk)[:, 0]}
    if kind == "causal+padding":
        causal = torch.ones(Tq, Tk, dtype=torch.bool).tril()
        torch_kwargs = {"attn_mask": ~causal, "key_padding_mask": ~padding_mask(lengths, Tk)[:, 0]}
        return causal & padding_mask(lengths, Tk), torch_kwargs
    assert kind == "per-example"
    mask = torch.rand(B, Tq, Tk, generator=g) < 0.5
    mask[..., 0] = True  # every query keeps at least one key
    return mask, {"per_example": mask}


MASKS = ["none", "padding", "causal+padding", "per-example"]


@pytest.mark.parametrize("direction", ["load_from_torch", "to_torch"])
@pytest.mark.parametrize("mask_kind", MASKS)
@settings(max_examples=6, deadline=None)
@given(
    B=st.integers(1, 3),
    Tq=st.integers(1, 5),
    Tk=st.integers(1, 5),
    heads=st.sampled_from([1, 2, 4]),
    head_dim=st.integers(1, 3),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_matches_torch_multihead_attention(
    direction: str,
    mask_kind: str,
    B: int,
    Tq: int,
    Tk: int,
    heads: int,
    head_dim: int,
    bias: bool,
    seed: int,
) -> None:
    E = heads * head_dim
    torch.manual_seed(seed)
    if direction == "load_from_torch":
        theirs = nn.MultiheadAttention(E, heads, bias=bias, batch_first=True).double()
        with torch.no_grad():  # torch starts biases at zero; make them count
            for p in theirs.parameters():
                p.add_(0.1 * torch.randn_like(p))
        mine = MultiHeadAttention(E, heads, bias=bias).double().load_from_torch(theirs)
    else:
        mine = MultiHeadAttention(E, heads, bias=bias).double()
        theirs = mine.to_torch()
    mask, torch_kwargs = mha_masks(B, Tq, Tk, mask_kind, seed)
    if "per_example" in torch_kwargs:  # torch wants (B * heads, Tq, Tk), head index fastest
        torch_kwargs = {"attn_mask": ~torch_kwargs.pop("per_example").repeat_interleave(heads, 0)}

    inputs = mha_inputs(B, Tq, Tk, E, seed)
    out, weights = mine(*inputs, mask=mask, need_weights=True)
    _, per_head = mine(*inputs, mask=mask, need_weights=True, average_weights=False)
    inputs_t = [x.detach().clone().requires_grad_() for x in inputs]
    out_t, weights_t = theirs(*inputs_t, need_weights=True, **torch_kwargs)
    _, per_head_t = theirs(*inputs_t, need_weights=True, average_attn_weights=False, **torch_kwargs)

    close(out, out_t, torch.float64)
    close(weights, weights_t, torch.float64)
    close(per_head, per_head_t, torch.float64)

    upstream = torch.randn(out.shape, dtype=torch.float64)
    (out * upstream).sum().backward()
    (out_t * upstream).sum().backward()
    for x, x_t in zip(inputs, inputs_t, strict=True):
        close(x.grad, x_t.grad, torch.float64)
    in_grad = torch.cat([p.weight.grad for p in (mine.q_proj, mine.k_proj, mine.v_proj)])
    close(in_grad, theirs.in_proj_weight.grad, torch.float64)
    close(mine.out_proj.weight.grad, theirs.out_proj.weight.grad, torch.float64)
    if bias:
        in_bias_grad = torch.cat([p.bias.grad for p in (mine.q_proj, mine.k_proj, mine.v_proj)])
        close(in_bias_grad, theirs.in_proj_bias.grad, torch.float64)
        close(mine.out_proj.bias.grad, theirs.out_proj.bias.grad, torch.float64)


def test_matches_torch_multihead_attention_sequence_first_self_attention() -> None:
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(8, 2, batch_first=False).double()
    mine = MultiHeadAttention(8, 2, batch_first=False).double().load_from_torch(theirs)
    x = torch.randn(5, 3, 8, dtype=torch.float64)  # (T, B, E)
    out, _ = mine(x, x, x, mask=causal_mask(5))
    out_t, _ = theirs(x, x, x, attn_mask=~causal_mask(5), need_weights=False)
    close(out, out_t, torch.float64)
    back = mine.to_torch()
    assert back.batch_first is False
    close(back(x, x, x, attn_mask=~causal_mask(5), need_weights=False)[0], out_t, torch.float64)


def test_multihead_round_trip_and_errors() -> None:
    mine = MultiHeadAttention(6, 3)
    back = MultiHeadAttention(6, 3).load_from_torch(mine.to_torch())
    for a, b in zip(mine.parameters(), back.parameters(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(6, 4)
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(6, 2).load_from_torch(nn.MultiheadAttention(6, 3))
    with pytest.raises(ValueError, match="biases"):
        MultiHeadAttention(6, 3, bias=False).load_from_torch(nn.MultiheadAttention(6, 3))


def test_multihead_dropout_acts_only_in_training() -> None:
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2, dropout=0.5)
    x = torch.randn(2, 4, 8)
    mha.eval()
    first, _ = mha(x, x, x)
    assert torch.equal(first, mha(x, x, x)[0])
    mha.train()
    assert not torch.allclose(mha(x, x, x)[0], first)
