"""Planted bugs for the `rnn-lstm-gru` exercise, each a full learner file that one check must
catch. They start from SOLUTION, a correct answer written the way a learner would, and change
one thing each."""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch


def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return h_new, c_new


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    x_r, x_z, x_n = (x @ w_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None):
    h, c, outputs = h0, c0, []
    for t in range(x.shape[0]):
        h_new, c_new = lstm_cell(x[t], h, c, w_ih, w_hh, b_ih, b_hh)
        if lengths is None:
            keep = torch.ones(x.shape[1], 1, dtype=torch.bool)
        else:
            keep = (t < lengths)[:, None]
        h = torch.where(keep, h_new, h)
        c = torch.where(keep, c_new, c)
        outputs.append(h * keep)
    return torch.stack(outputs), (h, c)
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "gate_order_ifog_read_as_ifgo",
        catches="lstm_matches_torch",
        source=_plant("i, f, g, o = gates.chunk", "i, f, o, g = gates.chunk"),
        note="reads the blocks in the order i, f, o, g (the order of some papers, not PyTorch's)",
    ),
    Mutant(
        "forget_gate_without_bias",
        catches="lstm_matches_torch",
        source=_plant(
            "i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)",
            "H = h.shape[1]\n"
            "    f = x @ w_ih[H : 2 * H].T + h @ w_hh[H : 2 * H].T\n"
            "    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)",
        ),
        note="the forget gate is recomputed without its two biases",
    ),
    Mutant(
        "tanh_instead_of_sigmoid",
        catches="lstm_matches_torch",
        source=_plant(
            "i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)",
            "i, f, o = torch.tanh(i), torch.tanh(f), torch.tanh(o)",
        ),
        note="gates squashed to (-1, 1) instead of (0, 1)",
    ),
    Mutant(
        "cell_state_not_updated",
        catches="lstm_matches_torch",
        source=_plant("return h_new, c_new", "return h_new, c"),
        note="returns the old cell state",
    ),
    Mutant(
        "h_from_old_cell_state",
        catches="lstm_matches_torch",
        source=_plant("h_new = o * torch.tanh(c_new)", "h_new = o * torch.tanh(c)"),
        note="h' reads the cell state before the update",
    ),
    Mutant(
        "cell_state_detached",
        catches="lstm_gradients",
        source=_plant("c_new = f * c + i * g", "c_new = f * c.detach() + i * g"),
        note="cuts the gradient along the cell state: the long path the LSTM is for",
    ),
    Mutant(
        "gru_reset_gate_as_in_the_paper",
        catches="gru_matches_torch",
        source=_plant(
            "n = torch.tanh(x_n + r * h_n)",
            "H = h.shape[1]\n    n = torch.tanh(x_n + (r * h) @ w_hh[2 * H :].T + b_hh[2 * H :])",
        ),
        note="Cho et al.: r multiplies h before W_hn, not (W_hn h + b_hn) after it",
    ),
    Mutant(
        "gru_update_gate_swapped",
        catches="gru_matches_torch",
        source=_plant("return (1 - z) * n + z * h", "return z * n + (1 - z) * h"),
        note="z weighs the candidate instead of the old state",
    ),
    Mutant(
        "gru_blocks_r_z_swapped",
        catches="gru_matches_torch",
        source=_plant(
            "r = torch.sigmoid(x_r + h_r)\n    z = torch.sigmoid(x_z + h_z)",
            "r = torch.sigmoid(x_z + h_z)\n    z = torch.sigmoid(x_r + h_r)",
        ),
        note="reads the blocks as z, r, n",
    ),
    Mutant(
        "state_not_carried",
        catches="layer_full_length",
        source=_plant(
            "h_new, c_new = lstm_cell(x[t], h, c, w_ih, w_hh, b_ih, b_hh)",
            "h_new, c_new = lstm_cell(x[t], h0, c0, w_ih, w_hh, b_ih, b_hh)",
        ),
        note="every step starts again from (h0, c0)",
    ),
    Mutant(
        "hidden_not_masked_past_length",
        catches="layer_lengths",
        source=_plant("h = torch.where(keep, h_new, h)", "h = h_new"),
        note="h runs on through the padding; c is masked",
    ),
    Mutant(
        "lengths_ignored",
        catches="layer_lengths",
        source=_plant(
            "keep = (t < lengths)[:, None]", "keep = torch.ones(x.shape[1], 1, dtype=torch.bool)"
        ),
        note="treats every padded position as a real step",
    ),
    Mutant(
        "padded_outputs_not_zero",
        catches="layer_lengths",
        source=_plant("outputs.append(h * keep)", "outputs.append(h)"),
        note="outputs past the length repeat the last state instead of zero",
    ),
]
