"""Recurrent networks from scratch: RNN, LSTM and GRU cells, and layers built from them.

A recurrent cell reads one input x_t and the state it carried from the step before, and
returns the new state. PyTorch's equations and weight layout, row blocks in this order:

  RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)                   (or relu)
  LSTM  i, f, g, o = chunks of  W_ih x + b_ih + W_hh h + b_hh        (4 blocks of H rows)
        i, f, o = sigmoid(.), g = tanh(.)
        c' = f * c + i * g          the cell state: a sum, so gradients pass through f
        h' = o * tanh(c')
  GRU   r, z, n: 3 blocks of H rows
        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)                 reset gate
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)                 update gate
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))              r multiplies after W_hn
        h' = (1 - z) * n + z * h

The GRU line for n is PyTorch's (and cuDNN's). Cho et al. (2014) put r before the matrix,
tanh(W_in x + W_hn (r * h)); the two are different functions of the same weights.

Layers (`RNN`, `LSTM`, `GRU`) stack cells over time, layers and directions with the
parameter names of torch.nn.RNN/LSTM/GRU (weight_ih_l0, weight_hh_l0_reverse, ...), so
`ours.load_state_dict(theirs.state_dict())` copies weights in either direction. The input
projection W_ih x + b_ih of all time steps is one matrix product; only W_hh h must wait for
the step before, so the time loop is the one part in Python.

Variable lengths: `lengths[b]` real steps, the rest padding. Past its length a sequence
keeps its state (so the final state is the one of its last real step) and its outputs are
zero. The backward direction reads each sequence from its own last real step down to its
first: the real part of each row is reversed, the padding stays where it is. A
`PackedSequence` works too: it is unpacked, run with its lengths, and packed again.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}  # row blocks in W_ih and W_hh

State = Tensor | tuple[Tensor, Tensor]  # h, or (h, c) for the LSTM

# ---------------------------------------------------------------- one step of each cell
# gx is the input part W_ih x + b_ih, computed outside so a layer can do all steps at once.


def rnn_step(
    gx: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, nonlinearity: str = "tanh"
) -> Tensor:
    pre = gx + F.linear(h, w_hh, b_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_step(
    gx: Tensor, state: tuple[Tensor, Tensor], w_hh: Tensor, b_hh: Tensor | None
) -> tuple[Tensor, Tensor]:
    h, c = state
    i, f, g, o = (gx + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


def gru_step(gx: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    x_r, x_z, x_n = gx.chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)  # PyTorch: r scales (W_hn h + b_hn), not h
    return (1 - z) * n + z * h


# ---------------------------------------------------------------- cells (one time step)


class RecurrentCell(nn.Module):
    """Weights of one cell in torch.nn.RNNCell/LSTMCell/GRUCell layout, same initialisation:
    every entry uniform in [-1/sqrt(H), 1/sqrt(H)]."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        rows = GATES[self.mode] * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(rows)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(rows)) if bias else None
        bound = 1 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def zero_state(self, x: Tensor) -> Tensor:
        return x.new_zeros(x.shape[0], self.hidden_size)


class RNNCell(RecurrentCell):
    mode = "RNN"

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        """x (B, input_size), h (B, H) -> h' (B, H)."""
        h = self.zero_state(x) if h is None else h
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        return rnn_step(gx, h, self.weight_hh, self.bias_hh, self.nonlinearity)


class LSTMCell(RecurrentCell):
    mode = "LSTM"

    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """x (B, input_size), (h, c) each (B, H) -> (h', c')."""
        state = (self.zero_state(x), self.zero_state(x)) if state is None else state
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        return lstm_step(gx, state, self.weight_hh, self.bias_hh)


class GRUCell(RecurrentCell):
    mode = "GRU"

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        """x (B, input_size), h (B, H) -> h' (B, H)."""
        h = self.zero_state(x) if h is None else h
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        return gru_step(gx, h, self.weight_hh, self.bias_hh)


# ---------------------------------------------------------------- lengths and directions


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """x (T, B, ...): in each column b the first lengths[b] steps reversed, padding in place."""
    T = x.shape[0]
    t = torch.arange(T, device=x.device)[:, None]  # (T, 1)
    lengths = lengths.to(x.device)[None, :]  # (1, B)
    index = torch.where(t < lengths, lengths - 1 - t, t)  # (T, B); applying it twice undoes it
    index = index.view(T, -1, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(0, index)


def run_direction(
    step: Callable[[Tensor, State], State], gx: Tensor, state: State, mask: Tensor | None
) -> tuple[Tensor, State]:
    """Apply `step(gx_t, state) -> state` for t = 0 .. T-1; gx (T, B, G*H).

    mask (T, B, 1), True at real steps: past its length a sequence keeps its state and
    outputs zeros. Returns the outputs h_t (T, B, H) and the final state."""
    outputs = []
    for t in range(gx.shape[0]):
        new = step(gx[t], state)
        if mask is not None:
            keep = mask[t]
            if isinstance(new, tuple):
                new = tuple(torch.where(keep, a, b) for a, b in zip(new, state, strict=True))
            else:
                new = torch.where(keep, new, state)
        state = new
        h = state[0] if isinstance(state, tuple) else state
        outputs.append(h if mask is None else h * mask[t])
    return torch.stack(outputs), state


# ---------------------------------------------------------------- layers (whole sequences)


class Recurrent(nn.Module):
    """A stack of `num_layers` recurrent layers over a whole sequence, as torch.nn.RNN/LSTM/GRU.

    forward(input, hx=None, lengths=None) -> (output, h_n) or, for the LSTM, (output, (h_n, c_n))
      input  (T, B, input_size), or (B, T, input_size) with batch_first, or a PackedSequence
      hx     (num_layers * D, B, H), D = 2 if bidirectional else 1; zeros when None
      lengths  (B,) ints, real steps per sequence (padding after them); None: all T
      output (T, B, D * H) (batch_first: (B, T, D * H)): the last layer's h_t, both
             directions concatenated, zero at padded steps
      h_n    (num_layers * D, B, H): the state after each sequence's last real step,
             in the order layer 0 forward, layer 0 backward, layer 1 forward, ...
    dropout: applied to each layer's output except the last, in training mode only.
    """

    mode = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
    ) -> None:
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout must be in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional, self.nonlinearity = bidirectional, nonlinearity
        self.directions = 2 if bidirectional else 1
        rows, bound = GATES[self.mode] * hidden_size, 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * self.directions
            for suffix in self.suffixes(layer):
                shapes = {"weight_ih": (rows, width), "weight_hh": (rows, hidden_size)}
                if bias:
                    shapes |= {"bias_ih": (rows,), "bias_hh": (rows,)}
                for name, shape in shapes.items():
                    p = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
                    self.register_parameter(name + suffix, p)

    def suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.directions]

    def weights(self, suffix: str) -> tuple[Tensor, Tensor | None, Tensor, Tensor | None]:
        """(W_ih, b_ih, W_hh, b_hh) of one layer and direction; biases None without bias."""
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        if not self.bias:
            return w_ih, None, w_hh, None
        return w_ih, getattr(self, "bias_ih" + suffix), w_hh, getattr(self, "bias_hh" + suffix)

    def step(self, w_hh: Tensor, b_hh: Tensor | None) -> Callable[[Tensor, State], State]:
        """The one-step function of this cell type with its recurrent weights bound."""
        if self.mode == "LSTM":
            return lambda gx, state: lstm_step(gx, state, w_hh, b_hh)
        if self.mode == "GRU":
            return lambda gx, h: gru_step(gx, h, w_hh, b_hh)
        return lambda gx, h: rnn_step(gx, h, w_hh, b_hh, self.nonlinearity)

    def forward(
        self, input: Tensor | PackedSequence, hx: State | None = None, lengths=None
    ) -> tuple[Tensor | PackedSequence, State]:
        if isinstance(input, PackedSequence):
            padded, packed_lengths = pad_packed_sequence(input, batch_first=self.batch_first)
            output, state = self.forward(padded, hx, packed_lengths)
            return pack_padded_sequence(
                output, packed_lengths, batch_first=self.batch_first, enforce_sorted=False
            ), state
        x = input.transpose(0, 1) if self.batch_first else input  # (T, B, I) from here on
        T, B = x.shape[:2]
        mask = None
        if lengths is not None:
            lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
            if lengths.shape != (B,) or lengths.min() < 1 or lengths.max() > T:
                raise ValueError(f"lengths must be {B} values in [1, {T}], got {lengths}")
            mask = (torch.arange(T)[:, None] < lengths[None, :]).to(x.device)[..., None]
        h0, c0 = self.initial_state(x, hx)

        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(self.suffixes(layer)):
                k = layer * self.directions + d
                w_ih, b_ih, w_hh, b_hh = self.weights(suffix)
                seq = x if d == 0 else (x.flip(0) if mask is None else reverse_padded(x, lengths))
                gx = F.linear(seq, w_ih, b_ih)  # all time steps in one product
                state = (h0[k], c0[k]) if self.mode == "LSTM" else h0[k]
                out, state = run_direction(self.step(w_hh, b_hh), gx, state, mask)
                if d == 1:  # back to the original time order
                    out = out.flip(0) if mask is None else reverse_padded(out, lengths)
                outputs.append(out)
                finals_h.append(state[0] if self.mode == "LSTM" else state)
                if self.mode == "LSTM":
                    finals_c.append(state[1])
            x = torch.cat(outputs, dim=-1)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        output = x.transpose(0, 1) if self.batch_first else x
        h_n = torch.stack(finals_h)
        return output, ((h_n, torch.stack(finals_c)) if self.mode == "LSTM" else h_n)

    def initial_state(self, x: Tensor, hx: State | None) -> tuple[Tensor, Tensor | None]:
        shape = (self.num_layers * self.directions, x.shape[1], self.hidden_size)
        if hx is None:
            zeros = x.new_zeros(shape)
            return zeros, (zeros if self.mode == "LSTM" else None)
        h0, c0 = hx if self.mode == "LSTM" else (hx, None)
        if h0.shape != shape or (c0 is not None and c0.shape != shape):
            raise ValueError(f"initial state must have shape {shape}, got {tuple(h0.shape)}")
        return h0, c0


class RNN(Recurrent):
    """Elman RNN with tanh or relu, as torch.nn.RNN."""

    mode = "RNN"


class LSTM(Recurrent):
    """Long short-term memory, as torch.nn.LSTM (without proj_size)."""

    mode = "LSTM"

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.get("nonlinearity", "tanh") != "tanh":
            raise ValueError("the LSTM has no nonlinearity setting")
        super().__init__(*args, **kwargs)


class GRU(Recurrent):
    """Gated recurrent unit, as torch.nn.GRU (PyTorch's placement of the reset gate)."""

    mode = "GRU"

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.get("nonlinearity", "tanh") != "tanh":
            raise ValueError("the GRU has no nonlinearity setting")
        super().__init__(*args, **kwargs)
