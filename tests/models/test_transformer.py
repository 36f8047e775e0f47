"""Oracle tests: our Transformer against torch.nn.Transformer with copied weights (float64)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from groundup.models.decoding import beam_search, greedy_search
from groundup.models.transformer import (
    DecoderLayer,
    EncoderLayer,
    Seq2SeqTransformer,
    Transformer,
    decoder_self_mask,
    from_torch_state,
    inverse_sqrt_lr,
    key_mask,
    load_torch_state,
    sinusoidal_positions,
)

# float64 and dropout 0: the two implementations differ only in the order of floating-point
# operations, so outputs and gradients agree to ~1e-12; 1e-9 leaves room without hiding bugs.
TOL = dict(rtol=1e-9, atol=1e-9)
E, H, FF = 16, 4, 24
VARIANTS = [(nf, act) for nf in (False, True) for act in ("relu", "gelu")]


def lengths_to_real(lengths: list[int], T: int) -> torch.Tensor:
    return torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]  # (B, T), True = real


def inputs(seed: int, B: int = 3, S: int = 7, T: int = 5):
    g = torch.Generator().manual_seed(seed)
    src = torch.randn(B, S, E, generator=g, dtype=torch.float64)
    tgt = torch.randn(B, T, E, generator=g, dtype=torch.float64)
    src_real = lengths_to_real([S, S - 2, 3], S)
    tgt_real = lengths_to_real([T, T - 1, 2], T)
    return src, tgt, src_real, tgt_real


def blocked_future(T: int) -> torch.Tensor:
    """torch's causal mask as bool, True = blocked (same type as its key padding masks)."""
    return torch.ones(T, T, dtype=torch.bool).triu(1)


def assert_same_grads(ours: nn.Module, theirs: nn.Module) -> None:
    their_grads = from_torch_state({n: p.grad for n, p in theirs.named_parameters()})
    our_grads = {n: p.grad for n, p in ours.named_parameters()}
    assert our_grads.keys() == their_grads.keys()
    for name, grad in our_grads.items():
        torch.testing.assert_close(grad, their_grads[name], **TOL, msg=name)


def pair(ours_cls, torch_cls, norm_first: bool, activation: str, seed: int = 0):
    torch.manual_seed(seed)
    theirs = torch_cls(
        E, H, FF, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first
    ).double()
    # Nudge the LayerNorm gains and biases off 1 and 0, so a swapped norm would show.
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    ours = ours_cls(E, H, FF, dropout=0.0, activation=activation, norm_first=norm_first)
    return load_torch_state(ours.double(), theirs), theirs


@pytest.mark.parametrize("norm_first,activation", VARIANTS)
def test_matches_torch_encoder_layer(norm_first: bool, activation: str) -> None:
    ours, theirs = pair(EncoderLayer, nn.TransformerEncoderLayer, norm_first, activation)
    src, _, src_real, _ = inputs(1)
    x1 = src.clone().requires_grad_()
    x2 = src.clone().requires_grad_()
    out = ours(x1, key_mask(src_real))
    ref = theirs(x2, src_key_padding_mask=~src_real)
    torch.testing.assert_close(out, ref, **TOL)
    weight = torch.randn_like(out)
    (out * weight).sum().backward()
    (ref * weight).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, **TOL)
    assert_same_grads(ours, theirs)


@pytest.mark.parametrize("norm_first,activation", VARIANTS)
def test_matches_torch_decoder_layer(norm_first: bool, activation: str) -> None:
    ours, theirs = pair(DecoderLayer, nn.TransformerDecoderLayer, norm_first, activation)
    memory, tgt, src_real, tgt_real = inputs(2)
    T = tgt.size(1)
    y1, m1 = tgt.clone().requires_grad_(), memory.clone().requires_grad_()
    y2, m2 = tgt.clone().requires_grad_(), memory.clone().requires_grad_()
    out = ours(y1, m1, decoder_self_mask(tgt_real, T, y1.device), key_mask(src_real))
    ref = theirs(
        y2,
        m2,
        tgt_mask=blocked_future(T),
        tgt_key_padding_mask=~tgt_real,
        memory_key_padding_mask=~src_real,
        tgt_is_causal=True,
    )
    torch.testing.assert_close(out, ref, **TOL)
    weight = torch.randn_like(out)
    (out * weight).sum().backward()
    (ref * weight).sum().backward()
    torch.testing.assert_close(y1.grad, y2.grad, **TOL)
    torch.testing.assert_close(m1.grad, m2.grad, **TOL)
    assert_same_grads(ours, theirs)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's own notice
@pytest.mark.parametrize("norm_first,activation", VARIANTS)
def test_matches_torch_transformer(norm_first: bool, activation: str) -> None:
    torch.manual_seed(3)
    kwargs = dict(dim_feedforward=FF, dropout=0.0, activation=activation, norm_first=norm_first)
    theirs = nn.Transformer(E, H, 2, 2, batch_first=True, **kwargs).double()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    ours = load_torch_state(Transformer(E, H, 2, 2, **kwargs).double(), theirs)
    src, tgt, src_real, tgt_real = inputs(4)
    T = tgt.size(1)
    s1, t1 = src.clone().requires_grad_(), tgt.clone().requires_grad_()
    s2, t2 = src.clone().requires_grad_(), tgt.clone().requires_grad_()
    out = ours(
        s1,
        t1,
        src_mask=key_mask(src_real),
        tgt_mask=decoder_self_mask(tgt_real, T, s1.device),
        memory_mask=key_mask(src_real),
    )
    ref = theirs(
        s2,
        t2,
        tgt_mask=blocked_future(T),
        src_key_padding_mask=~src_real,
        tgt_key_padding_mask=~tgt_real,
        memory_key_padding_mask=~src_real,
        tgt_is_causal=True,
    )
    torch.testing.assert_close(out, ref, **TOL)
    weight = torch.randn_like(out)
    (out * weight).sum().backward()
    (ref * weight).sum().backward()
    torch.testing.assert_close(s1.grad, s2.grad, **TOL)
    torch.testing.assert_close(t1.grad, t2.grad, **TOL)
    assert_same_grads(ours, theirs)


def test_weight_copy_covers_every_parameter() -> None:
    theirs = nn.Transformer(E, H, 1, 1, FF, batch_first=True)
    ours = Transformer(E, H, 1, 1, FF)
    renamed = from_torch_state(theirs.state_dict())
    assert renamed.keys() == ours.state_dict().keys()
    # in_proj_weight (3E, E) is W^Q, W^K, W^V stacked by rows, in that order.
    w = theirs.decoder.layers[0].multihead_attn.in_proj_weight
    torch.testing.assert_close(
        renamed["decoder.layers.0.multihead_attn.k_proj.weight"], w[E : 2 * E]
    )


def test_sinusoidal_table_matches_the_formula_of_the_paper() -> None:
    max_len, d = 50, 12
    table = sinusoidal_positions(max_len, d)
    for pos in range(max_len):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_masks_causal_and_padding() -> None:
    real = torch.tensor([[True, True, False]])
    mask = decoder_self_mask(real, 3, torch.device("cpu"))
    expected = torch.tensor([[[1, 0, 0], [1, 1, 0], [1, 1, 0]]], dtype=torch.bool)
    assert torch.equal(mask, expected)


def test_decoder_output_does_not_depend_on_later_target_tokens() -> None:
    torch.manual_seed(0)
    model = Seq2SeqTransformer(10, 10, d_model=16, nhead=2, dim_feedforward=32, dropout=0.0)
    src = torch.tensor([[3, 4, 5, 0]])
    tgt = torch.tensor([[1, 6, 7, 8]])
    changed = tgt.clone()
    changed[0, 3] = 9
    torch.testing.assert_close(model(src, tgt)[:, :3], model(src, changed)[:, :3])
    assert not torch.allclose(model(src, tgt)[:, 3], model(src, changed)[:, 3])


def test_padding_in_the_source_changes_nothing() -> None:
    torch.manual_seed(0)
    model = Seq2SeqTransformer(10, 10, d_model=16, nhead=2, dim_feedforward=32, dropout=0.0)
    tgt = torch.tensor([[1, 6, 7]])
    short = model(torch.tensor([[3, 4, 5]]), tgt)
    padded = model(torch.tensor([[3, 4, 5, 0, 0]]), tgt)
    torch.testing.assert_close(short, padded, rtol=1e-5, atol=1e-5)


def test_greedy_decode_matches_step_by_step_argmax() -> None:
    torch.manual_seed(1)
    model = Seq2SeqTransformer(10, 10, d_model=16, nhead=2, dim_feedforward=32, dropout=0.0)
    model.eval()
    src = torch.tensor([[3, 4, 5, 6]])
    out = model.greedy_decode(src, bos_id=1, eos_id=2, max_len=6)
    tgt = torch.tensor([[1]])
    for _ in range(out.size(1)):
        tgt = torch.cat([tgt, model(src, tgt)[:, -1].argmax(-1, keepdim=True)], dim=1)
        if tgt[0, -1] == 2:
            break
    assert torch.equal(out[0, : tgt.size(1) - 1], tgt[0, 1:])


def test_inverse_sqrt_lr_is_the_formula_of_the_paper() -> None:
    d, warmup = 64, 100
    for step in (1, 50, 100, 101, 400, 10_000):
        expected = d**-0.5 * min(step**-0.5, step * warmup**-1.5)
        assert inverse_sqrt_lr(step, d, warmup) == pytest.approx(expected, rel=1e-12)
    peak = max(range(1, 1000), key=lambda s: inverse_sqrt_lr(s, d, warmup))
    assert peak == warmup


# ---------------------------------------------------------------- the searches of decoding.py


def small_model(seed: int = 3) -> Seq2SeqTransformer:
    torch.manual_seed(seed)
    model = Seq2SeqTransformer(12, 9, d_model=16, nhead=2, dim_feedforward=32, dropout=0.0)
    return model.eval()


# three sources of different lengths: the padded ones must not see each other's memory
SOURCES = torch.tensor([[3, 4, 5, 6, 7], [8, 9, 0, 0, 0], [5, 11, 4, 0, 0]])
BOS = torch.ones(3, 1, dtype=torch.long)


def test_greedy_search_with_step_function_is_greedy_decode() -> None:
    model = small_model()
    ours = model.greedy_decode(SOURCES, bos_id=1, eos_id=2, max_len=8)
    found = greedy_search(
        model.step_function(SOURCES), BOS, max_new_tokens=8, eos_token_id=2, pad_token_id=0
    )
    assert torch.equal(found.sequences[:, 1:], ours)


def test_beam_of_one_is_greedy_decode() -> None:
    model = small_model()
    ours = model.greedy_decode(SOURCES, bos_id=1, eos_id=2, max_len=8)
    found = beam_search(model.step_function(SOURCES, copies=1), BOS, num_beams=1,
                        max_new_tokens=8, eos_token_id=2, pad_token_id=0)  # fmt: skip
    assert torch.equal(found.sequences[:, 1 : 1 + ours.size(1)], ours)


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_search_rows_match_one_sentence_at_a_time(length_penalty: float) -> None:
    """copies=num_beams lines each hypothesis up with its own source: a batch gives the same
    beams as each sentence alone, and the score is the teacher-forced log-probability of the
    returned words divided by their count ** length_penalty (to 1e-5, float32)."""
    model, beams = small_model(), 3
    batch = beam_search(model.step_function(SOURCES, copies=beams), BOS, beams,
                        max_new_tokens=6, length_penalty=length_penalty, eos_token_id=2,
                        pad_token_id=0)  # fmt: skip
    for i in range(3):
        src = SOURCES[i : i + 1, : int((SOURCES[i] != 0).sum())]
        alone = beam_search(model.step_function(src, copies=beams), BOS[:1], beams,
                            max_new_tokens=6, length_penalty=length_penalty, eos_token_id=2,
                            pad_token_id=0)  # fmt: skip
        length = alone.sequences.size(1)
        assert torch.equal(batch.sequences[i, :length], alone.sequences[0])
        assert (batch.sequences[i, length:] == 0).all()
        torch.testing.assert_close(batch.scores[i], alone.scores[0], rtol=1e-5, atol=1e-5)

        words = alone.sequences[0, 1:]
        ended = (words == 2).nonzero()
        words = words[: int(ended[0]) + 1] if len(ended) else words
        log_probs = torch.log_softmax(model(src, torch.cat([BOS[0], words[:-1]])[None]), -1)
        total = log_probs[0, torch.arange(len(words)), words].sum()
        torch.testing.assert_close(
            alone.scores[0], total / len(words) ** length_penalty, rtol=1e-5, atol=1e-5
        )


def test_step_function_refuses_rows_that_do_not_match_the_sources() -> None:
    step = small_model().step_function(SOURCES, copies=2)
    with pytest.raises(ValueError, match="expected 6 rows"):
        step(torch.ones(3, 1, dtype=torch.long))
