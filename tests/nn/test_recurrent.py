"""Oracle tests: our RNN, LSTM and GRU against torch.nn.RNN/LSTM/GRU with copied weights.

Everything in float64. Outputs, final states and the gradients with respect to the input,
the initial states and every weight must agree to atol 1e-10, rtol 1e-7: both sides compute
the same sums in a possibly different order, so only rounding may differ (observed ~1e-15).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from groundup.nn.recurrent import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RNNCell,
    gru_step,
    reverse_padded,
)

TOL = {"atol": 1e-10, "rtol": 1e-7}
PAIRS = {"RNN": (RNN, torch.nn.RNN), "LSTM": (LSTM, torch.nn.LSTM), "GRU": (GRU, torch.nn.GRU)}


def make_pair(mode: str, seed: int, input_size: int, hidden: int, **kwargs):
    ours_cls, torch_cls = PAIRS[mode]
    torch.manual_seed(seed)
    theirs = torch_cls(input_size, hidden, **kwargs).double()
    ours = ours_cls(input_size, hidden, **kwargs).double()
    ours.load_state_dict(theirs.state_dict())  # same parameter names and shapes
    return ours, theirs


def assert_same_grads(ours, theirs, ours_inputs, theirs_inputs) -> None:
    for name, p in theirs.named_parameters():
        torch.testing.assert_close(dict(ours.named_parameters())[name].grad, p.grad, **TOL)
    for a, b in zip(ours_inputs, theirs_inputs, strict=True):
        torch.testing.assert_close(a.grad, b.grad, **TOL)


def random_state(mode: str, layers: int, batch: int, hidden: int, g: torch.Generator):
    shape = (layers, batch, hidden)
    h = torch.randn(*shape, generator=g, dtype=torch.float64)
    if mode == "LSTM":
        return [h, torch.randn(*shape, generator=g, dtype=torch.float64)]
    return [h]


configs = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["RNN", "LSTM", "GRU"]),
        "num_layers": st.integers(1, 3),
        "bidirectional": st.booleans(),
        "batch_first": st.booleans(),
        "bias": st.booleans(),
        "relu": st.booleans(),
        "T": st.integers(1, 6),
        "B": st.integers(1, 4),
        "input_size": st.integers(1, 5),
        "hidden": st.integers(1, 5),
        "with_state": st.booleans(),
        "seed": st.integers(0, 10_000),
    }
)


@settings(max_examples=40, deadline=None)
@given(configs)
def test_matches_torch_full_length(c: dict) -> None:
    mode = c["mode"]
    kwargs = {k: c[k] for k in ("num_layers", "bidirectional", "batch_first", "bias")}
    if mode == "RNN" and c["relu"]:
        kwargs["nonlinearity"] = "relu"
    ours, theirs = make_pair(mode, c["seed"], c["input_size"], c["hidden"], **kwargs)
    g = torch.Generator().manual_seed(c["seed"])
    shape = (c["B"], c["T"]) if c["batch_first"] else (c["T"], c["B"])
    x = torch.randn(*shape, c["input_size"], generator=g, dtype=torch.float64)
    D = 2 if c["bidirectional"] else 1
    states = random_state(mode, c["num_layers"] * D, c["B"], c["hidden"], g)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    s1 = [s.clone().requires_grad_() for s in states]
    s2 = [s.clone().requires_grad_() for s in states]
    hx1 = (tuple(s1) if mode == "LSTM" else s1[0]) if c["with_state"] else None
    hx2 = (tuple(s2) if mode == "LSTM" else s2[0]) if c["with_state"] else None

    out1, fin1 = ours(x1, hx1)
    out2, fin2 = theirs(x2, hx2)
    torch.testing.assert_close(out1, out2, **TOL)
    fin1, fin2 = (fin1, fin2) if mode == "LSTM" else ((fin1,), (fin2,))
    for a, b in zip(fin1, fin2, strict=True):
        torch.testing.assert_close(a, b, **TOL)

    # a loss that weighs every output and every final state differently
    w = torch.randn(out2.shape, generator=g, dtype=torch.float64)
    ws = [torch.randn(f.shape, generator=g, dtype=torch.float64) for f in fin2]
    loss1 = (out1 * w).sum() + sum((f * v).sum() for f, v in zip(fin1, ws, strict=True))
    loss2 = (out2 * w).sum() + sum((f * v).sum() for f, v in zip(fin2, ws, strict=True))
    loss1.backward()
    loss2.backward()
    assert_same_grads(ours, theirs, [x1, *s1] if c["with_state"] else [x1],
                      [x2, *s2] if c["with_state"] else [x2])  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(configs, st.booleans(), st.data())
def test_matches_torch_packed_sequences(c: dict, enforce_sorted: bool, data) -> None:
    """Our lengths API against pack_padded_sequence -> torch -> pad_packed_sequence."""
    mode, B, T = c["mode"], c["B"], c["T"]
    kwargs = {k: c[k] for k in ("num_layers", "bidirectional", "batch_first", "bias")}
    if mode == "RNN" and c["relu"]:
        kwargs["nonlinearity"] = "relu"
    ours, theirs = make_pair(mode, c["seed"], c["input_size"], c["hidden"], **kwargs)
    lengths = data.draw(st.lists(st.integers(1, T), min_size=B, max_size=B))
    lengths[data.draw(st.integers(0, B - 1))] = T  # torch pads back to the longest
    if enforce_sorted:
        lengths.sort(reverse=True)
    lengths_t = torch.tensor(lengths)
    g = torch.Generator().manual_seed(c["seed"])
    bf = c["batch_first"]
    x = torch.randn(*((B, T) if bf else (T, B)), c["input_size"], generator=g, dtype=torch.float64)
    D = 2 if c["bidirectional"] else 1
    states = random_state(mode, c["num_layers"] * D, B, c["hidden"], g)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    s1 = [s.clone().requires_grad_() for s in states]
    s2 = [s.clone().requires_grad_() for s in states]

    out1, fin1 = ours(x1, tuple(s1) if mode == "LSTM" else s1[0], lengths=lengths_t)
    packed = pack_padded_sequence(x2, lengths_t, batch_first=bf, enforce_sorted=enforce_sorted)
    out2, fin2 = theirs(packed, tuple(s2) if mode == "LSTM" else s2[0])
    out2, _ = pad_packed_sequence(out2, batch_first=bf, total_length=T)
    torch.testing.assert_close(out1, out2, **TOL)
    pad = torch.arange(T)[:, None] >= lengths_t[None, :]  # (T, B)
    assert torch.all((out1.transpose(0, 1) if bf else out1)[pad] == 0)  # padding: zeros
    fin1, fin2 = (fin1, fin2) if mode == "LSTM" else ((fin1,), (fin2,))
    for a, b in zip(fin1, fin2, strict=True):
        torch.testing.assert_close(a, b, **TOL)

    w = torch.randn(out2.shape, generator=g, dtype=torch.float64)
    ws = [torch.randn(f.shape, generator=g, dtype=torch.float64) for f in fin2]
    ((out1 * w).sum() + sum((f * v).sum() for f, v in zip(fin1, ws, strict=True))).backward()
    ((out2 * w).sum() + sum((f * v).sum() for f, v in zip(fin2, ws, strict=True))).backward()
    assert_same_grads(ours, theirs, [x1, *s1], [x2, *s2])


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_accepts_and_returns_a_packed_sequence_like_torch(mode: str) -> None:
    ours, theirs = make_pair(mode, 3, 3, 4, num_layers=2, bidirectional=True)
    x = torch.randn(5, 3, 3, dtype=torch.float64)
    packed = pack_padded_sequence(x, torch.tensor([2, 5, 3]), enforce_sorted=False)
    out1, fin1 = ours(packed)
    out2, fin2 = theirs(packed)
    torch.testing.assert_close(out1.data, out2.data, **TOL)
    assert torch.equal(out1.sorted_indices, out2.sorted_indices)
    torch.testing.assert_close(fin1, fin2, **TOL)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_only_in_training(mode: str) -> None:
    ours, theirs = make_pair(mode, 4, 3, 6, num_layers=3, dropout=0.5)
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    ours.eval()
    theirs.eval()
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], **TOL)
    ours.train()
    a, b = ours(x)[0], ours(x)[0]
    assert not torch.allclose(a, b)  # two different masks
    single = PAIRS[mode][0](3, 6, num_layers=1, dropout=0.5).double()
    single.train()
    torch.testing.assert_close(single(x)[0], single(x)[0])  # no layer in between: no dropout


@pytest.mark.parametrize(
    ("ours_cls", "torch_cls", "kwargs"),
    [
        (RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
        (RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
        (LSTMCell, torch.nn.LSTMCell, {}),
        (GRUCell, torch.nn.GRUCell, {}),
        (GRUCell, torch.nn.GRUCell, {"bias": False}),
    ],
)
def test_matches_torch_cells(ours_cls, torch_cls, kwargs) -> None:
    torch.manual_seed(0)
    theirs = torch_cls(4, 5, **kwargs).double()
    ours = ours_cls(4, 5, **kwargs).double()
    ours.load_state_dict(theirs.state_dict())
    x1 = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    h = torch.randn(3, 5, dtype=torch.float64)
    state = (h, torch.randn(3, 5, dtype=torch.float64)) if ours_cls is LSTMCell else h
    got, expected = ours(x1, state), theirs(x2, state)
    got, expected = (got, expected) if isinstance(got, tuple) else ((got,), (expected,))
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, **TOL)
    sum(a.sum() * (i + 1) for i, a in enumerate(got)).backward()
    sum(b.sum() * (i + 1) for i, b in enumerate(expected)).backward()
    assert_same_grads(ours, theirs, [x1], [x2])


def test_gru_reset_gate_is_pytorchs_not_the_papers() -> None:
    """r multiplies (W_hn h + b_hn); the paper's W_hn (r * h) gives a different value."""
    g = torch.Generator().manual_seed(1)
    H = 3
    gx = torch.randn(2, 3 * H, generator=g, dtype=torch.float64)
    h = torch.randn(2, H, generator=g, dtype=torch.float64)
    w = torch.randn(3 * H, H, generator=g, dtype=torch.float64)
    b = torch.randn(3 * H, generator=g, dtype=torch.float64)
    r = torch.sigmoid(gx[:, :H] + h @ w[:H].T + b[:H])
    z = torch.sigmoid(gx[:, H : 2 * H] + h @ w[H : 2 * H].T + b[H : 2 * H])
    paper_n = torch.tanh(gx[:, 2 * H :] + (r * h) @ w[2 * H :].T + b[2 * H :])
    paper = (1 - z) * paper_n + z * h
    assert (gru_step(gx, h, w, b) - paper).abs().max() > 1e-3


def test_reverse_padded_reverses_only_the_real_steps() -> None:
    x = torch.arange(12).view(4, 3)  # (T=4, B=3)
    got = reverse_padded(x, torch.tensor([4, 2, 1]))
    assert got.tolist() == [[9, 4, 2], [6, 1, 5], [3, 7, 8], [0, 10, 11]]
    assert torch.equal(reverse_padded(got, torch.tensor([4, 2, 1])), x)


def test_rejects_bad_lengths_and_states() -> None:
    lstm = LSTM(2, 3, num_layers=2)
    x = torch.randn(4, 2, 2)
    with pytest.raises(ValueError, match="lengths"):
        lstm(x, lengths=torch.tensor([5, 1]))
    with pytest.raises(ValueError, match="lengths"):
        lstm(x, lengths=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="shape"):
        lstm(x, (torch.zeros(1, 2, 3), torch.zeros(1, 2, 3)))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(2, 3, nonlinearity="sigmoid")
