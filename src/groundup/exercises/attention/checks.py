"""Checks for the `attention` exercise, against torch.nn.functional.scaled_dot_product_attention.

All inputs are float64 with fixed seeds, so a correct answer matches PyTorch to about 1e-15;
the tolerance (atol 1e-8, rtol 1e-6) leaves room only for rounding. Every shape has Tq != Tk
or d != dv somewhere, so swapped axes and the wrong scale cannot pass by coincidence.
"""

from __future__ import annotations

from types import ModuleType

import torch
import torch.nn.functional as F
from torch import Tensor

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

FUNCTIONS = ["attention"]

REFERENCE = "from groundup.nn.attention import attention\n"

TOL = {"atol": 1e-8, "rtol": 1e-6}


def _qkv(seed: int, batch: tuple[int, ...], Tq: int, Tk: int, d: int, dv: int) -> list[Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(*batch, T, width, generator=g, dtype=torch.float64)
        for T, width in ((Tq, d), (Tk, d), (Tk, dv))
    ]


def _name(q: Tensor, k: Tensor, v: Tensor, mask: str = "") -> str:
    shapes = f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
    return shapes + (f", {mask}" if mask else "")


def _compare_with_sdpa(module: ModuleType, q, k, v, mask, label: Msg, **torch_kwargs) -> None:
    attention = require(module, "attention")
    got = call(label, attention, q.clone(), k.clone(), v.clone(), mask)
    expected = F.scaled_dot_product_attention(q, k, v, **torch_kwargs)
    assert_close(label, got, expected, **TOL)


def _padding(lengths: list[int], Tk: int) -> Tensor:
    """(B, 1, Tk): key j of sequence b is real iff j < lengths[b]."""
    return (torch.arange(Tk)[None, :] < torch.tensor(lengths)[:, None])[:, None, :]


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    require(module, "attention")


SHAPES = [  # (batch axes, Tq, Tk, d, dv)
    ((), 3, 5, 4, 6),
    ((2,), 4, 7, 8, 3),
    ((2, 3), 5, 2, 6, 6),
    ((3, 2), 1, 4, 5, 2),
    ((2, 1, 2), 6, 6, 3, 7),
]


def check_shapes(module: ModuleType) -> None:
    attention = require(module, "attention")
    for seed, (batch, Tq, Tk, d, dv) in enumerate(SHAPES):
        q, k, v = _qkv(seed, batch, Tq, Tk, d, dv)
        label = Msg(f"attention({_name(q, k, v)}).shape", f"attention({_name(q, k, v)}).shape")
        assert_shape(label, call(label, attention, q, k, v), (*batch, Tq, dv))


def check_matches_sdpa(module: ModuleType) -> None:
    cases = [((), 3, 5, 16, 4), ((2,), 4, 4, 9, 25), ((2, 3), 5, 3, 8, 2), ((4,), 6, 9, 32, 8)]
    for seed, (batch, Tq, Tk, d, dv) in enumerate(cases):
        q, k, v = _qkv(100 + seed, batch, Tq, Tk, d, dv)
        label = Msg(
            f"attention({_name(q, k, v)}) against torch's scaled_dot_product_attention",
            f"attention({_name(q, k, v)}) verglichen mit torchs scaled_dot_product_attention",
        )
        _compare_with_sdpa(module, q, k, v, None, label)


def check_padding_mask(module: ModuleType) -> None:
    q, k, v = _qkv(200, (3,), 4, 6, 8, 5)
    mask = _padding([6, 2, 4], 6)
    text = "padding mask (3, 1, 6) for key lengths [6, 2, 4]"
    label = Msg(f"attention({_name(q, k, v, text)})", f"attention({_name(q, k, v, text)})")
    _compare_with_sdpa(module, q, k, v, mask, label, attn_mask=mask)
    # With a head axis: (B, H, T, d) inputs and a (B, 1, 1, Tk) mask shared by all heads.
    q, k, v = _qkv(201, (2, 3), 5, 7, 4, 6)
    mask = _padding([3, 7], 7)[:, None]
    text = "padding mask (2, 1, 1, 7) for key lengths [3, 7]"
    label = Msg(f"attention({_name(q, k, v, text)})", f"attention({_name(q, k, v, text)})")
    _compare_with_sdpa(module, q, k, v, mask, label, attn_mask=mask)


def check_causal_mask(module: ModuleType) -> None:
    for seed, batch in enumerate([(2,), (2, 3)]):
        q, k, v = _qkv(300 + seed, batch, 6, 6, 8, 5)
        mask = torch.ones(6, 6, dtype=torch.bool).tril()
        text = "causal mask (6, 6): query i sees keys 0..i"
        label = Msg(f"attention({_name(q, k, v, text)})", f"attention({_name(q, k, v, text)})")
        _compare_with_sdpa(module, q, k, v, mask, label, is_causal=True)


def check_general_mask(module: ModuleType) -> None:
    q, k, v = _qkv(400, (3,), 5, 6, 4, 3)
    mask = torch.rand(3, 5, 6, generator=torch.Generator().manual_seed(400)) < 0.5
    mask[..., 2] = True  # every query keeps at least one key
    text = "a random mask (3, 5, 6), a different pattern for every query"
    label = Msg(f"attention({_name(q, k, v, text)})", f"attention({_name(q, k, v, text)})")
    _compare_with_sdpa(module, q, k, v, mask, label, attn_mask=mask)


def check_gradients(module: ModuleType) -> None:
    attention = require(module, "attention")
    cases = [(None, "no mask"), (_padding([5, 3], 5), "padding mask (2, 1, 5)")]
    for seed, (mask, text) in enumerate(cases):
        q, k, v = _qkv(500 + seed, (2,), 4, 5, 6, 3)
        upstream = torch.randn(
            2, 4, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
        )
        mine = [x.clone().requires_grad_() for x in (q, k, v)]
        theirs = [x.clone().requires_grad_() for x in (q, k, v)]
        label = Msg(
            f"gradients of sum(attention(...) * g) with respect to q, k, v ({text})",
            f"Gradienten von sum(attention(...) * g) nach q, k, v ({text})",
        )
        out = call(label, attention, *mine, mask)
        if not isinstance(out, Tensor) or out.grad_fn is None:
            raise Mismatch(
                label,
                expected="a tensor connected to q, k and v by autograd (it has a grad_fn)",
                got=describe(out) + ("" if not isinstance(out, Tensor) else ", grad_fn None"),
            )
        call(label, (out * upstream).sum().backward)
        F.scaled_dot_product_attention(*theirs, attn_mask=mask).mul(upstream).sum().backward()
        for name, a, b in zip("qkv", mine, theirs, strict=True):
            grad_label = Msg(f"{name}.grad ({text})", f"{name}.grad ({text})")
            if a.grad is None:
                raise Mismatch(
                    grad_label,
                    expected=f"a gradient for {name} of shape {tuple(b.shape)}",
                    got=f"None: no gradient flowed back to {name} (.detach(), numpy, no_grad?)",
                )
            assert_close(grad_label, a.grad, b.grad, **TOL)


def check_masked_keys_no_influence(module: ModuleType) -> None:
    attention = require(module, "attention")
    q, k, v = _qkv(600, (2,), 4, 6, 5, 3)
    mask = _padding([4, 2], 6)
    blocked = ~mask[:, 0, :]  # (B, Tk): the padded keys
    noise = torch.randn(k.shape, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    k2, v2 = k.clone(), v.clone()
    k2[blocked] = 30.0 * noise[blocked]  # keys that would win every softmax if they counted
    v2[blocked] = 1e3 + noise[blocked, :3]
    label = Msg(
        "attention(q, k, v, mask) before and after changing the keys and values that the "
        "mask blocks (the output must not move at all)",
        "attention(q, k, v, mask) vor und nach dem Ändern der Keys und Values, die die Maske "
        "sperrt (die Ausgabe darf sich überhaupt nicht ändern)",
    )
    before = call(label, attention, q, k, v, mask)
    after = call(label, attention, q, k2, v2, mask)
    assert_close(label, after, before, atol=1e-9, rtol=0)


CHECKS: list[Check] = [
    check(
        "exists",
        ("a function attention(q, k, v, mask=None)", "eine Funktion attention(q, k, v, mask=None)"),
        (
            "Define `def attention(q, k, v, mask=None):` at the top level of your file.",
            "Definieren Sie `def attention(q, k, v, mask=None):` auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "shapes",
        (
            "output shape (..., Tq, dv) for several shapes, with Tq != Tk and d != dv",
            "Ausgabeform (..., Tq, dv) für mehrere Formen, mit Tq != Tk und d != dv",
        ),
        (
            "scores = q @ k.transpose(-2, -1) has shape (..., Tq, Tk); weights @ v then has "
            "(..., Tq, dv). Transpose only the last two axes, so batch axes stay in front. "
            "Queries come from q and keys from k: do not swap them.",
            "scores = q @ k.transpose(-2, -1) hat die Form (..., Tq, Tk); weights @ v hat dann "
            "(..., Tq, dv). Vertauschen Sie nur die letzten beiden Achsen, damit die Batch-Achsen "
            "vorn bleiben. Queries kommen aus q, Keys aus k: nicht vertauschen.",
        ),
        check_shapes,
    ),
    check(
        "matches_sdpa",
        (
            "values equal torch's scaled_dot_product_attention (no mask)",
            "Werte gleich torchs scaled_dot_product_attention (ohne Maske)",
        ),
        (
            "Divide the scores by sqrt(d), where d = q.size(-1) is the query/key width (not d, "
            "not the value width dv), and take the softmax over the keys, the last axis (dim=-1).",
            "Teilen Sie die Scores durch sqrt(d) mit d = q.size(-1), der Breite von Query und Key "
            "(nicht d, nicht die Value-Breite dv), und nehmen Sie die Softmax über die Keys, "
            "die letzte Achse (dim=-1).",
        ),
        check_matches_sdpa,
    ),
    check(
        "padding_mask",
        (
            "a padding mask (B, 1, Tk) blocks the padded keys",
            "eine Padding-Maske (B, 1, Tk) sperrt die aufgefüllten Keys",
        ),
        (
            "True means 'may attend'. Before the softmax, set the blocked scores to -inf: "
            "scores.masked_fill(~mask, float('-inf')). Masking after the softmax leaves rows "
            "that no longer sum to 1; filling with 0 still gives blocked keys weight.",
            "True heißt 'darf schauen'. Setzen Sie vor der Softmax die gesperrten Scores auf "
            "-inf: scores.masked_fill(~mask, float('-inf')). Nach der Softmax maskiert, summieren "
            "sich die Zeilen nicht mehr zu 1; mit 0 aufgefüllt bekommen gesperrte Keys weiter "
            "Gewicht.",
        ),
        check_padding_mask,
    ),
    check(
        "causal_mask",
        (
            "a causal mask (T, T): query i sees only keys 0..i",
            "eine kausale Maske (T, T): Query i sieht nur die Keys 0..i",
        ),
        (
            "mask[i, j] is about query i (row) and key j (column), exactly like scores[..., i, j]; "
            "do not transpose it. A (T, T) mask broadcasts over all batch axes.",
            "mask[i, j] betrifft Query i (Zeile) und Key j (Spalte), genau wie scores[..., i, j]; "
            "transponieren Sie sie nicht. Eine (T, T)-Maske wird über alle Batch-Achsen "
            "gebroadcastet.",
        ),
        check_causal_mask,
    ),
    check(
        "general_mask",
        (
            "any boolean mask pattern, different for every query",
            "ein beliebiges Maskenmuster, für jede Query anders",
        ),
        (
            "Use the mask element by element (masked_fill with ~mask); do not assume that the "
            "allowed keys of a row form a prefix, as they do for padding and causal masks.",
            "Verwenden Sie die Maske elementweise (masked_fill mit ~mask); nehmen Sie nicht an, "
            "dass die erlaubten Keys einer Zeile ein Präfix bilden wie bei Padding- und "
            "kausalen Masken.",
        ),
        check_general_mask,
    ),
    check(
        "gradients",
        (
            "gradients with respect to q, k and v equal torch's",
            "Gradienten nach q, k und v gleich denen von torch",
        ),
        (
            "Stay inside torch: no .detach(), no .numpy(), no torch.no_grad(), no .item() in the "
            "computation, so autograd can follow every step back to q, k and v.",
            "Bleiben Sie in torch: kein .detach(), kein .numpy(), kein torch.no_grad(), kein "
            ".item() in der Rechnung, damit Autograd jeden Schritt bis q, k und v zurückverfolgt.",
        ),
        check_gradients,
    ),
    check(
        "masked_keys_no_influence",
        (
            "keys and values the mask blocks have no influence at all",
            "Keys und Values, die die Maske sperrt, haben überhaupt keinen Einfluss",
        ),
        (
            "A blocked key must get weight exactly 0. A small finite penalty (say -20) only "
            "makes it small, and a penalty added to the score can be outweighed by a large "
            "score: replace blocked scores by float('-inf') with masked_fill.",
            "Ein gesperrter Key muss das Gewicht exakt 0 bekommen. Eine kleine endliche Strafe "
            "(etwa -20) macht es nur klein, und eine zum Score addierte Strafe kann ein großer "
            "Score aufwiegen: ersetzen Sie gesperrte Scores mit masked_fill durch float('-inf').",
        ),
        check_masked_keys_no_influence,
    ),
]
