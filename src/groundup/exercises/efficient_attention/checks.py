"""Checks for the `efficient_attention` exercise.

Sliding-window attention is compared with torch.nn.functional.scaled_dot_product_attention
under the dense band mask; causal linear attention with the same kernel attention written as a
(T, T) matrix, phi(Q) phi(K)^T with the causal mask and rows normalised to sum 1
(groundup.nn.efficient_attention.quadratic_kernel_attention). Inputs are float64 with fixed
seeds; the tolerance (atol 1e-8, rtol 1e-6) leaves room only for rounding. Every shape has
d != dv, so swapped widths cannot pass by coincidence.
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
from groundup.nn.efficient_attention import quadratic_kernel_attention

FUNCTIONS = ["sliding_window_mask", "sliding_window_attention", "causal_linear_attention"]

REFERENCE = """from groundup.nn.efficient_attention import (
    linear_attention,
    sliding_window_attention,
    sliding_window_mask,
)


def causal_linear_attention(q, k, v):
    return linear_attention(q, k, v, causal=True)
"""

TOL = {"atol": 1e-8, "rtol": 1e-6}

SHAPES = [  # (batch axes, T, d, dv)
    ((), 5, 4, 3),
    ((2,), 9, 8, 5),
    ((2, 3), 7, 3, 6),
    ((3, 1, 2), 12, 5, 2),
]
WINDOWS = [1, 3, 4, 20]  # 1: only itself; 20 > T: full causal attention


def _qkv(seed: int, batch: tuple[int, ...], T: int, d: int, dv: int) -> list[Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*batch, T, n, generator=g, dtype=torch.float64) for n in (d, d, dv)]


def _shapes(q: Tensor, k: Tensor, v: Tensor) -> str:
    return f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"


def _band(T: int, window: int) -> Tensor:
    offset = torch.arange(T)[None, :] - torch.arange(T)[:, None]  # j - i
    return (offset > -window) & (offset <= 0)


def _sdpa_window(q: Tensor, k: Tensor, v: Tensor, window: int) -> Tensor:
    return F.scaled_dot_product_attention(q, k, v, attn_mask=_band(q.size(-2), window))


def _kernel(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    return quadratic_kernel_attention(q, k, v, causal=True)


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_mask_band(module: ModuleType) -> None:
    mask_fn = require(module, "sliding_window_mask")
    for T, window in [(1, 1), (5, 1), (6, 2), (8, 3), (7, 7), (4, 9)]:
        label = Msg(
            f"sliding_window_mask(T={T}, window={window})",
            f"sliding_window_mask(T={T}, window={window})",
        )
        got = call(label, mask_fn, T, window)
        if not isinstance(got, Tensor) or got.dtype != torch.bool:
            raise Mismatch(label, expected=f"a bool tensor of shape ({T}, {T})", got=describe(got))
        assert_shape(label, got, (T, T))
        expected = _band(T, window)
        if not torch.equal(got, expected):
            i, j = (int(x) for x in (got != expected).nonzero()[0])
            raise Mismatch(
                label,
                expected=str(expected.int().tolist()),
                got=str(got.int().tolist()),
                where=f"row (query) {i}, column (key) {j}: expected {bool(expected[i, j])}",
            )


def check_window_shapes(module: ModuleType) -> None:
    fn = require(module, "sliding_window_attention")
    for seed, (batch, T, d, dv) in enumerate(SHAPES):
        q, k, v = _qkv(seed, batch, T, d, dv)
        text = f"sliding_window_attention({_shapes(q, k, v)}, window=3).shape"
        assert_shape(Msg(text, text), call(Msg(text, text), fn, q, k, v, 3), (*batch, T, dv))


def check_window_matches_sdpa(module: ModuleType) -> None:
    fn = require(module, "sliding_window_attention")
    for seed, ((batch, T, d, dv), window) in enumerate(zip(SHAPES, WINDOWS, strict=True)):
        q, k, v = _qkv(100 + seed, batch, T, d, dv)
        label = Msg(
            f"sliding_window_attention({_shapes(q, k, v)}, window={window}) against torch's "
            "scaled_dot_product_attention with the band mask",
            f"sliding_window_attention({_shapes(q, k, v)}, window={window}) verglichen mit "
            "torchs scaled_dot_product_attention mit der Bandmaske",
        )
        got = call(label, fn, q.clone(), k.clone(), v.clone(), window)
        assert_close(label, got, _sdpa_window(q, k, v, window), **TOL)


def _compare_gradients(module: ModuleType, name: str, oracle, extra: tuple, seed: int) -> None:
    fn = require(module, name)
    q, k, v = _qkv(seed, (2,), 7, 4, 3)
    upstream = torch.randn(2, 7, 3, generator=torch.Generator().manual_seed(seed), dtype=q.dtype)
    mine = [x.clone().requires_grad_() for x in (q, k, v)]
    theirs = [x.clone().requires_grad_() for x in (q, k, v)]
    label = Msg(
        f"gradients of sum({name}(...) * g) with respect to q, k, v ({_shapes(q, k, v)})",
        f"Gradienten von sum({name}(...) * g) nach q, k, v ({_shapes(q, k, v)})",
    )
    out = call(label, fn, *mine, *extra)
    if not isinstance(out, Tensor) or out.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to q, k and v by autograd (it has a grad_fn)",
            got=describe(out) + ("" if not isinstance(out, Tensor) else ", grad_fn None"),
        )
    call(label, (out * upstream).sum().backward)
    oracle(*theirs, *extra).mul(upstream).sum().backward()
    for axis, a, b in zip("qkv", mine, theirs, strict=True):
        grad_label = Msg(f"{axis}.grad of {name}", f"{axis}.grad von {name}")
        if a.grad is None:
            raise Mismatch(
                grad_label,
                expected=f"a gradient for {axis} of shape {tuple(b.shape)}",
                got=f"None: no gradient flowed back to {axis} (.detach(), numpy, no_grad?)",
            )
        assert_close(grad_label, a.grad, b.grad, **TOL)


def check_window_gradients(module: ModuleType) -> None:
    _compare_gradients(module, "sliding_window_attention", _sdpa_window, (3,), seed=200)


def _influence(fn, q: Tensor, k: Tensor, v: Tensor, position: int, label: Msg) -> Tensor:
    """Which output positions move when key and value `position` change: (T,) bool."""
    g = torch.Generator().manual_seed(position)
    k2, v2 = k.clone(), v.clone()
    k2[..., position, :] = 5.0 * torch.randn(k2[..., position, :].shape, generator=g).double()
    v2[..., position, :] = 100.0 + torch.randn(v2[..., position, :].shape, generator=g).double()
    before, after = call(label, fn, q, k, v), call(label, fn, q, k2, v2)
    if not isinstance(after, Tensor) or after.shape != before.shape:
        raise Mismatch(label, expected=f"a tensor of shape {tuple(q.shape)}", got=describe(after))
    return ((after - before).abs() > 1e-9).flatten(0, -3).any(dim=0).any(dim=-1)


def _report_influence(label: Msg, moved: Tensor, allowed: Tensor, position: int) -> None:
    if torch.equal(moved, allowed):
        return
    wrong = [i for i in range(len(moved)) if bool(moved[i]) != bool(allowed[i])]
    raise Mismatch(
        label,
        expected=f"outputs {allowed.nonzero().flatten().tolist()} change",
        got=f"outputs {moved.nonzero().flatten().tolist()} change",
        where=f"output {wrong[0]}: key/value {position} "
        + ("must not reach it" if moved[wrong[0]] else "must reach it"),
    )


def check_window_locality(module: ModuleType) -> None:
    fn = require(module, "sliding_window_attention")
    T, window = 10, 3
    q, k, v = _qkv(300, (2,), T, 4, 3)
    for position in (0, 4, 9):
        label = Msg(
            f"sliding_window_attention(window={window}), T={T}: which outputs change when key "
            f"and value {position} change (exactly {position} .. {position + window - 1})",
            f"sliding_window_attention(window={window}), T={T}: welche Ausgaben sich ändern, "
            f"wenn Key und Value {position} sich ändern (genau {position} .. "
            f"{position + window - 1})",
        )
        moved = _influence(lambda q, k, v: fn(q, k, v, window), q, k, v, position, label)
        index = torch.arange(T)
        _report_influence(label, moved, (index >= position) & (index < position + window), position)


def check_linear_shapes(module: ModuleType) -> None:
    fn = require(module, "causal_linear_attention")
    for seed, (batch, T, d, dv) in enumerate(SHAPES):
        q, k, v = _qkv(400 + seed, batch, T, d, dv)
        text = f"causal_linear_attention({_shapes(q, k, v)}).shape"
        assert_shape(Msg(text, text), call(Msg(text, text), fn, q, k, v), (*batch, T, dv))


def check_linear_matches_kernel(module: ModuleType) -> None:
    fn = require(module, "causal_linear_attention")
    for seed, (batch, T, d, dv) in enumerate(SHAPES):
        q, k, v = _qkv(500 + seed, batch, T, d, dv)
        label = Msg(
            f"causal_linear_attention({_shapes(q, k, v)}) against the dense kernel attention: "
            "phi(Q) phi(K)^T, causal, rows normalised, times V",
            f"causal_linear_attention({_shapes(q, k, v)}) verglichen mit der dichten "
            "Kernel-Attention: phi(Q) phi(K)^T, kausal, Zeilen normiert, mal V",
        )
        got = call(label, fn, q.clone(), k.clone(), v.clone())
        assert_close(label, got, _kernel(q, k, v), **TOL)


def check_linear_gradients(module: ModuleType) -> None:
    _compare_gradients(module, "causal_linear_attention", _kernel, (), seed=600)


def check_linear_causal(module: ModuleType) -> None:
    fn = require(module, "causal_linear_attention")
    T = 9
    q, k, v = _qkv(700, (2,), T, 4, 3)
    for position in (0, 5, 8):
        label = Msg(
            f"causal_linear_attention, T={T}: which outputs change when key and value "
            f"{position} change (exactly {position} .. {T - 1}: no output sees the future)",
            f"causal_linear_attention, T={T}: welche Ausgaben sich ändern, wenn Key und Value "
            f"{position} sich ändern (genau {position} .. {T - 1}: keine Ausgabe sieht die "
            "Zukunft)",
        )
        moved = _influence(fn, q, k, v, position, label)
        _report_influence(label, moved, torch.arange(T) >= position, position)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions sliding_window_mask, sliding_window_attention, causal_linear_attention",
            "Funktionen sliding_window_mask, sliding_window_attention, causal_linear_attention",
        ),
        (
            "Define all three at the top level of your file, with the signatures of the stub.",
            "Definieren Sie alle drei auf oberster Ebene Ihrer Datei, mit den Signaturen aus "
            "der Vorlage.",
        ),
        check_exists,
    ),
    check(
        "mask_band",
        (
            "sliding_window_mask(T, window) is the causal band i - window < j <= i",
            "sliding_window_mask(T, window) ist das kausale Band i - window < j <= i",
        ),
        (
            "Take i = torch.arange(T)[:, None] (queries, rows) and j = torch.arange(T)[None, :] "
            "(keys, columns); the mask is (j <= i) & (j > i - window). A window of w means w "
            "keys including the query's own position, not w keys before it.",
            "Nehmen Sie i = torch.arange(T)[:, None] (Queries, Zeilen) und "
            "j = torch.arange(T)[None, :] (Keys, Spalten); die Maske ist "
            "(j <= i) & (j > i - window). Ein Fenster w heißt w Keys einschließlich der eigenen "
            "Position der Query, nicht w Keys davor.",
        ),
        check_mask_band,
    ),
    check(
        "window_shapes",
        (
            "sliding_window_attention returns (..., T, dv) for several shapes",
            "sliding_window_attention liefert (..., T, dv) für mehrere Formen",
        ),
        (
            "scores = q @ k.transpose(-2, -1) is (..., T, T); a (T, T) mask broadcasts over the "
            "batch axes; weights @ v is (..., T, dv).",
            "scores = q @ k.transpose(-2, -1) hat die Form (..., T, T); eine (T, T)-Maske wird "
            "über die Batch-Achsen gebroadcastet; weights @ v hat (..., T, dv).",
        ),
        check_window_shapes,
    ),
    check(
        "window_matches_sdpa",
        (
            "sliding-window values equal torch's attention with the band mask",
            "Werte der Sliding-Window-Attention gleich torchs Attention mit der Bandmaske",
        ),
        (
            "Scale the scores by 1 / sqrt(d) with d = q.size(-1), set blocked scores to -inf "
            "before the softmax, and take the softmax over the keys (dim=-1). mask[i, j] is "
            "about query i and key j, the same layout as scores[..., i, j]: do not transpose it.",
            "Skalieren Sie die Scores mit 1 / sqrt(d), d = q.size(-1), setzen Sie gesperrte "
            "Scores vor der Softmax auf -inf und nehmen Sie die Softmax über die Keys (dim=-1). "
            "mask[i, j] betrifft Query i und Key j, dieselbe Anordnung wie scores[..., i, j]: "
            "nicht transponieren.",
        ),
        check_window_matches_sdpa,
    ),
    check(
        "window_gradients",
        (
            "sliding-window gradients with respect to q, k and v equal torch's",
            "Gradienten der Sliding-Window-Attention nach q, k und v gleich denen von torch",
        ),
        (
            "Stay inside torch: no .detach(), .numpy(), torch.no_grad() or .item() in the "
            "computation, so autograd can follow it back to q, k and v.",
            "Bleiben Sie in torch: kein .detach(), .numpy(), torch.no_grad() oder .item() in der "
            "Rechnung, damit Autograd sie bis q, k und v zurückverfolgen kann.",
        ),
        check_window_gradients,
    ),
    check(
        "window_locality",
        (
            "key and value j reach exactly the outputs j .. j + window - 1",
            "Key und Value j erreichen genau die Ausgaben j .. j + window - 1",
        ),
        (
            "A blocked key must get weight exactly 0: fill with float('-inf'), not a finite "
            "penalty, and use the causal band, not a symmetric one (|i - j| < window lets "
            "queries see the future).",
            "Ein gesperrter Key muss das Gewicht exakt 0 bekommen: mit float('-inf') füllen, "
            "nicht mit einer endlichen Strafe, und das kausale Band nehmen, kein symmetrisches "
            "(|i - j| < window lässt Queries in die Zukunft sehen).",
        ),
        check_window_locality,
    ),
    check(
        "linear_shapes",
        (
            "causal_linear_attention returns (..., T, dv) for several shapes",
            "causal_linear_attention liefert (..., T, dv) für mehrere Formen",
        ),
        (
            "phi_k[..., :, None] * v[..., None, :] is (..., T, d, dv); its cumsum over the "
            "positions is dim=-3. phi_q[..., None, :] @ S is (..., T, 1, dv): squeeze(-2).",
            "phi_k[..., :, None] * v[..., None, :] hat die Form (..., T, d, dv); die Positionen "
            "sind dort dim=-3. phi_q[..., None, :] @ S hat (..., T, 1, dv): squeeze(-2).",
        ),
        check_linear_shapes,
    ),
    check(
        "linear_matches_kernel",
        (
            "causal linear attention equals the dense kernel attention phi(Q) phi(K)^T",
            "kausale lineare Attention gleich der dichten Kernel-Attention phi(Q) phi(K)^T",
        ),
        (
            "phi(x) = elu(x) + 1 (F.elu(x) + 1), for queries and keys alike. The numerator is "
            "phi(q_i) . S_i and the denominator phi(q_i) . z_i, both with the running sums up to "
            "and including position i (torch.cumsum, not a total sum). Keys are not scaled by "
            "1 / sqrt(d) here.",
            "phi(x) = elu(x) + 1 (F.elu(x) + 1), für Queries und Keys gleichermaßen. Der Zähler "
            "ist phi(q_i) . S_i, der Nenner phi(q_i) . z_i, beide mit den laufenden Summen bis "
            "einschließlich Position i (torch.cumsum, keine Gesamtsumme). Die Keys werden hier "
            "nicht mit 1 / sqrt(d) skaliert.",
        ),
        check_linear_matches_kernel,
    ),
    check(
        "linear_gradients",
        (
            "linear-attention gradients with respect to q, k and v equal the dense form's",
            "Gradienten der linearen Attention nach q, k und v gleich denen der dichten Form",
        ),
        (
            "Stay inside torch: no .detach(), .numpy(), torch.no_grad() or .item(), so autograd "
            "reaches q, k and v through the feature map and the running sums.",
            "Bleiben Sie in torch: kein .detach(), .numpy(), torch.no_grad() oder .item(), damit "
            "Autograd q, k und v durch die Merkmalsabbildung und die laufenden Summen erreicht.",
        ),
        check_linear_gradients,
    ),
    check(
        "linear_causal",
        (
            "causal linear attention: key and value j reach exactly the outputs j .. T - 1",
            "kausale lineare Attention: Key und Value j erreichen genau die Ausgaben j .. T - 1",
        ),
        (
            "Both S and z must be prefix sums (torch.cumsum over the positions). A sum over all "
            "positions, in the numerator or the normaliser, lets every output see the future.",
            "S und z müssen beide Präfixsummen sein (torch.cumsum über die Positionen). Eine "
            "Summe über alle Positionen, im Zähler oder im Normierer, lässt jede Ausgabe in die "
            "Zukunft sehen.",
        ),
        check_linear_causal,
    ),
]
