"""Checks for the `transformer` exercise, against torch.nn.TransformerDecoderLayer.

The weights of a torch layer are copied into groundup's DecoderLayer (whose `forward` is
blocked, so the learner's own code runs), the LayerNorm gains and biases are moved away from
1 and 0 so that a swapped norm shows, and all inputs are float64 with fixed seeds. A correct
answer matches torch to about 1e-13; the tolerance (atol 1e-8, rtol 1e-6) leaves room only
for rounding.
"""

from __future__ import annotations

from types import ModuleType

import torch
from torch import Tensor, nn

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
from groundup.models.transformer import DecoderLayer, from_torch_state, load_torch_state

FUNCTIONS = ["decoder_masks", "decoder_layer"]

REFERENCE = """from groundup.models.transformer import DecoderLayer, decoder_self_mask, key_mask


def decoder_masks(tgt_is_real, src_is_real):
    T = tgt_is_real.size(1)
    return decoder_self_mask(tgt_is_real, T, tgt_is_real.device), key_mask(src_is_real)


def decoder_layer(layer, y, memory, self_mask, memory_mask):
    return DecoderLayer.forward(layer, y, memory, self_mask, memory_mask)
"""

TOL = {"atol": 1e-8, "rtol": 1e-6}
E, H, FF = 12, 3, 20


def _real(lengths: list[int], T: int) -> Tensor:
    return torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]


def _expected_masks(tgt_real: Tensor, src_real: Tensor) -> tuple[Tensor, Tensor]:
    T = tgt_real.size(1)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    return causal[None] & tgt_real[:, None, :], src_real[:, None, :]


def _blocked_forward(*args, **kwargs):
    raise RuntimeError("do not call layer(...) or layer.forward: write the layer yourself")


def _pair(seed: int, norm_first: bool, activation: str = "relu"):
    torch.manual_seed(seed)
    theirs = nn.TransformerDecoderLayer(
        E, H, FF, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first
    ).double()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "norm" in name:
                p.add_(0.2 * torch.randn_like(p))
    ours = DecoderLayer(E, H, FF, dropout=0.0, activation=activation, norm_first=norm_first)
    ours = load_torch_state(ours.double(), theirs)
    ours.forward = _blocked_forward  # the learner's decoder_layer must do the work
    return ours, theirs


def _inputs(seed: int, tgt_lengths: list[int], src_lengths: list[int], T: int, S: int):
    g = torch.Generator().manual_seed(seed)
    B = len(tgt_lengths)
    y = torch.randn(B, T, E, generator=g, dtype=torch.float64)
    memory = torch.randn(B, S, E, generator=g, dtype=torch.float64)
    return y, memory, _real(tgt_lengths, T), _real(src_lengths, S)


def _torch_output(theirs: nn.Module, y, memory, tgt_real, src_real) -> Tensor:
    T = y.size(1)
    return theirs(
        y,
        memory,
        tgt_mask=torch.ones(T, T, dtype=torch.bool).triu(1),  # torch: True = blocked
        tgt_key_padding_mask=~tgt_real,
        memory_key_padding_mask=~src_real,
        tgt_is_causal=True,
    )


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_masks(module: ModuleType) -> None:
    decoder_masks = require(module, "decoder_masks")
    cases = [([4, 2, 3], [5, 3, 1], 4, 5), ([6], [2], 6, 2), ([1, 3], [4, 4], 3, 4)]
    for tgt_lengths, src_lengths, T, S in cases:
        tgt_real, src_real = _real(tgt_lengths, T), _real(src_lengths, S)
        label = Msg(
            f"decoder_masks for target lengths {tgt_lengths} (T={T}), source lengths "
            f"{src_lengths} (S={S})",
            f"decoder_masks für Ziellängen {tgt_lengths} (T={T}), Quelllängen "
            f"{src_lengths} (S={S})",
        )
        got = call(label, decoder_masks, tgt_real.clone(), src_real.clone())
        if not isinstance(got, tuple) or len(got) != 2:
            raise Mismatch(label, expected="a tuple (self_mask, memory_mask)", got=describe(got))
        want_self, want_memory = _expected_masks(tgt_real, src_real)
        pairs = (("self_mask", got[0], want_self), ("memory_mask", got[1], want_memory))
        for name, mask, want in pairs:
            part = Msg(f"{label.en}: {name}", f"{label.de}: {name}")
            if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
                raise Mismatch(part, expected="a bool tensor", got=describe(mask))
            assert_shape(part, mask, tuple(want.shape))
            assert_close(part, mask.int(), want.int(), atol=0, rtol=0)


def _compare_layer(module: ModuleType, norm_first: bool, activation: str, seed: int) -> None:
    decoder_layer = require(module, "decoder_layer")
    ours, theirs = _pair(seed, norm_first, activation)
    y, memory, tgt_real, src_real = _inputs(seed, [5, 3], [6, 4], 5, 6)
    self_mask, memory_mask = _expected_masks(tgt_real, src_real)
    kind = "pre-LN" if norm_first else "post-LN"
    label = Msg(
        f"decoder_layer ({kind}, {activation}, y (2, 5, {E}), memory (2, 6, {E}), padding in "
        f"both) against torch.nn.TransformerDecoderLayer",
        f"decoder_layer ({kind}, {activation}, y (2, 5, {E}), memory (2, 6, {E}), Padding in "
        f"beiden) verglichen mit torch.nn.TransformerDecoderLayer",
    )
    got = call(label, decoder_layer, ours, y.clone(), memory.clone(), self_mask, memory_mask)
    assert_shape(label, got, tuple(y.shape))
    assert_close(label, got, _torch_output(theirs, y, memory, tgt_real, src_real), **TOL)


def check_post_ln(module: ModuleType) -> None:
    _compare_layer(module, norm_first=False, activation="relu", seed=1)
    _compare_layer(module, norm_first=False, activation="gelu", seed=2)


def check_pre_ln(module: ModuleType) -> None:
    _compare_layer(module, norm_first=True, activation="relu", seed=3)
    _compare_layer(module, norm_first=True, activation="gelu", seed=4)


def check_gradients(module: ModuleType) -> None:
    decoder_layer = require(module, "decoder_layer")
    for seed, norm_first in ((5, False), (6, True)):
        ours, theirs = _pair(seed, norm_first)
        y, memory, tgt_real, src_real = _inputs(seed, [4, 2], [3, 5], 4, 5)
        self_mask, memory_mask = _expected_masks(tgt_real, src_real)
        upstream = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed))
        upstream = upstream.double()
        kind = "pre-LN" if norm_first else "post-LN"
        label = Msg(
            f"gradients of sum(decoder_layer(...) * g) ({kind}) with respect to y, memory "
            f"and every weight",
            f"Gradienten von sum(decoder_layer(...) * g) ({kind}) nach y, memory und allen "
            f"Gewichten",
        )
        y1, m1 = y.clone().requires_grad_(), memory.clone().requires_grad_()
        out = call(label, decoder_layer, ours, y1, m1, self_mask, memory_mask)
        if not isinstance(out, Tensor) or out.grad_fn is None:
            raise Mismatch(label, expected="a tensor with a grad_fn", got=describe(out))
        call(label, (out * upstream).sum().backward)
        y2, m2 = y.clone().requires_grad_(), memory.clone().requires_grad_()
        (_torch_output(theirs, y2, m2, tgt_real, src_real) * upstream).sum().backward()
        assert_close(Msg(label.en + ": y", label.de + ": y"), y1.grad, y2.grad, **TOL)
        assert_close(Msg(label.en + ": memory", label.de + ": memory"), m1.grad, m2.grad, **TOL)
        their_grads = {n: p.grad for n, p in theirs.named_parameters()}
        their_grads = from_torch_state(their_grads)
        for name, p in ours.named_parameters():
            part = Msg(f"{label.en}: {name}", f"{label.de}: {name}")
            if p.grad is None:
                raise Mismatch(part, expected="a gradient", got="None (not used, or detached)")
            assert_close(part, p.grad, their_grads[name], **TOL)


def check_causal(module: ModuleType) -> None:
    """Changing the last target token must leave every earlier output unchanged."""
    decoder_layer, decoder_masks = (
        require(module, "decoder_layer"),
        require(module, "decoder_masks"),
    )
    ours, _ = _pair(7, norm_first=True)
    y, memory, tgt_real, src_real = _inputs(7, [5], [4], 5, 4)
    label = Msg(
        "decoder_layer with your decoder_masks: outputs 0..3 when only target token 4 changes",
        "decoder_layer mit Ihren decoder_masks: Ausgaben 0..3, wenn sich nur Zieltoken 4 ändert",
    )
    masks = call(label, decoder_masks, tgt_real, src_real)
    before = call(label, decoder_layer, ours, y.clone(), memory, *masks)
    changed = y.clone()
    # A random change: adding a constant would vanish in the LayerNorm of a pre-LN layer.
    changed[:, 4] += torch.randn(E, generator=torch.Generator().manual_seed(7)).double()
    after = call(label, decoder_layer, ours, changed, memory, *masks)
    assert_close(label, after[:, :4], before[:, :4], **TOL)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions decoder_masks(tgt_is_real, src_is_real) and decoder_layer(layer, y, "
            "memory, self_mask, memory_mask)",
            "Funktionen decoder_masks(tgt_is_real, src_is_real) und decoder_layer(layer, y, "
            "memory, self_mask, memory_mask)",
        ),
        (
            "Define both functions at the top level of your file, with these names.",
            "Definieren Sie beide Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "masks",
        (
            "decoder_masks: causal & target padding (B, T, T), source padding (B, 1, S)",
            "decoder_masks: kausal & Ziel-Padding (B, T, T), Quell-Padding (B, 1, S)",
        ),
        (
            "True means 'may attend'. The causal part is torch.ones(T, T).tril() as bool: row i "
            "keeps columns 0..i. Padding blocks keys (columns), so index it as "
            "tgt_is_real[:, None, :] and combine with &. Real tokens are True, padding False: "
            "do not invert it.",
            "True heißt 'darf lesen'. Der kausale Teil ist torch.ones(T, T).tril() als bool: "
            "Zeile i behält die Spalten 0..i. Padding sperrt Keys (Spalten), also "
            "tgt_is_real[:, None, :] und mit & verknüpfen. Echte Tokens sind True, Padding "
            "False: nicht umkehren.",
        ),
        check_masks,
    ),
    check(
        "post_ln",
        (
            "post-LN layer (norm_first=False) equals torch.nn.TransformerDecoderLayer",
            "Post-LN-Schicht (norm_first=False) gleich torch.nn.TransformerDecoderLayer",
        ),
        (
            "Post-LN: y = norm1(y + self_attn(y, y, y)), then y = norm2(y + multihead_attn(y, "
            "memory, memory)), then y = norm3(y + ffn(y)). Cross-attention takes its keys and "
            "values from memory with memory_mask; every sublayer keeps its residual.",
            "Post-LN: y = norm1(y + self_attn(y, y, y)), dann y = norm2(y + multihead_attn(y, "
            "memory, memory)), dann y = norm3(y + ffn(y)). Cross-Attention nimmt Keys und "
            "Values aus memory mit memory_mask; jede Teilschicht behält ihr Residuum.",
        ),
        check_post_ln,
    ),
    check(
        "pre_ln",
        (
            "pre-LN layer (norm_first=True) equals torch.nn.TransformerDecoderLayer",
            "Pre-LN-Schicht (norm_first=True) gleich torch.nn.TransformerDecoderLayer",
        ),
        (
            "Pre-LN normalises the input of each sublayer and adds the raw y: "
            "h = norm1(y); y = y + self_attn(h, h, h); y = y + multihead_attn(norm2(y), memory, "
            "memory); y = y + ffn(norm3(y)). Memory itself is not normalised here.",
            "Pre-LN normalisiert die Eingabe jeder Teilschicht und addiert das rohe y: "
            "h = norm1(y); y = y + self_attn(h, h, h); y = y + multihead_attn(norm2(y), memory, "
            "memory); y = y + ffn(norm3(y)). Memory selbst wird hier nicht normalisiert.",
        ),
        check_pre_ln,
    ),
    check(
        "gradients",
        (
            "gradients w.r.t. y, memory and all weights equal torch's",
            "Gradienten nach y, memory und allen Gewichten gleich denen von torch",
        ),
        (
            "Use only differentiable tensor operations; no .detach(), .data or torch.no_grad().",
            "Nur differenzierbare Tensor-Operationen; kein .detach(), .data oder torch.no_grad().",
        ),
        check_gradients,
    ),
    check(
        "causal",
        (
            "with your masks, no output depends on a later target token",
            "mit Ihren Masken hängt keine Ausgabe von einem späteren Zieltoken ab",
        ),
        (
            "Pass self_mask to the self-attention. During training the decoder sees the whole "
            "target at once; the causal mask is what stops position i from copying token i+1.",
            "Übergeben Sie self_mask an die Self-Attention. Im Training sieht der Decoder das "
            "ganze Ziel auf einmal; erst die kausale Maske hindert Position i daran, Token i+1 "
            "abzuschreiben.",
        ),
        check_causal,
    ),
]
