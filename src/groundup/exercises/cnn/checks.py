"""Checks for the `cnn` exercise, against torch.nn.functional.conv2d.

All inputs are float64 with fixed seeds, so a correct answer matches PyTorch to about 1e-14;
the tolerance (atol 1e-8, rtol 1e-6) leaves room only for rounding. Kernels are random and
mostly non-square, so a flipped or transposed kernel cannot pass by symmetry, and most
cases have C != O, so the two channel axes of the weight cannot be confused unnoticed.
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

FUNCTIONS = ["conv2d"]

REFERENCE = "from groundup.nn.conv import conv2d\n"

TOL = {"atol": 1e-8, "rtol": 1e-6}

# (N, C, H, W, O, kh, kw, stride, padding)
Case = tuple[int, int, int, int, int, int, int, int, int]


def _inputs(seed: int, case: Case, bias: bool = False) -> tuple[Tensor, Tensor, Tensor | None]:
    n, c, h, w, o, kh, kw, _, _ = case
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(o, c, kh, kw, generator=g, dtype=torch.float64)
    b = torch.randn(o, generator=g, dtype=torch.float64) if bias else None
    return x, weight, b


def _label(case: Case, bias: bool = False, what: str = "") -> Msg:
    n, c, h, w, o, kh, kw, stride, padding = case
    text = (
        f"conv2d(x {(n, c, h, w)}, weight {(o, c, kh, kw)}, "
        f"bias {'(' + str(o) + ',)' if bias else 'None'}, stride={stride}, padding={padding})"
    )
    return Msg(text + what, text + what)


def _compare(module: ModuleType, seed: int, case: Case, bias: bool = False) -> None:
    conv2d = require(module, "conv2d")
    x, weight, b = _inputs(seed, case, bias)
    stride, padding = case[7], case[8]
    label = _label(case, bias, " against torch.nn.functional.conv2d")
    got = call(label, conv2d, x.clone(), weight.clone(), b, stride=stride, padding=padding)
    expected = F.conv2d(x, weight, b, stride=stride, padding=padding)
    assert_close(label, got, expected, **TOL)


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    require(module, "conv2d")


SHAPE_CASES: list[Case] = [
    (1, 1, 5, 5, 1, 3, 3, 1, 0),
    (2, 3, 6, 9, 4, 3, 2, 1, 0),  # non-square input and kernel
    (2, 2, 8, 8, 3, 3, 3, 1, 1),  # "same" padding keeps 8x8
    (1, 3, 7, 10, 2, 3, 3, 2, 0),  # stride 2: 3 x 4
    (3, 1, 9, 6, 5, 4, 2, 3, 2),  # stride 3 with padding
    (1, 2, 5, 7, 2, 2, 3, 2, 1),
]


def check_shapes(module: ModuleType) -> None:
    conv2d = require(module, "conv2d")
    for seed, case in enumerate(SHAPE_CASES):
        x, weight, _ = _inputs(seed, case)
        stride, padding = case[7], case[8]
        expected = tuple(F.conv2d(x, weight, stride=stride, padding=padding).shape)
        label = _label(case, what=".shape")
        got = call(label, conv2d, x, weight, None, stride=stride, padding=padding)
        assert_shape(label, got, expected)


def check_single_channel(module: ModuleType) -> None:
    for seed, case in enumerate([(1, 1, 5, 6, 1, 3, 3, 1, 0), (2, 1, 7, 5, 1, 2, 3, 1, 0)]):
        _compare(module, 100 + seed, case)


def check_multi_channel(module: ModuleType) -> None:
    cases: list[Case] = [(2, 3, 6, 5, 4, 3, 3, 1, 0), (1, 4, 5, 8, 2, 2, 3, 1, 0)]
    for seed, case in enumerate(cases):
        _compare(module, 200 + seed, case)


def check_padding(module: ModuleType) -> None:
    cases: list[Case] = [(2, 2, 5, 5, 3, 3, 3, 1, 1), (1, 3, 4, 6, 2, 3, 2, 1, 2)]
    for seed, case in enumerate(cases):
        _compare(module, 300 + seed, case)


def check_stride(module: ModuleType) -> None:
    cases: list[Case] = [
        (2, 2, 7, 9, 3, 3, 3, 2, 0),
        (1, 3, 10, 7, 2, 2, 3, 3, 0),
        (2, 1, 9, 8, 2, 3, 2, 2, 1),
    ]
    for seed, case in enumerate(cases):
        _compare(module, 400 + seed, case)


def check_bias(module: ModuleType) -> None:
    for seed, case in enumerate([(2, 3, 6, 7, 4, 3, 2, 1, 1), (1, 2, 8, 5, 3, 2, 2, 2, 0)]):
        _compare(module, 500 + seed, case, bias=True)


def check_gradients(module: ModuleType) -> None:
    conv2d = require(module, "conv2d")
    case: Case = (2, 3, 7, 6, 4, 3, 2, 2, 1)
    x, weight, b = _inputs(600, case, bias=True)
    assert b is not None
    stride, padding = case[7], case[8]
    mine = [t.clone().requires_grad_() for t in (x, weight, b)]
    theirs = [t.clone().requires_grad_() for t in (x, weight, b)]
    label = Msg(
        "gradients of sum(conv2d(x, weight, bias, stride=2, padding=1) * g) "
        "with respect to x, weight and bias",
        "Gradienten von sum(conv2d(x, weight, bias, stride=2, padding=1) * g) "
        "nach x, weight und bias",
    )
    out = call(label, conv2d, *mine, stride=stride, padding=padding)
    if not isinstance(out, Tensor) or out.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to x, weight and bias by autograd (it has a grad_fn)",
            got=describe(out) + ("" if not isinstance(out, Tensor) else ", grad_fn None"),
        )
    expected = F.conv2d(*theirs, stride=stride, padding=padding)
    upstream = torch.randn(
        expected.shape, generator=torch.Generator().manual_seed(6), dtype=torch.float64
    )
    assert_shape(label, out, tuple(expected.shape))
    call(label, (out * upstream).sum().backward)
    (expected * upstream).sum().backward()
    for name, a, t in zip(["x", "weight", "bias"], mine, theirs, strict=True):
        grad_label = Msg(f"{name}.grad", f"{name}.grad")
        if a.grad is None:
            raise Mismatch(
                grad_label,
                expected=f"a gradient for {name} of shape {tuple(t.shape)}",
                got=f"None: no gradient flowed back to {name} (.detach(), numpy, no_grad?)",
            )
        assert_close(grad_label, a.grad, t.grad, **TOL)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "a function conv2d(x, weight, bias=None, stride=1, padding=0)",
            "eine Funktion conv2d(x, weight, bias=None, stride=1, padding=0)",
        ),
        (
            "Define `def conv2d(x, weight, bias=None, stride=1, padding=0):` at the top level "
            "of your file.",
            "Definieren Sie `def conv2d(x, weight, bias=None, stride=1, padding=0):` auf "
            "oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "shapes",
        (
            "output shape (N, O, oh, ow) with stride, padding, non-square inputs and kernels",
            "Ausgabeform (N, O, oh, ow) mit Stride, Padding, nicht quadratischen Eingaben "
            "und Kernen",
        ),
        (
            "oh = (H + 2*padding - kh) // stride + 1 and ow = (W + 2*padding - kw) // stride + 1. "
            "Pad both sides of both axes: F.pad(x, (padding, padding, padding, padding)). "
            "Height goes with kh, width with kw; the output has O channels, one per kernel.",
            "oh = (H + 2*padding - kh) // stride + 1 und ow = (W + 2*padding - kw) // stride + 1. "
            "Polstern Sie beide Seiten beider Achsen: F.pad(x, (padding, padding, padding, "
            "padding)). Die Höhe gehört zu kh, die Breite zu kw; die Ausgabe hat O Kanäle, "
            "einen pro Kern.",
        ),
        check_shapes,
    ),
    check(
        "single_channel",
        (
            "values equal torch's conv2d for one input and one output channel",
            "Werte gleich torchs conv2d bei einem Ein- und einem Ausgabekanal",
        ),
        (
            "torch computes cross-correlation: out[i, j] = sum_u,v weight[u, v] * x[i+u, j+v]. "
            "Do not flip the kernel (that would be the convolution of signal processing). "
            "Row u of the kernel meets row i+u of the input, column v meets column j+v.",
            "torch berechnet die Kreuzkorrelation: out[i, j] = Summe_u,v weight[u, v] * "
            "x[i+u, j+v]. Spiegeln Sie den Kern nicht (das wäre die Faltung der "
            "Signalverarbeitung). Zeile u des Kerns trifft Zeile i+u der Eingabe, Spalte v "
            "trifft Spalte j+v.",
        ),
        check_single_channel,
    ),
    check(
        "multi_channel",
        (
            "several input and output channels: each kernel sums over all input channels",
            "mehrere Ein- und Ausgabekanäle: jeder Kern summiert über alle Eingabekanäle",
        ),
        (
            "weight has the layout (O, C, kh, kw): output channel first, input channel second. "
            "Output channel o is the SUM over c of the 2-D correlations of x[:, c] with "
            "weight[o, c] (not the mean, not one channel only).",
            "weight hat das Layout (O, C, kh, kw): Ausgabekanal zuerst, Eingabekanal danach. "
            "Ausgabekanal o ist die SUMME über c der 2-D-Korrelationen von x[:, c] mit "
            "weight[o, c] (nicht der Mittelwert, nicht nur ein Kanal).",
        ),
        check_multi_channel,
    ),
    check(
        "padding",
        ("values with zero padding", "Werte mit Null-Padding"),
        (
            "Pad with zeros, `padding` pixels on every side, before you take the windows; "
            "then window (i, j) starts at row i*stride, column j*stride of the padded input.",
            "Füllen Sie vor dem Ausschneiden der Fenster mit Nullen auf, `padding` Pixel auf "
            "jeder Seite; Fenster (i, j) beginnt dann in Zeile i*stride, Spalte j*stride der "
            "aufgefüllten Eingabe.",
        ),
        check_padding,
    ),
    check(
        "stride",
        ("values with stride 2 and 3", "Werte mit Stride 2 und 3"),
        (
            "Window (i, j) starts at (i*stride, j*stride), not at (i, j): the stride moves the "
            "window, the window itself stays kh x kw pixels with no gaps.",
            "Fenster (i, j) beginnt bei (i*stride, j*stride), nicht bei (i, j): der Stride "
            "verschiebt das Fenster, das Fenster selbst bleibt kh x kw Pixel ohne Lücken.",
        ),
        check_stride,
    ),
    check(
        "bias",
        ("values with a bias", "Werte mit Bias"),
        (
            "If bias is given, add bias[o] to every pixel of output channel o: "
            "out + bias.view(1, -1, 1, 1).",
            "Wenn bias übergeben wird, addieren Sie bias[o] zu jedem Pixel von Ausgabekanal o: "
            "out + bias.view(1, -1, 1, 1).",
        ),
        check_bias,
    ),
    check(
        "gradients",
        (
            "gradients with respect to x, weight and bias equal torch's",
            "Gradienten nach x, weight und bias gleich denen von torch",
        ),
        (
            "Stay inside torch: no .numpy(), no .detach(), no torch.no_grad(), no .item() and "
            "no new tensors built from Python numbers, so autograd can follow every step "
            "back to x, weight and bias. Writing into a torch.zeros(...) result is fine.",
            "Bleiben Sie in torch: kein .numpy(), kein .detach(), kein torch.no_grad(), kein "
            ".item() und keine neuen Tensoren aus Python-Zahlen, damit Autograd jeden Schritt "
            "bis x, weight und bias zurückverfolgt. In ein torch.zeros(...) zu schreiben ist "
            "erlaubt.",
        ),
        check_gradients,
    ),
]
