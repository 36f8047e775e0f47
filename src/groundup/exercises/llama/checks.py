"""Checks for the `llama` exercise, against groundup.models.llama and torch.

The library pieces equal Hugging Face's LlamaRMSNorm, LlamaMLP and repeat_kv and the whole
LlamaForCausalLM (proved in tests/models/test_llama.py); RMSNorm is also compared with
torch.nn.functional.rms_norm. Inputs are float64 with fixed seeds, so a correct answer
matches to rounding (atol 1e-10); gradients are compared for every input and weight.
"""

from __future__ import annotations

from types import ModuleType

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.func import functional_call

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    assert_true,
    call,
    check,
    require,
)
from groundup.i18n import Msg
from groundup.models import llama

FUNCTIONS = ["rms_norm", "swiglu", "repeat_kv", "gqa_attention"]

REFERENCE = """import torch
import torch.nn.functional as F

from groundup.models.llama import repeat_kv


def rms_norm(x, weight, eps=1e-6):
    return F.rms_norm(x, (x.size(-1),), weight, eps)


def swiglu(x, w_gate, w_up, w_down):
    return F.silu(x @ w_gate.T) * (x @ w_up.T) @ w_down.T


def gqa_attention(q, k, v):
    groups = q.size(1) // k.size(1)
    k, v = repeat_kv(k, groups), repeat_kv(v, groups)
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)
"""

TOL = {"atol": 1e-10, "rtol": 1e-8}


def _randn(seed: int, *shape: int, scale: float = 1.0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


def _library_rms_norm(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    # functional_call runs the library module with the given tensors as its parameters, so
    # gradients flow back to them.
    norm = llama.RMSNorm(x.size(-1), eps)
    return functional_call(norm, {"weight": weight}, (x,))


def _library_swiglu(x: Tensor, w_gate: Tensor, w_up: Tensor, w_down: Tensor) -> Tensor:
    hidden, inner = x.size(-1), w_gate.size(0)
    config = llama.LlamaConfig(vocab_size=2, hidden_size=hidden, intermediate_size=inner, n_head=1)
    weights = {"gate_proj.weight": w_gate, "up_proj.weight": w_up, "down_proj.weight": w_down}
    return functional_call(llama.MLP(config), weights, (x,))


def _library_gqa(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """The attention step of llama.Attention: repeat_kv, then causal softmax attention."""
    groups = q.size(1) // k.size(1)
    k, v = llama.repeat_kv(k, groups), llama.repeat_kv(v, groups)
    scores = q @ k.transpose(-2, -1) / q.size(-1) ** 0.5
    T = q.size(-2)
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(-1) @ v


def _gqa_inputs(seed: int, B: int, heads: int, kv_heads: int, T: int, d: int):
    return (
        _randn(seed, B, heads, T, d),
        _randn(seed + 1, B, kv_heads, T, d),
        _randn(seed + 2, B, kv_heads, T, d),
    )


GQA_CASES = [(2, 4, 2, 7, 8), (1, 6, 3, 5, 4), (2, 4, 1, 6, 8), (1, 4, 4, 9, 6)]


# ---------------------------------------------------------------- checks


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_shapes(module: ModuleType) -> None:
    x = _randn(0, 2, 5, 12)
    compared = Msg(
        "rms_norm(x (2, 5, 12), weight (12,)).shape", "rms_norm(x (2, 5, 12), weight (12,)).shape"
    )
    assert_shape(
        compared,
        call(compared, require(module, "rms_norm"), x, torch.ones(12).double()),
        (2, 5, 12),
    )
    w_gate, w_up, w_down = _randn(1, 20, 12), _randn(2, 20, 12), _randn(3, 12, 20)
    compared = Msg("swiglu(x (2, 5, 12), hidden 20).shape", "swiglu(x (2, 5, 12), hidden 20).shape")
    assert_shape(
        compared, call(compared, require(module, "swiglu"), x, w_gate, w_up, w_down), (2, 5, 12)
    )
    kv = _randn(4, 2, 3, 5, 8)
    compared = Msg("repeat_kv(x (2, 3, 5, 8), 4).shape", "repeat_kv(x (2, 3, 5, 8), 4).shape")
    assert_shape(compared, call(compared, require(module, "repeat_kv"), kv, 4), (2, 12, 5, 8))
    q, k, v = _gqa_inputs(5, 2, 6, 2, 5, 8)
    compared = Msg(
        "gqa_attention(q (2, 6, 5, 8), k, v (2, 2, 5, 8)).shape",
        "gqa_attention(q (2, 6, 5, 8), k, v (2, 2, 5, 8)).shape",
    )
    assert_shape(compared, call(compared, require(module, "gqa_attention"), q, k, v), (2, 6, 5, 8))


def check_rms_norm_matches(module: ModuleType) -> None:
    rms_norm = require(module, "rms_norm")
    # Inputs with a large mean: LayerNorm would subtract it, RMSNorm must not.
    for seed, (shape, shift, eps) in enumerate(
        [((3, 16), 0.0, 1e-6), ((2, 4, 10), 2.0, 1e-5), ((5, 32), -1.5, 1e-6)]
    ):
        x = _randn(seed, *shape, scale=3.0) + shift
        weight = 1.0 + _randn(seed + 50, shape[-1], scale=0.5)
        compared = Msg(
            f"rms_norm(random x {shape} + {shift}, eps={eps:g})",
            f"rms_norm(zufälliges x {shape} + {shift}, eps={eps:g})",
        )
        expected = _library_rms_norm(x, weight, eps)
        assert_close(compared, expected, F.rms_norm(x, (shape[-1],), weight, eps), **TOL)
        assert_close(
            compared,
            call(compared, rms_norm, x.clone(), weight.clone(), eps),
            expected,
            **TOL,
            check_type=Tensor,
        )


def check_rms_norm_eps(module: ModuleType) -> None:
    rms_norm = require(module, "rms_norm")
    # Tiny activations: mean(x^2) ~ 1e-8 is smaller than eps, so where eps goes shows.
    x = _randn(7, 4, 8, scale=1e-4)
    weight = torch.ones(8, dtype=torch.float64)
    compared = Msg(
        "rms_norm(x of size 1e-4 (4, 8), eps=1e-6)", "rms_norm(x der Größe 1e-4 (4, 8), eps=1e-6)"
    )
    got = call(compared, rms_norm, x.clone(), weight, 1e-6)
    assert_close(compared, got, _library_rms_norm(x, weight, 1e-6), **TOL, check_type=Tensor)


def check_rms_norm_gradients(module: ModuleType) -> None:
    rms_norm = require(module, "rms_norm")
    x0, w0, upstream = (
        _randn(8, 3, 6, 10, scale=2.0),
        1 + _randn(9, 10, scale=0.3),
        _randn(10, 3, 6, 10),
    )
    grads = []
    for fn in (rms_norm, _library_rms_norm):
        x, w = x0.clone().requires_grad_(), w0.clone().requires_grad_()
        compared = Msg(
            "gradients of rms_norm w.r.t. x and weight", "Gradienten von rms_norm nach x und weight"
        )
        out = call(compared, fn, x, w, 1e-6)
        assert_true(
            compared,
            isinstance(out, Tensor) and out.requires_grad,
            "an output connected to x and weight",
            "an output without gradient",
        )
        (out * upstream).sum().backward()
        grads.append((x.grad, w.grad))
    for name, got, expected in zip(["x", "weight"], grads[0], grads[1], strict=True):
        compared = Msg(f"d loss / d {name} of rms_norm", f"d Verlust / d {name} von rms_norm")
        assert_close(compared, got, expected, **TOL, check_type=Tensor)


def check_swiglu_matches(module: ModuleType) -> None:
    swiglu = require(module, "swiglu")
    for seed, (shape, inner) in enumerate([((3, 8), 20), ((2, 5, 12), 32), ((4, 16), 8)]):
        C = shape[-1]
        x = _randn(seed, *shape)
        w_gate, w_up, w_down = (
            _randn(seed + 10, inner, C),
            _randn(seed + 20, inner, C),
            _randn(seed + 30, C, inner),
        )
        compared = Msg(
            f"swiglu(random x {shape}, hidden {inner})",
            f"swiglu(zufälliges x {shape}, hidden {inner})",
        )
        got = call(compared, swiglu, x.clone(), w_gate, w_up, w_down)
        assert_close(
            compared, got, _library_swiglu(x, w_gate, w_up, w_down), **TOL, check_type=Tensor
        )


def check_swiglu_gradients(module: ModuleType) -> None:
    swiglu = require(module, "swiglu")
    start = [_randn(40, 2, 5, 12), _randn(41, 24, 12), _randn(42, 24, 12), _randn(43, 12, 24)]
    upstream = _randn(44, 2, 5, 12)
    grads = []
    for fn in (swiglu, _library_swiglu):
        tensors = [t.clone().requires_grad_() for t in start]
        compared = Msg("gradients of swiglu", "Gradienten von swiglu")
        out = call(compared, fn, *tensors)
        assert_true(
            compared,
            isinstance(out, Tensor) and out.requires_grad,
            "an output connected to the inputs",
            "an output without gradient",
        )
        (out * upstream).sum().backward()
        grads.append([t.grad for t in tensors])
    for name, got, expected in zip(
        ["x", "w_gate", "w_up", "w_down"], grads[0], grads[1], strict=True
    ):
        compared = Msg(f"d loss / d {name} of swiglu", f"d Verlust / d {name} von swiglu")
        assert_close(compared, got, expected, **TOL, check_type=Tensor)


def check_repeat_kv_order(module: ModuleType) -> None:
    repeat_kv = require(module, "repeat_kv")
    for seed, (shape, n_rep) in enumerate(
        [((2, 2, 3, 4), 2), ((1, 3, 5, 2), 4), ((2, 4, 3, 4), 1)]
    ):
        x = _randn(seed, *shape)
        compared = Msg(
            f"repeat_kv(random x {shape}, n_rep={n_rep})",
            f"repeat_kv(zufälliges x {shape}, n_rep={n_rep})",
        )
        expected = llama.repeat_kv(x, n_rep)
        assert_close(compared, expected, x.repeat_interleave(n_rep, dim=1), atol=0, rtol=0)
        assert_close(
            compared,
            call(compared, repeat_kv, x.clone(), n_rep),
            expected,
            atol=0,
            rtol=0,
            check_type=Tensor,
        )


def check_gqa_matches(module: ModuleType) -> None:
    gqa = require(module, "gqa_attention")
    for seed, (B, H, KV, T, d) in enumerate(GQA_CASES):
        q, k, v = _gqa_inputs(100 + 3 * seed, B, H, KV, T, d)
        compared = Msg(
            f"gqa_attention: {H} query heads, {KV} key/value heads, T={T}, d={d}",
            f"gqa_attention: {H} Query-Köpfe, {KV} Key/Value-Köpfe, T={T}, d={d}",
        )
        got = call(compared, gqa, q.clone(), k.clone(), v.clone())
        assert_close(compared, got, _library_gqa(q, k, v), **TOL, check_type=Tensor)


def check_gqa_causal(module: ModuleType) -> None:
    gqa = require(module, "gqa_attention")
    q, k, v = _gqa_inputs(200, 1, 4, 2, 8, 4)
    later_k, later_v = k.clone(), v.clone()
    later_k[:, :, 5:] += 3.0  # change keys and values of positions 5, 6, 7 only
    later_v[:, :, 5:] -= 2.0
    compared = Msg(
        "gqa_attention: outputs at positions 0..4 when keys/values at 5..7 change",
        "gqa_attention: Ausgaben an Positionen 0..4, wenn sich Keys/Values an 5..7 ändern",
    )
    before = call(compared, gqa, q.clone(), k, v)
    after = call(compared, gqa, q.clone(), later_k, later_v)
    if not isinstance(before, Tensor) or not isinstance(after, Tensor):
        raise Mismatch(
            compared, expected="tensors", got=f"{type(before).__name__}, {type(after).__name__}"
        )
    assert_close(compared, after[:, :, :5], before[:, :, :5], **TOL)


def check_gqa_gradients(module: ModuleType) -> None:
    gqa = require(module, "gqa_attention")
    start = _gqa_inputs(300, 2, 6, 2, 6, 4)
    upstream = _randn(310, 2, 6, 6, 4)
    grads = []
    for fn in (gqa, _library_gqa):
        tensors = [t.clone().requires_grad_() for t in start]
        compared = Msg("gradients of gqa_attention", "Gradienten von gqa_attention")
        out = call(compared, fn, *tensors)
        assert_true(
            compared,
            isinstance(out, Tensor) and out.requires_grad,
            "an output connected to q, k and v",
            "an output without gradient",
        )
        (out * upstream).sum().backward()
        grads.append([t.grad for t in tensors])
    for name, got, expected in zip("qkv", grads[0], grads[1], strict=True):
        compared = Msg(
            f"d loss / d {name} of gqa_attention (summed over each group's query heads)",
            f"d Verlust / d {name} von gqa_attention (summiert über die Query-Köpfe jeder Gruppe)",
        )
        assert_close(compared, got, expected, **TOL, check_type=Tensor)


CHECKS: list[Check] = [
    check(
        "exists",
        ("the four functions exist", "die vier Funktionen existieren"),
        (
            "Define rms_norm, swiglu, repeat_kv and gqa_attention with the stub's signatures.",
            "Definieren Sie rms_norm, swiglu, repeat_kv und gqa_attention mit den Signaturen der Vorlage.",
        ),
        check_exists,
    ),
    check(
        "shapes",
        (
            "every function returns the documented shape",
            "jede Funktion liefert die dokumentierte Form",
        ),
        (
            "rms_norm and swiglu keep x's shape; repeat_kv multiplies dim 1 by n_rep; gqa_attention returns q's shape.",
            "rms_norm und swiglu behalten die Form von x; repeat_kv multipliziert Dimension 1 mit n_rep; gqa_attention liefert die Form von q.",
        ),
        check_shapes,
    ),
    check(
        "rms_norm_matches",
        (
            "rms_norm equals Llama's RMSNorm and torch's F.rms_norm",
            "rms_norm gleich Llamas RMSNorm und torchs F.rms_norm",
        ),
        (
            "Mean of the squares over the LAST dimension only, keepdim=True; no mean subtracted, no bias; multiply by weight at the end.",
            "Mittelwert der Quadrate nur über die LETZTE Dimension, keepdim=True; kein Mittelwert abgezogen, kein Bias; am Ende mit weight multiplizieren.",
        ),
        check_rms_norm_matches,
    ),
    check(
        "rms_norm_eps",
        ("rms_norm puts eps inside the square root", "rms_norm setzt eps in die Wurzel"),
        (
            "x / sqrt(mean(x^2) + eps), not x / (sqrt(mean(x^2)) + eps): the two differ when activations are small. torch.rsqrt(ms + eps) is a good way to write it.",
            "x / sqrt(mean(x^2) + eps), nicht x / (sqrt(mean(x^2)) + eps): Bei kleinen Aktivierungen unterscheiden sich beide. torch.rsqrt(ms + eps) schreibt es bequem.",
        ),
        check_rms_norm_eps,
    ),
    check(
        "rms_norm_gradients",
        (
            "gradients of rms_norm w.r.t. x and weight equal the library's",
            "Gradienten von rms_norm nach x und weight gleich denen der Bibliothek",
        ),
        (
            "The root mean square depends on x too: do not detach it or compute it under torch.no_grad().",
            "Auch der quadratische Mittelwert hängt von x ab: nicht mit detach abtrennen und nicht unter torch.no_grad() berechnen.",
        ),
        check_rms_norm_gradients,
    ),
    check(
        "swiglu_matches",
        ("swiglu equals Llama's SwiGLU MLP", "swiglu gleich Llamas SwiGLU-MLP"),
        (
            "(F.silu(x @ w_gate.T) * (x @ w_up.T)) @ w_down.T: SiLU (not sigmoid, not GELU) on the gate branch only, then multiply elementwise, then project down.",
            "(F.silu(x @ w_gate.T) * (x @ w_up.T)) @ w_down.T: SiLU (nicht Sigmoid, nicht GELU) nur auf dem Gate-Zweig, dann elementweise multiplizieren, dann herunterprojizieren.",
        ),
        check_swiglu_matches,
    ),
    check(
        "swiglu_gradients",
        (
            "gradients of swiglu w.r.t. x and all three weights equal the library's",
            "Gradienten von swiglu nach x und allen drei Gewichten gleich denen der Bibliothek",
        ),
        (
            "Use only differentiable tensor operations; no .detach(), .data or torch.no_grad().",
            "Nur differenzierbare Tensor-Operationen; kein .detach(), .data oder torch.no_grad().",
        ),
        check_swiglu_gradients,
    ),
    check(
        "repeat_kv_order",
        (
            "repeat_kv places each head's copies next to each other",
            "repeat_kv legt die Kopien jedes Kopfes nebeneinander",
        ),
        (
            "[k0, k1] with n_rep 2 must become [k0, k0, k1, k1], not [k0, k1, k0, k1] (that is what x.repeat does). x.repeat_interleave(n_rep, dim=1) or x[:, :, None].expand(...).reshape(...) give the right order.",
            "[k0, k1] mit n_rep 2 muss [k0, k0, k1, k1] werden, nicht [k0, k1, k0, k1] (das liefert x.repeat). x.repeat_interleave(n_rep, dim=1) oder x[:, :, None].expand(...).reshape(...) ergeben die richtige Reihenfolge.",
        ),
        check_repeat_kv_order,
    ),
    check(
        "gqa_matches",
        (
            "gqa_attention equals the library's grouped-query attention (1, some and all key/value heads)",
            "gqa_attention gleich der Grouped-Query-Attention der Bibliothek (1, einige und alle Key/Value-Köpfe)",
        ),
        (
            "Repeat k and v by n_head // n_kv_head with repeat_kv, scale the scores by 1/sqrt(head_dim) (the size of one head, not of all heads) and mask the future.",
            "k und v mit repeat_kv um n_head // n_kv_head wiederholen, die Scores mit 1/sqrt(head_dim) skalieren (Größe eines Kopfes, nicht aller) und die Zukunft maskieren.",
        ),
        check_gqa_matches,
    ),
    check(
        "gqa_causal",
        (
            "no output of gqa_attention depends on a later key or value",
            "keine Ausgabe von gqa_attention hängt von einem späteren Key oder Value ab",
        ),
        (
            "Position t may attend to keys 0..t only: pass is_causal=True or mask the scores above the diagonal with -inf before the softmax.",
            "Position t darf nur die Keys 0..t sehen: is_causal=True übergeben oder die Scores oberhalb der Diagonale vor dem Softmax mit -inf maskieren.",
        ),
        check_gqa_causal,
    ),
    check(
        "gqa_gradients",
        (
            "gradients of gqa_attention w.r.t. q, k and v equal the library's",
            "Gradienten von gqa_attention nach q, k und v gleich denen der Bibliothek",
        ),
        (
            "A shared key/value head collects the gradients of all query heads in its group; expand/reshape or repeat_interleave does that for you. Do not detach anything.",
            "Ein geteilter Key/Value-Kopf sammelt die Gradienten aller Query-Köpfe seiner Gruppe; expand/reshape oder repeat_interleave erledigen das. Nichts abtrennen.",
        ),
        check_gqa_gradients,
    ),
]
