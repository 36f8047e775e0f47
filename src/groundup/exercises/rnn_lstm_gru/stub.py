"""Exercise `rnn-lstm-gru`: one step of an LSTM and a GRU, then an LSTM over a whole batch
of sequences of different lengths.

`groundup check rnn-lstm-gru` grades your functions against torch.nn.LSTMCell,
torch.nn.GRUCell and torch.nn.LSTM (with packed sequences) given the same weights: values
and gradients. Write the gate equations with matrix products, torch.sigmoid and torch.tanh;
do not call torch.nn.LSTM, LSTMCell, GRUCell or their functional forms.

DE: Übung `rnn-lstm-gru`: ein Schritt eines LSTM und einer GRU, dann ein LSTM über einen
Batch von Sequenzen unterschiedlicher Länge. `groundup check rnn-lstm-gru` vergleicht Ihre
Funktionen bei gleichen Gewichten mit torch.nn.LSTMCell, torch.nn.GRUCell und torch.nn.LSTM
(mit gepackten Sequenzen): Werte und Gradienten. Schreiben Sie die Gate-Gleichungen mit
Matrixprodukten, torch.sigmoid und torch.tanh; rufen Sie nicht torch.nn.LSTM, LSTMCell,
GRUCell oder deren funktionale Formen auf.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.sigmoid, torch.tanh, torch.where, ...
from torch import Tensor


def lstm_cell(
    x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor]:
    """One LSTM step in PyTorch's layout.

    x (B, I), h (B, H), c (B, H); w_ih (4H, I), w_hh (4H, H), b_ih (4H,), b_hh (4H,).
    The 4H rows are four blocks of H rows, in the order i, f, g, o:
        gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, o = sigmoid of their blocks;  g = tanh of its block
        c' = f * c + i * g
        h' = o * tanh(c')
    Returns (h', c'), each (B, H).

    DE: Ein LSTM-Schritt in PyTorchs Anordnung. Die 4H Zeilen sind vier Blöcke zu je H Zeilen
    in der Reihenfolge i, f, g, o; i, f, o mit Sigmoid, g mit tanh; c' = f * c + i * g,
    h' = o * tanh(c'). Rückgabe (h', c'), jeweils (B, H).
    """
    raise NotImplementedError("TODO: lstm_cell")


def gru_cell(
    x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> Tensor:
    """One GRU step in PyTorch's layout.

    x (B, I), h (B, H); w_ih (3H, I), w_hh (3H, H), b_ih (3H,), b_hh (3H,); blocks r, z, n.
        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
        z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))    PyTorch's placement of r
        h' = (1 - z) * n + z * h
    Returns h' (B, H).

    DE: Ein GRU-Schritt in PyTorchs Anordnung, Blöcke r, z, n. Achtung: r multipliziert
    (h W_hn^T + b_hn), also nach der Matrix, wie in PyTorch (nicht wie im Paper von Cho et al.).
    h' = (1 - z) * n + z * h. Rückgabe h' (B, H).
    """
    raise NotImplementedError("TODO: gru_cell")


def lstm_layer(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    lengths: Tensor | None = None,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM layer, one direction, over whole sequences.

    x (T, B, I) (time first), h0 and c0 (B, H), the weights as in lstm_cell.
    lengths: None (every sequence has all T steps) or (B,) ints in 1..T: sequence b has
    lengths[b] real steps, the rest is padding. Past its length a sequence keeps its state
    unchanged and its output is zero.
    Returns (outputs (T, B, H), (h_n, c_n)): outputs[t] is h_t (zero at padded steps);
    h_n and c_n (B, H) are the states after each sequence's last real step.
    Use your lstm_cell in a loop over t.

    DE: Eine LSTM-Schicht, eine Richtung, über ganze Sequenzen. x (T, B, I), h0 und c0 (B, H).
    lengths: None (alle T Schritte echt) oder (B,) Ganzzahlen in 1..T; nach seiner Länge behält
    eine Sequenz ihren Zustand, ihre Ausgabe ist null. Rückgabe (outputs (T, B, H), (h_n, c_n)),
    h_n und c_n sind die Zustände nach dem letzten echten Schritt jeder Sequenz. Verwenden Sie
    Ihre lstm_cell in einer Schleife über t.
    """
    # 1. for t in range(T): new h, c = lstm_cell(x[t], h, c, ...)
    # 2. with lengths: keep = (t < lengths)[:, None]; h = torch.where(keep, new_h, h); same for c
    # 3. outputs[t] = h, but zero where not keep
    raise NotImplementedError("TODO: lstm_layer")
