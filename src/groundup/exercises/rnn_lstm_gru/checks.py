"""Checks for the `rnn-lstm-gru` exercise, against torch.nn.LSTMCell, GRUCell and LSTM.

All inputs and weights are float64 with fixed seeds and every bias is random and non-zero,
so a correct answer matches PyTorch to about 1e-15; the tolerance (atol 1e-9, rtol 1e-7)
leaves room only for rounding. Input width, hidden width and batch size differ from each
other, so transposed weights or swapped axes fail on shape or value.
"""

from __future__ import annotations

from types import ModuleType

import torch
from torch import Tensor
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg

FUNCTIONS = ["lstm_cell", "gru_cell", "lstm_layer"]

REFERENCE = """import torch
import torch.nn.functional as F

from groundup.nn.recurrent import gru_step, lstm_step, run_direction


def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    return lstm_step(F.linear(x, w_ih, b_ih), (h, c), w_hh, b_hh)


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    return gru_step(F.linear(x, w_ih, b_ih), h, w_hh, b_hh)


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None):
    mask = None
    if lengths is not None:
        mask = (torch.arange(x.shape[0])[:, None] < lengths[None, :])[..., None]
    step = lambda gx, state: lstm_step(gx, state, w_hh, b_hh)  # noqa: E731
    return run_direction(step, F.linear(x, w_ih, b_ih), (h0, c0), mask)
"""

TOL = {"atol": 1e-9, "rtol": 1e-7}
B, IN, H = 3, 4, 5  # batch, input width, hidden width: all different


def _cell(torch_cls: type, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    cell = torch_cls(IN, H).double()
    with torch.no_grad():  # biases well away from zero, so a missing one shows
        cell.bias_ih.uniform_(-1.5, 1.5)
        cell.bias_hh.uniform_(-1.5, 1.5)
    return cell


def _randn(seed: int, *shape: int) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _weights(module: torch.nn.Module, suffix: str = "") -> list[Tensor]:
    return [
        getattr(module, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]


def _grad_mismatch(label: Msg, name: str, got: Tensor | None, expected: Tensor) -> None:
    if got is None:
        raise Mismatch(
            label,
            expected=f"a gradient for {name} of shape {tuple(expected.shape)}",
            got=f"None: no gradient flowed back to {name} (.detach(), numpy, no_grad?)",
        )
    assert_close(Msg(f"{name}.grad", f"{name}.grad"), got, expected, **TOL)


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_lstm_shapes(module: ModuleType) -> None:
    lstm_cell = require(module, "lstm_cell")
    cell = _cell(torch.nn.LSTMCell, 0)
    label = Msg(
        f"lstm_cell(x ({B}, {IN}), h ({B}, {H}), c ({B}, {H}), ...) returns (h', c')",
        f"lstm_cell(x ({B}, {IN}), h ({B}, {H}), c ({B}, {H}), ...) gibt (h', c') zurück",
    )
    with torch.no_grad():
        out = call(label, lstm_cell, _randn(1, B, IN), _randn(2, B, H), _randn(3, B, H),
                   *_weights(cell))  # fmt: skip
    if not isinstance(out, tuple) or len(out) != 2:
        raise Mismatch(label, expected="a tuple (h', c')", got=describe(out))
    for part in out:
        assert_shape(label, part, (B, H))


def check_lstm_matches_torch(module: ModuleType) -> None:
    lstm_cell = require(module, "lstm_cell")
    for seed in range(3):
        cell = _cell(torch.nn.LSTMCell, 10 + seed)
        x, h, c = _randn(20 + seed, B, IN), _randn(30 + seed, B, H), 2 * _randn(40 + seed, B, H)
        label = Msg(
            f"lstm_cell against torch.nn.LSTMCell (seed {seed}): h'",
            f"lstm_cell verglichen mit torch.nn.LSTMCell (Seed {seed}): h'",
        )
        with torch.no_grad():
            got = call(label, lstm_cell, x, h, c, *_weights(cell))
            h_ref, c_ref = cell(x, (h, c))
        if not isinstance(got, tuple) or len(got) != 2:
            raise Mismatch(label, expected="a tuple (h', c')", got=describe(got))
        assert_close(Msg("c' (the new cell state)", "c' (der neue Zellzustand)"), got[1], c_ref,
                     **TOL)  # fmt: skip
        assert_close(label, got[0], h_ref, **TOL)


def check_lstm_gradients(module: ModuleType) -> None:
    lstm_cell = require(module, "lstm_cell")
    cell = _cell(torch.nn.LSTMCell, 50)
    inputs = [_randn(51, B, IN), _randn(52, B, H), _randn(53, B, H)]
    mine = [t.clone().requires_grad_() for t in inputs]
    theirs = [t.clone().requires_grad_() for t in inputs]
    g_h, g_c = _randn(54, B, H), _randn(55, B, H)
    label = Msg(
        "gradients of sum(h' * g1) + sum(c' * g2) with respect to x, h, c and the weights",
        "Gradienten von sum(h' * g1) + sum(c' * g2) nach x, h, c und den Gewichten",
    )
    weights = [w.detach().clone().requires_grad_() for w in _weights(cell)]
    h1, c1 = call(label, lstm_cell, *mine, *weights)
    call(label, ((h1 * g_h).sum() + (c1 * g_c).sum()).backward)
    h2, c2 = cell(theirs[0], (theirs[1], theirs[2]))
    ((h2 * g_h).sum() + (c2 * g_c).sum()).backward()
    for name, a, b in zip(("x", "h", "c"), mine, theirs, strict=True):
        _grad_mismatch(label, name, a.grad, b.grad)
    for name, a, b in zip(("w_ih", "w_hh", "b_ih", "b_hh"), weights, _weights(cell), strict=True):
        _grad_mismatch(label, name, a.grad, b.grad)


def check_gru_matches_torch(module: ModuleType) -> None:
    gru_cell = require(module, "gru_cell")
    for seed in range(3):
        cell = _cell(torch.nn.GRUCell, 60 + seed)
        x, h = _randn(70 + seed, B, IN), _randn(80 + seed, B, H)
        label = Msg(
            f"gru_cell against torch.nn.GRUCell (seed {seed})",
            f"gru_cell verglichen mit torch.nn.GRUCell (Seed {seed})",
        )
        with torch.no_grad():
            got = call(label, gru_cell, x, h, *_weights(cell))
            assert_shape(label, got, (B, H))
            assert_close(label, got, cell(x, h), **TOL)


def check_gru_gradients(module: ModuleType) -> None:
    gru_cell = require(module, "gru_cell")
    cell = _cell(torch.nn.GRUCell, 90)
    x, h = _randn(91, B, IN), _randn(92, B, H)
    mine = [x.clone().requires_grad_(), h.clone().requires_grad_()]
    theirs = [x.clone().requires_grad_(), h.clone().requires_grad_()]
    g = _randn(93, B, H)
    label = Msg(
        "gradients of sum(h' * g) with respect to x, h and the weights",
        "Gradienten von sum(h' * g) nach x, h und den Gewichten",
    )
    weights = [w.detach().clone().requires_grad_() for w in _weights(cell)]
    out = call(label, gru_cell, *mine, *weights)
    call(label, (out * g).sum().backward)
    (cell(*theirs) * g).sum().backward()
    for name, a, b in zip(("x", "h"), mine, theirs, strict=True):
        _grad_mismatch(label, name, a.grad, b.grad)
    for name, a, b in zip(("w_ih", "w_hh", "b_ih", "b_hh"), weights, _weights(cell), strict=True):
        _grad_mismatch(label, name, a.grad, b.grad)


def _layer(seed: int) -> torch.nn.LSTM:
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(IN, H).double()
    with torch.no_grad():
        lstm.bias_ih_l0.uniform_(-1.5, 1.5)
        lstm.bias_hh_l0.uniform_(-1.5, 1.5)
    return lstm


def _compare_layer(module: ModuleType, seed: int, T: int, lengths: list[int] | None) -> None:
    lstm_layer = require(module, "lstm_layer")
    lstm = _layer(seed)
    x, h0, c0 = _randn(seed + 1, T, B, IN), _randn(seed + 2, B, H), _randn(seed + 3, B, H)
    text = "all steps real" if lengths is None else f"lengths {lengths}"
    label = Msg(
        f"lstm_layer(x ({T}, {B}, {IN}), {text}) against torch.nn.LSTM: outputs",
        f"lstm_layer(x ({T}, {B}, {IN}), {text}) verglichen mit torch.nn.LSTM: Ausgaben",
    )
    mine_x, theirs_x = x.clone().requires_grad_(), x.clone().requires_grad_()
    weights = [w.detach().clone().requires_grad_() for w in _weights(lstm, "_l0")]
    length_t = None if lengths is None else torch.tensor(lengths)
    got = call(label, lstm_layer, mine_x, h0, c0, *weights, length_t)
    if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], tuple)):
        raise Mismatch(label, expected="(outputs, (h_n, c_n))", got=describe(got))
    out, (h_n, c_n) = got
    state = (h0[None], c0[None])
    if lengths is None:
        ref, (ref_h, ref_c) = lstm(theirs_x, state)
    else:
        packed = pack_padded_sequence(theirs_x, length_t, enforce_sorted=False)
        ref, (ref_h, ref_c) = lstm(packed, state)
        ref, _ = pad_packed_sequence(ref, total_length=T)
    assert_close(label, out, ref, **TOL)
    final = Msg(f"h_n and c_n ({text})", f"h_n und c_n ({text})")
    assert_close(final, h_n, ref_h[0], **TOL)
    assert_close(final, c_n, ref_c[0], **TOL)
    g = _randn(seed + 4, T, B, H)
    grads = Msg(f"gradients with respect to x and the weights ({text})",
                f"Gradienten nach x und den Gewichten ({text})")  # fmt: skip
    call(grads, ((out * g).sum() + h_n.sum() + c_n.sum()).backward)
    ((ref * g).sum() + ref_h.sum() + ref_c.sum()).backward()
    _grad_mismatch(grads, "x", mine_x.grad, theirs_x.grad)
    for name, a, b in zip(("w_ih", "w_hh", "b_ih", "b_hh"), weights, _weights(lstm, "_l0"),
                          strict=True):  # fmt: skip
        _grad_mismatch(grads, name, a.grad, b.grad)


def check_layer_full_length(module: ModuleType) -> None:
    _compare_layer(module, 100, 6, None)
    _compare_layer(module, 110, 1, None)


def check_layer_lengths(module: ModuleType) -> None:
    _compare_layer(module, 200, 6, [6, 2, 4])
    _compare_layer(module, 210, 5, [1, 5, 3])


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions lstm_cell, gru_cell and lstm_layer",
            "Funktionen lstm_cell, gru_cell und lstm_layer",
        ),
        (
            "Define all three at the top level of your file, with the signatures of the stub.",
            "Definieren Sie alle drei auf oberster Ebene Ihrer Datei, mit den Signaturen des Stubs.",
        ),
        check_exists,
    ),
    check(
        "lstm_shapes",
        ("lstm_cell returns (h', c'), each (B, H)", "lstm_cell gibt (h', c') zurück, je (B, H)"),
        (
            "gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh has shape (B, 4H); split it into four "
            "(B, H) blocks along the last axis (gates.chunk(4, dim=-1)).",
            "gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh hat die Form (B, 4H); teilen Sie es "
            "entlang der letzten Achse in vier (B, H)-Blöcke (gates.chunk(4, dim=-1)).",
        ),
        check_lstm_shapes,
    ),
    check(
        "lstm_matches_torch",
        ("h' and c' equal torch.nn.LSTMCell", "h' und c' gleich torch.nn.LSTMCell"),
        (
            "The blocks come in the order i, f, g, o. i, f and o use sigmoid, only g uses tanh. "
            "Both biases go into every gate, the forget gate too. c' = f * c + i * g, and "
            "h' = o * tanh(c') uses the new c', not the old one.",
            "Die Blöcke kommen in der Reihenfolge i, f, g, o. i, f und o nehmen Sigmoid, nur g "
            "nimmt tanh. Beide Biases gehören in jedes Gate, auch ins Forget-Gate. "
            "c' = f * c + i * g, und h' = o * tanh(c') nimmt das neue c', nicht das alte.",
        ),
        check_lstm_matches_torch,
    ),
    check(
        "lstm_gradients",
        ("LSTM gradients equal torch's", "LSTM-Gradienten gleich denen von torch"),
        (
            "Stay inside torch and keep the graph: no .detach(), .data, .numpy() or "
            "torch.no_grad() anywhere in the step, so autograd reaches x, h, c and the weights.",
            "Bleiben Sie in torch und erhalten Sie den Graphen: kein .detach(), .data, .numpy() "
            "oder torch.no_grad() im Schritt, damit Autograd x, h, c und die Gewichte erreicht.",
        ),
        check_lstm_gradients,
    ),
    check(
        "gru_matches_torch",
        ("gru_cell equals torch.nn.GRUCell", "gru_cell gleich torch.nn.GRUCell"),
        (
            "Blocks r, z, n. Compute the input part and the hidden part separately: "
            "n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)): r multiplies after the matrix "
            "and its bias (PyTorch), not r * h before it (the paper). h' = (1 - z) * n + z * h: "
            "z keeps the old state.",
            "Blöcke r, z, n. Berechnen Sie Eingabe- und Zustandsanteil getrennt: "
            "n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)): r multipliziert nach der Matrix "
            "samt Bias (PyTorch), nicht r * h davor (Paper). h' = (1 - z) * n + z * h: z behält "
            "den alten Zustand.",
        ),
        check_gru_matches_torch,
    ),
    check(
        "gru_gradients",
        ("GRU gradients equal torch's", "GRU-Gradienten gleich denen von torch"),
        (
            "Keep every operation in torch so autograd can follow it back to x, h and weights.",
            "Bleiben Sie bei jeder Operation in torch, damit Autograd bis x, h und zu den "
            "Gewichten zurückfindet.",
        ),
        check_gru_gradients,
    ),
    check(
        "layer_full_length",
        (
            "lstm_layer over full-length sequences equals torch.nn.LSTM",
            "lstm_layer über Sequenzen voller Länge gleich torch.nn.LSTM",
        ),
        (
            "Start from (h0, c0), carry the state from step to step (each step gets the h and c "
            "of the step before), stack the h of every step into outputs (T, B, H), and return "
            "the state after the last step.",
            "Beginnen Sie mit (h0, c0), reichen Sie den Zustand von Schritt zu Schritt weiter "
            "(jeder Schritt bekommt h und c des vorigen), stapeln Sie das h jedes Schritts zu "
            "outputs (T, B, H) und geben Sie den Zustand nach dem letzten Schritt zurück.",
        ),
        check_layer_full_length,
    ),
    check(
        "layer_lengths",
        (
            "lstm_layer with lengths equals torch.nn.LSTM on a packed sequence",
            "lstm_layer mit Längen gleich torch.nn.LSTM auf einer gepackten Sequenz",
        ),
        (
            "At step t, only sequences with t < lengths[b] move on: "
            "h = torch.where(keep, new_h, h), the same for c, so h_n and c_n are the states of "
            "each sequence's last real step. Outputs at padded steps are zero (h * keep).",
            "In Schritt t gehen nur Sequenzen mit t < lengths[b] weiter: "
            "h = torch.where(keep, new_h, h), ebenso für c, damit h_n und c_n die Zustände des "
            "letzten echten Schritts jeder Sequenz sind. Ausgaben an aufgefüllten Stellen sind "
            "null (h * keep).",
        ),
        check_layer_lengths,
    ),
]
