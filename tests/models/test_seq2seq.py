"""Oracle tests for the attentional GRU encoder-decoder (groundup.models.seq2seq).

Score functions are checked in float64 against a loop transcription of the papers' equations
(one query, one key at a time: Bahdanau et al. 2015 appendix A.1.2, Luong et al. 2015 §3.1),
values and gradients to atol 1e-12, and against torch.nn.functional.scaled_dot_product_attention
(dot and general) plus torch.autograd.gradcheck. The encoder is compared with torch.nn.GRU with
copied weights (atol 1e-10); the decoder against its equations written out with
torch.nn.GRUCell (copied weights) and the loop attention, values and gradients (atol 1e-12),
and its step loop against its batched forward. A reversal task checks that the model learns.
"""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from groundup.models.seq2seq import SCORES, Attention, Decoder, Encoder, Seq2Seq, length_mask

TOL = {"atol": 1e-12, "rtol": 1e-10}


def make_inputs(seed: int, B: int = 3, T: int = 4, S: int = 5, Q: int = 6, K: int = 6):
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(B, T, Q, generator=g, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(B, S, K, generator=g, dtype=torch.float64, requires_grad=True)
    lengths = torch.randint(1, S + 1, (B,), generator=g)
    lengths[0] = S  # one full row
    return query, keys, length_mask(lengths, S)


def make_attention(score: str, Q: int = 6, K: int = 6, seed: int = 0) -> Attention:
    torch.manual_seed(seed)
    return Attention(score, Q, K, attention_size=5).double()


def paper_score(attn: Attention, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """One query vector q and one key vector k, the equations as printed."""
    if attn.score_name == "additive":  # e_ij = v_a^T tanh(W_a s_{i-1} + U_a h_j)
        W_a, U_a, v_a = attn.w_query.weight, attn.w_key.weight, attn.v.weight[0]
        return v_a @ torch.tanh(W_a @ q + U_a @ k)
    if attn.score_name == "dot":  # h_t^T h_s
        return q @ k
    if attn.score_name == "general":  # h_t^T W_a h_s
        return q @ (attn.w.weight @ k)
    W_a, v_a = attn.w.weight, attn.v.weight[0]  # v_a^T tanh(W_a [h_t; h_s])
    return v_a @ torch.tanh(W_a @ torch.cat([q, k]))


def paper_attention(attn: Attention, query, keys, mask):
    """a_t(s) = exp(score_s) / sum over real s' of exp(score_s'); c_t = sum_s a_t(s) h_s."""
    B, T, S = query.shape[0], query.shape[1], keys.shape[1]
    contexts, all_weights = [], []
    for b in range(B):
        real = [s for s in range(S) if mask[b, s]]
        for t in range(T):
            e = {s: paper_score(attn, query[b, t], keys[b, s]) for s in real}
            denom = sum(torch.exp(v) for v in e.values())
            w = [torch.exp(e[s]) / denom if s in e else keys.new_zeros(()) for s in range(S)]
            all_weights.append(torch.stack(w))
            contexts.append(sum(w[s] * keys[b, s] for s in real))
    K = keys.shape[-1]
    return torch.stack(contexts).view(B, T, K), torch.stack(all_weights).view(B, T, S)


@pytest.mark.parametrize("score", SCORES)
def test_matches_paper_equations_values_and_gradients(score: str) -> None:
    Q = K = 6
    query, keys, mask = make_inputs(1, Q=Q, K=K)
    attn = make_attention(score, Q, K)
    context, weights = attn(query, keys, mask)
    ref_context, ref_weights = paper_attention(attn, query, keys, mask)
    torch.testing.assert_close(context, ref_context, **TOL)
    torch.testing.assert_close(weights, ref_weights, **TOL)

    upstream = torch.randn_like(context)
    inputs = [query, keys, *attn.parameters()]
    ours = torch.autograd.grad((context * upstream).sum() + weights[..., 0].sum(), inputs)
    theirs = torch.autograd.grad((ref_context * upstream).sum() + ref_weights[..., 0].sum(), inputs)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, **TOL)


def test_matches_paper_equations_with_different_query_and_key_sizes() -> None:
    query, keys, mask = make_inputs(2, Q=4, K=7)
    for score in ("additive", "general", "concat"):
        attn = make_attention(score, 4, 7)
        ours_pair, ref_pair = attn(query, keys, mask), paper_attention(attn, query, keys, mask)
        for ours, ref in zip(ours_pair, ref_pair, strict=True):
            torch.testing.assert_close(ours, ref, **TOL)


@pytest.mark.parametrize("score", ["dot", "general"])
def test_matches_torch_scaled_dot_product_attention(score: str) -> None:
    query, keys, mask = make_inputs(3)
    attn = make_attention(score)
    context, _ = attn(query, keys, mask)
    # general: q . (W k) is dot attention with keys W k and the raw annotations as values
    torch_keys = keys if score == "dot" else attn.w(keys)
    ref = F.scaled_dot_product_attention(
        query, torch_keys, keys, attn_mask=mask[:, None], scale=1.0
    )
    torch.testing.assert_close(context, ref, **TOL)
    upstream = torch.randn_like(context)
    inputs = [query, keys, *attn.parameters()]
    ours = torch.autograd.grad((context * upstream).sum(), inputs)
    theirs = torch.autograd.grad((ref * upstream).sum(), inputs)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("score", SCORES)
def test_gradcheck(score: str) -> None:
    query, keys, mask = make_inputs(4, B=2, T=2, S=3, Q=3, K=3)
    attn = make_attention(score, 3, 3)

    def f(q, k):
        context, weights = attn(q, k, mask)
        return context, weights

    assert torch.autograd.gradcheck(f, (query, keys))


def test_concat_equals_additive_with_stacked_weights() -> None:
    query, keys, mask = make_inputs(5, Q=4, K=7)
    additive, concat = make_attention("additive", 4, 7), make_attention("concat", 4, 7, seed=1)
    with torch.no_grad():
        concat.w.weight.copy_(torch.cat([additive.w_query.weight, additive.w_key.weight], 1))
        concat.v.weight.copy_(additive.v.weight)
    for a, b in zip(additive(query, keys, mask), concat(query, keys, mask), strict=True):
        torch.testing.assert_close(a, b, **TOL)


@settings(max_examples=20, deadline=None)
@given(
    score=st.sampled_from(SCORES),
    B=st.integers(1, 4),
    T=st.integers(1, 3),
    S=st.integers(1, 6),
    seed=st.integers(0, 10_000),
)
def test_masked_positions_get_zero_weight_and_weights_sum_to_one(score, B, T, S, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(B, T, 4, generator=g) * 5  # large scores: softmax far from uniform
    keys = torch.randn(B, S, 4, generator=g) * 5
    lengths = torch.randint(1, S + 1, (B,), generator=g)
    mask = length_mask(lengths, S)
    keys_padded = keys.masked_fill(~mask[..., None], 1e6)  # garbage at padding must not leak
    context, weights = make_attention(score, 4, 4).float()(query, keys_padded, mask)
    assert torch.all(weights[~mask[:, None].expand(-1, T, -1)] == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T), atol=1e-6, rtol=0)
    assert torch.all(context.abs() < 1e5)
    single_context, single_weights = make_attention(score, 4, 4).float()(query[:, 0], keys, mask)
    assert single_context.shape == (B, 4) and single_weights.shape == (B, S)


def test_matches_torch_gru_encoder_with_copied_weights() -> None:
    torch.manual_seed(0)
    encoder = Encoder(vocab_size=11, embed_size=5, hidden_size=4, bidirectional=True).double()
    reference = torch.nn.GRU(5, 4, batch_first=True, bidirectional=True).double()
    reference.load_state_dict(encoder.rnn.state_dict())
    src = torch.randint(0, 11, (3, 6))
    lengths = torch.tensor([6, 2, 4])
    annotations, final = encoder(src, lengths)

    embedded = encoder.embed(src)
    packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
    out, h_n = reference(packed)
    ref_annotations, _ = pad_packed_sequence(out, batch_first=True, total_length=6)
    ref_final = torch.cat([h_n[0], h_n[1]], -1)
    tol = {"atol": 1e-10, "rtol": 1e-7}
    torch.testing.assert_close(annotations, ref_annotations, **tol)
    torch.testing.assert_close(final, ref_final, **tol)

    upstream = torch.randn_like(annotations)
    loss = (annotations * upstream).sum() + final.sum()
    ref_loss = (ref_annotations * upstream).sum() + ref_final.sum()
    ours = torch.autograd.grad(loss, [encoder.embed.weight, *encoder.rnn.parameters()])
    theirs = torch.autograd.grad(ref_loss, [encoder.embed.weight, *reference.parameters()])
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, **tol)


DECODERS = [
    ("bahdanau", "additive", False),
    ("luong", "dot", False),
    ("luong", "general", True),
    ("luong", "concat", False),
    ("luong", "additive", True),
]


@pytest.mark.parametrize(("style", "score", "feeding"), DECODERS)
def test_teacher_forced_step_loop_equals_forward(style: str, score: str, feeding: bool) -> None:
    torch.manual_seed(0)
    decoder = Decoder(9, 5, 6, 6, style=style, score=score, input_feeding=feeding).double()
    keys = torch.randn(3, 5, 6, dtype=torch.float64)
    mask = length_mask(torch.tensor([5, 3, 1]), 5)
    init = torch.randn(3, 6, dtype=torch.float64)
    tgt_in = torch.randint(0, 9, (3, 4))
    logits, weights = decoder(tgt_in, keys, mask, init)
    assert logits.shape == (3, 4, 9) and weights.shape == (3, 4, 5)

    state, step_logits, step_weights = decoder.initial_state(init), [], []
    for t in range(4):
        out, state, w = decoder.step(tgt_in[:, t], state, keys, mask)
        step_logits.append(out)
        step_weights.append(w)
    torch.testing.assert_close(logits, torch.stack(step_logits, 1), **TOL)
    torch.testing.assert_close(weights, torch.stack(step_weights, 1), **TOL)
    assert torch.all(weights[2, :, 1:] == 0)  # the length-1 row attends only to position 0


@pytest.mark.parametrize(("style", "score", "feeding"), DECODERS)
def test_matches_decoder_equations_with_torch_gru_cell(
    style: str, score: str, feeding: bool
) -> None:
    """The decoder written out from the equations in the module docstring, with
    torch.nn.GRUCell (weights copied) as the recurrence and paper_attention for the context."""
    torch.manual_seed(0)
    decoder = Decoder(9, 5, 6, 6, style=style, score=score, input_feeding=feeding).double()
    cell = torch.nn.GRUCell(decoder.cell.input_size, 6).double()
    cell.load_state_dict(decoder.cell.state_dict())
    keys = torch.randn(3, 5, 6, dtype=torch.float64)
    mask = length_mask(torch.tensor([5, 3, 1]), 5)
    init = torch.randn(3, 6, dtype=torch.float64)
    tgt_in = torch.randint(0, 9, (3, 4))
    logits, weights = decoder(tgt_in, keys, mask, init)

    s = torch.tanh(init @ decoder.init.weight.T + decoder.init.bias)  # s_0 = tanh(W_init h)
    h_tilde = torch.zeros_like(s)
    ref_logits, ref_weights = [], []
    for t in range(4):
        e = decoder.embed.weight[tgt_in[:, t]]
        if style == "bahdanau":
            c, a = paper_attention(decoder.attention, s[:, None], keys, mask)  # query s_{t-1}
            s = cell(torch.cat([e, c[:, 0]], -1), s)
            out = decoder.out(torch.cat([s, c[:, 0], e], -1))
        else:
            s = cell(torch.cat([e, h_tilde], -1) if feeding else e, s)
            c, a = paper_attention(decoder.attention, s[:, None], keys, mask)  # query h_t
            h_tilde = torch.tanh(torch.cat([c[:, 0], s], -1) @ decoder.combine.weight.T)
            out = h_tilde @ decoder.out.weight.T + decoder.out.bias
        ref_logits.append(out)
        ref_weights.append(a[:, 0])
    torch.testing.assert_close(logits, torch.stack(ref_logits, 1), **TOL)
    torch.testing.assert_close(weights, torch.stack(ref_weights, 1), **TOL)
    # gradients: the reference shares every parameter except the recurrence, which has copies
    names = [n for n, _ in decoder.named_parameters()]
    ours = torch.autograd.grad(logits.square().sum(), list(decoder.parameters()))
    ref_params = [
        dict(cell.named_parameters()).get(n[5:]) if n.startswith("cell.") else p
        for n, p in decoder.named_parameters()
    ]
    theirs = torch.autograd.grad(
        torch.stack(ref_logits, 1).square().sum(), ref_params, allow_unused=True
    )
    for name, a, b in zip(names, ours, theirs, strict=True):
        b = torch.zeros_like(a) if b is None else b  # unused by the reference: must be 0 here
        torch.testing.assert_close(a, b, **TOL, msg=name)


def test_bahdanau_query_is_previous_state_luong_query_is_current_state() -> None:
    """With one target step the Bahdanau weights depend only on s_0, not on the input token;
    the Luong weights do depend on it (its query is the state after reading the token)."""
    torch.manual_seed(0)
    keys = torch.randn(2, 5, 6)
    init = torch.randn(2, 6)
    for style, depends in (("bahdanau", False), ("luong", True)):
        decoder = Decoder(9, 5, 6, 6, style=style, score="general")
        _, w_a = decoder(torch.tensor([[1], [1]]), keys, None, init)
        _, w_b = decoder(torch.tensor([[2], [2]]), keys, None, init)
        assert (not torch.allclose(w_a, w_b)) == depends


@pytest.mark.parametrize(
    ("style", "score"), [("luong", "general"), ("luong", "dot"), ("bahdanau", "concat")]
)
def test_greedy_matches_teacher_forcing_on_its_own_output(style: str, score: str) -> None:
    torch.manual_seed(0)
    model = Seq2Seq(7, 8, embed_size=5, hidden_size=6, style=style, score=score).double()
    src, lengths = torch.randint(3, 7, (2, 5)), torch.tensor([5, 3])
    tokens, weights = model.greedy(src, lengths, bos=1, max_len=4)
    tgt_in = torch.cat([torch.ones(2, 1, dtype=torch.long), tokens[:, :-1]], 1)
    logits, tf_weights = model(src, lengths, tgt_in)
    assert torch.equal(logits.argmax(-1), tokens)
    torch.testing.assert_close(weights, tf_weights, **TOL)


def test_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="score"):
        Attention("cosine", 4, 4)
    with pytest.raises(ValueError, match="dot"):
        Attention("dot", 4, 5)
    with pytest.raises(ValueError, match="style"):
        Decoder(5, 4, 4, 4, style="vaswani")


PAD, BOS, EOS = 0, 1, 2


def reverse_batch(g: torch.Generator, batch: int = 32, max_len: int = 6, vocab: int = 8):
    """Random sequences of tokens 3..vocab-1 with random lengths; the target is the reverse."""
    lengths = torch.randint(2, max_len + 1, (batch,), generator=g)
    src = torch.randint(3, vocab, (batch, max_len), generator=g)
    src = src.masked_fill(~length_mask(lengths, max_len), PAD)
    tgt = torch.full((batch, max_len + 1), PAD)
    for b, n in enumerate(lengths.tolist()):
        tgt[b, :n] = src[b, :n].flip(0)
        tgt[b, n] = EOS
    tgt_in = torch.cat([torch.full((batch, 1), BOS), tgt[:, :-1]], 1)
    return src, lengths, tgt_in, tgt


@pytest.mark.parametrize(("style", "score"), [("bahdanau", "additive"), ("luong", "general")])
def test_learns_to_reverse_sequences(style: str, score: str) -> None:
    """300 Adam steps on reversal of length 2..6 sequences: the cross-entropy falls below 0.1
    and greedy decoding reverses at least 90% of fresh sequences exactly."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = Seq2Seq(8, 8, embed_size=16, hidden_size=32, style=style, score=score)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    start = time.perf_counter()
    for _ in range(300):
        src, lengths, tgt_in, tgt = reverse_batch(g)
        logits, _ = model(src, lengths, tgt_in)
        loss = F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    elapsed = time.perf_counter() - start
    assert loss.item() < 0.1, (loss.item(), elapsed)

    src, lengths, _, tgt = reverse_batch(g, batch=100)
    tokens, weights = model.greedy(src, lengths, bos=BOS, max_len=7, eos=EOS)
    real = tgt != PAD
    correct = ((tokens[:, : tgt.shape[1]] == tgt) | ~real).all(1).float().mean().item()
    assert correct >= 0.9, correct
    assert torch.all(weights[~length_mask(lengths, 6)[:, None].expand_as(weights)] == 0)


# ---------------------------------------------------------------- without attention


def test_no_attention_decoder_matches_its_equations_with_torch_gru_cell() -> None:
    """style="none": s_t = GRU([E y_{t-1}; h_enc], s_{t-1}), logits = W_o [s_t; h_enc; E y],
    written out with torch.nn.GRUCell (copied weights); values and gradients, atol 1e-12."""
    torch.manual_seed(0)
    decoder = Decoder(9, 5, 6, 8, style="none").double()
    assert not hasattr(decoder, "attention")
    cell = torch.nn.GRUCell(5 + 8, 6).double()
    cell.load_state_dict(decoder.cell.state_dict())
    init = torch.randn(3, 8, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(3, 4, 8, dtype=torch.float64)
    tgt_in = torch.randint(0, 9, (3, 5))
    logits, weights = decoder(tgt_in, keys, length_mask(torch.tensor([4, 2, 1]), 4), init)
    assert weights is None and logits.shape == (3, 5, 9)

    s = torch.tanh(init @ decoder.init.weight.T + decoder.init.bias)
    ref = []
    for t in range(5):
        e = decoder.embed.weight[tgt_in[:, t]]
        s = cell(torch.cat([e, init], -1), s)
        ref.append(torch.cat([s, init, e], -1) @ decoder.out.weight.T + decoder.out.bias)
    ref_logits = torch.stack(ref, 1)
    torch.testing.assert_close(logits, ref_logits, **TOL)

    upstream = torch.randn_like(logits)
    ours = torch.autograd.grad((logits * upstream).sum(), [init, *decoder.parameters()])
    ref_params = [
        dict(cell.named_parameters())[n[5:]] if n.startswith("cell.") else p
        for n, p in decoder.named_parameters()
    ]
    theirs = torch.autograd.grad((ref_logits * upstream).sum(), [init, *ref_params])
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, **TOL)


def test_no_attention_is_bahdanau_attending_to_a_source_of_copies_of_its_summary() -> None:
    """With every annotation equal to h_enc, any attention weights average to c_t = h_enc:
    the Bahdanau decoder with the same weights must then give the same logits."""
    torch.manual_seed(1)
    plain = Decoder(9, 5, 6, 8, style="none").double()
    attentive = Decoder(9, 5, 6, 8, style="bahdanau", score="additive").double()
    state = {k: v for k, v in attentive.state_dict().items() if not k.startswith("attention.")}
    plain.load_state_dict(state)
    init = torch.randn(2, 8, dtype=torch.float64)
    tgt_in = torch.randint(0, 9, (2, 4))
    copies = init[:, None].expand(-1, 3, -1)
    ours, _ = plain(tgt_in, copies, None, init)
    theirs, _ = attentive(tgt_in, copies, None, init)
    torch.testing.assert_close(ours, theirs, **TOL)


def test_no_attention_model_reads_the_source_only_through_the_final_state() -> None:
    """Changing the annotations but not the final state changes nothing; greedy decoding
    agrees with teacher forcing on its own output."""
    torch.manual_seed(2)
    model = Seq2Seq(7, 8, embed_size=5, hidden_size=6, style="none").double()
    src, lengths = torch.randint(3, 7, (2, 5)), torch.tensor([5, 3])
    keys, mask, final = model.encode(src, lengths)
    tgt_in = torch.randint(0, 8, (2, 4))
    a, _ = model.decoder(tgt_in, keys, mask, final)
    b, _ = model.decoder(tgt_in, torch.randn_like(keys), mask, final)
    torch.testing.assert_close(a, b, atol=0, rtol=0)
    tokens, weights = model.greedy(src, lengths, bos=1, max_len=4)
    assert weights is None
    tf_in = torch.cat([torch.ones(2, 1, dtype=torch.long), tokens[:, :-1]], 1)
    logits, _ = model(src, lengths, tf_in)
    assert torch.equal(logits.argmax(-1), tokens)
    with pytest.raises(ValueError, match="init_size"):
        Decoder(9, 5, 6, 8, style="none", init_size=4)
    # the dot score's width rule does not concern a decoder that attends to nothing
    assert Seq2Seq(7, 8, 5, 6, style="none", score="dot").decoder.hidden_size == 6
