"""Checks for the `mlp` exercise, against torch.nn.functional and torch.nn.init.

linear and gelu: float64 inputs with fixed seeds, so a correct answer matches PyTorch to about
1e-15; the tolerance (atol 1e-10, rtol 1e-8) leaves room only for rounding, while the tanh
approximation of GELU is off by up to ~5e-4 and fails. Weights are never square, so a
missing transpose cannot hide.

kaiming_normal_: a 1000 x 400 matrix has 400,000 draws; their sample standard deviation lies
within 0.3 % of the true one with overwhelming probability, so the band of 2 % around
sqrt(2 / fan_in) = sqrt(2 / 400) separates fan_in from fan_out (sqrt(2 / 1000), 37 % off),
a missing sqrt or a missing factor 2 (29 % off) without ever failing a correct answer.
"""

from __future__ import annotations

import math
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

FUNCTIONS = ["linear", "gelu", "kaiming_normal_"]

REFERENCE = """from groundup.nn.mlp import gelu, linear
from groundup.nn.mlp import kaiming_normal_ as _kaiming_normal_


def kaiming_normal_(tensor, generator=None):
    return _kaiming_normal_(tensor, nonlinearity="relu", generator=generator)
"""

TOL = {"atol": 1e-10, "rtol": 1e-8}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(seed: int, *shape: int) -> Tensor:
    return torch.randn(*shape, generator=_gen(seed), dtype=torch.float64)


# (leading batch shape, in, out)
LINEAR_CASES: list[tuple[tuple[int, ...], int, int]] = [
    ((4,), 3, 5),
    ((2, 3), 6, 2),
    ((1,), 7, 4),
    ((2, 2, 3), 5, 9),
]


def _linear_label(batch: tuple[int, ...], n_in: int, n_out: int, bias: bool, what: str) -> Msg:
    text = (
        f"linear(x {(*batch, n_in)}, weight {(n_out, n_in)}, "
        f"bias {f'({n_out},)' if bias else 'None'}){what}"
    )
    return Msg(text, text)


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_linear_shapes(module: ModuleType) -> None:
    linear = require(module, "linear")
    for seed, (batch, n_in, n_out) in enumerate(LINEAR_CASES):
        x, w, b = _randn(seed, *batch, n_in), _randn(seed + 50, n_out, n_in), _randn(seed, n_out)
        label = _linear_label(batch, n_in, n_out, True, ".shape")
        assert_shape(label, call(label, linear, x, w, b), (*batch, n_out))


def check_linear_values(module: ModuleType) -> None:
    linear = require(module, "linear")
    for seed, (batch, n_in, n_out) in enumerate(LINEAR_CASES):
        x, w = _randn(100 + seed, *batch, n_in), _randn(150 + seed, n_out, n_in)
        b = _randn(200 + seed, n_out)
        label = _linear_label(batch, n_in, n_out, True, " against torch.nn.functional.linear")
        got = call(label, linear, x.clone(), w.clone(), b.clone())
        assert_close(label, got, F.linear(x, w, b), **TOL)


def check_linear_no_bias(module: ModuleType) -> None:
    linear = require(module, "linear")
    for seed, (batch, n_in, n_out) in enumerate(LINEAR_CASES[:2]):
        x, w = _randn(300 + seed, *batch, n_in), _randn(350 + seed, n_out, n_in)
        label = _linear_label(batch, n_in, n_out, False, " against torch.nn.functional.linear")
        assert_close(label, call(label, linear, x.clone(), w.clone(), None), F.linear(x, w), **TOL)


def _gradients(
    module: ModuleType, name: str, inputs: list[Tensor], reference, label: Msg
) -> list[Tensor | None]:
    fn = require(module, name)
    mine = [t.clone().requires_grad_() for t in inputs]
    theirs = [t.clone().requires_grad_() for t in inputs]
    out = call(label, fn, *mine)
    if not isinstance(out, Tensor) or out.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to the inputs by autograd (it has a grad_fn)",
            got=describe(out) + ("" if not isinstance(out, Tensor) else ", grad_fn None"),
        )
    expected = reference(*theirs)
    upstream = _randn(7, *expected.shape)
    (expected * upstream).sum().backward()
    assert_shape(label, out, tuple(expected.shape))
    (out * upstream).sum().backward()
    names = ["x", "weight", "bias"]
    for i, (m, t) in enumerate(zip(mine, theirs, strict=True)):
        what = Msg(f"{label.en}: gradient of {names[i]}", f"{label.de}: Gradient von {names[i]}")
        if m.grad is None:
            raise Mismatch(what, expected="a gradient", got="None (autograd never reached it)")
        assert_close(what, m.grad, t.grad, **TOL)
    return [m.grad for m in mine]


def check_linear_gradients(module: ModuleType) -> None:
    inputs = [_randn(400, 2, 3, 5), _randn(401, 4, 5), _randn(402, 4)]
    label = Msg(
        "gradients of sum(linear(x, weight, bias) * g) with respect to x, weight and bias",
        "Gradienten von sum(linear(x, weight, bias) * g) nach x, weight und bias",
    )
    _gradients(module, "linear", inputs, F.linear, label)


def check_gelu_values(module: ModuleType) -> None:
    gelu = require(module, "gelu")
    grid = torch.linspace(-6, 6, 241, dtype=torch.float64)  # includes 0 and the tails
    for x in (grid, _randn(500, 3, 4, 5) * 3):
        label = Msg(
            f"gelu(x of shape {tuple(x.shape)}) against torch.nn.functional.gelu (exact)",
            f"gelu(x der Form {tuple(x.shape)}) gegen torch.nn.functional.gelu (exakt)",
        )
        assert_close(label, call(label, gelu, x.clone()), F.gelu(x), **TOL)


def check_gelu_gradients(module: ModuleType) -> None:
    label = Msg("gradient of sum(gelu(x) * g) with respect to x", "Gradient von sum(gelu(x) * g)")
    x = torch.cat([torch.linspace(-5, 5, 41, dtype=torch.float64), _randn(600, 20)])
    _gradients(module, "gelu", [x], F.gelu, label)


def _kaiming(module: ModuleType, shape: tuple[int, int], seed: int, label: Msg) -> Tensor:
    kaiming_normal_ = require(module, "kaiming_normal_")
    tensor = torch.full(shape, float("nan"))
    got = call(label, kaiming_normal_, tensor, generator=_gen(seed))
    if got is not tensor:
        raise Mismatch(
            label,
            expected="the same tensor object that was passed in, filled in place",
            got=describe(got) + " (a different object)" if got is not None else "None",
        )
    assert_shape(label, tensor, shape)
    if not torch.isfinite(tensor).all():
        raise Mismatch(label, expected="every entry drawn", got="NaN left in the tensor")
    return tensor


def check_kaiming_in_place(module: ModuleType) -> None:
    label = Msg(
        "kaiming_normal_(torch.empty(30, 20)) fills the tensor in place and returns it",
        "kaiming_normal_(torch.empty(30, 20)) füllt den Tensor an Ort und Stelle und gibt ihn zurück",
    )
    _kaiming(module, (30, 20), 0, label)


def check_kaiming_statistics(module: ModuleType) -> None:
    for shape in [(1000, 400), (250, 1600)]:
        fan_in = shape[1]
        label = Msg(
            f"mean and std of kaiming_normal_(torch.empty{shape}) (fan_in = {fan_in})",
            f"Mittelwert und Std von kaiming_normal_(torch.empty{shape}) (fan_in = {fan_in})",
        )
        w = _kaiming(module, shape, 1, label)
        target = math.sqrt(2 / fan_in)
        std, mean = w.std().item(), w.mean().item()
        if abs(std / target - 1) > 0.02:
            raise Mismatch(
                label,
                expected=f"std within 2 % of sqrt(2 / fan_in) = {target:.5f}",
                got=f"std {std:.5f} (sqrt(2 / fan_out) would be {math.sqrt(2 / shape[0]):.5f})",
            )
        if abs(mean) > 0.05 * target:
            raise Mismatch(label, expected="mean about 0", got=f"mean {mean:.5f}")


def check_kaiming_generator(module: ModuleType) -> None:
    label = Msg(
        "two calls with generators of the same seed give the same weights; another seed differs",
        "zwei Aufrufe mit Generatoren gleichen Seeds liefern dieselben Gewichte; ein anderer "
        "Seed andere",
    )
    with torch.random.fork_rng():  # the global generator must not matter; restored after
        torch.manual_seed(1)
        first = _kaiming(module, (40, 30), 3, label).clone()
        torch.manual_seed(2)
        second = _kaiming(module, (40, 30), 3, label)
        other = _kaiming(module, (40, 30), 4, label)
    if not torch.equal(first, second):
        raise Mismatch(
            label,
            expected="identical weights",
            got="different weights (is generator passed on to the draw?)",
        )
    if torch.equal(first, other):
        raise Mismatch(label, expected="different weights for seeds 3 and 4", got="identical")


def check_kaiming_matches_torch(module: ModuleType) -> None:
    for shape, seed in [((64, 48), 5), ((10, 300), 6)]:
        label = Msg(
            f"kaiming_normal_(torch.empty{shape}, generator seeded {seed}) against "
            "torch.nn.init.kaiming_normal_(..., nonlinearity='relu') with the same generator",
            f"kaiming_normal_(torch.empty{shape}, Generator mit Seed {seed}) gegen "
            "torch.nn.init.kaiming_normal_(..., nonlinearity='relu') mit gleichem Generator",
        )
        got = _kaiming(module, shape, seed, label)
        expected = torch.nn.init.kaiming_normal_(
            torch.empty(shape), nonlinearity="relu", generator=_gen(seed)
        )
        assert_close(label, got, expected, atol=1e-7, rtol=1e-5)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions linear(x, weight, bias=None), gelu(x), kaiming_normal_(tensor, generator)",
            "Funktionen linear(x, weight, bias=None), gelu(x), kaiming_normal_(tensor, generator)",
        ),
        (
            "Define all three at the top level of your file with these names.",
            "Definieren Sie alle drei mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "linear_shapes",
        ("linear returns (..., out)", "linear liefert (..., out)"),
        (
            "weight has the layout (out, in): multiply by its transpose, x @ weight.T, so the "
            "last axis of x (in) meets the second axis of weight. The bias has shape (out,) and "
            "broadcasts over the leading axes as it is.",
            "weight hat das Layout (out, in): multiplizieren Sie mit der Transponierten, "
            "x @ weight.T, damit die letzte Achse von x (in) auf die zweite Achse von weight "
            "trifft. bias hat die Form (out,) und wird so, wie er ist, über die vorderen Achsen "
            "gebroadcastet.",
        ),
        check_linear_shapes,
    ),
    check(
        "linear_values",
        ("linear equals F.linear", "linear gleich F.linear"),
        (
            "y = x @ weight.T + bias: first the matrix product, then add the bias once to every "
            "row. The bias does not go into the product.",
            "y = x @ weight.T + bias: erst das Matrixprodukt, dann den Bias einmal zu jeder "
            "Zeile addieren. Der Bias gehört nicht in das Produkt.",
        ),
        check_linear_values,
    ),
    check(
        "linear_no_bias",
        ("linear with bias=None", "linear mit bias=None"),
        (
            "bias may be None: then return x @ weight.T alone.",
            "bias darf None sein: dann geben Sie nur x @ weight.T zurück.",
        ),
        check_linear_no_bias,
    ),
    check(
        "linear_gradients",
        (
            "gradients of linear with respect to x, weight and bias equal torch's",
            "Gradienten von linear nach x, weight und bias gleich denen von torch",
        ),
        (
            "Stay inside torch: no .detach(), .numpy(), .item() or torch.no_grad() in linear.",
            "Bleiben Sie in torch: kein .detach(), .numpy(), .item() oder torch.no_grad() in "
            "linear.",
        ),
        check_linear_gradients,
    ),
    check(
        "gelu_values",
        ("gelu equals the exact F.gelu", "gelu gleich dem exakten F.gelu"),
        (
            "GELU(x) = x * Phi(x) with Phi the standard normal CDF, Phi(x) = 0.5 * (1 + erf(x / "
            "sqrt(2))). Use torch.erf; the tanh formula is only an approximation (off by up to "
            "about 5e-4), and ReLU is a different function.",
            "GELU(x) = x * Phi(x) mit Phi der Verteilungsfunktion der Standardnormalverteilung, "
            "Phi(x) = 0.5 * (1 + erf(x / sqrt(2))). Verwenden Sie torch.erf; die tanh-Formel "
            "ist nur eine Näherung (bis zu etwa 5e-4 daneben), und ReLU ist eine andere "
            "Funktion.",
        ),
        check_gelu_values,
    ),
    check(
        "gelu_gradients",
        ("gradient of gelu equals torch's", "Gradient von gelu gleich dem von torch"),
        (
            "Both factors of x * Phi(x) depend on x: keep them both in the autograd graph (no "
            ".detach(), no numpy, no math.erf on single numbers).",
            "Beide Faktoren von x * Phi(x) hängen von x ab: lassen Sie beide im Autograd-Graphen "
            "(kein .detach(), kein numpy, kein math.erf auf einzelnen Zahlen).",
        ),
        check_gelu_gradients,
    ),
    check(
        "kaiming_in_place",
        ("kaiming_normal_ fills the tensor in place", "kaiming_normal_ füllt an Ort und Stelle"),
        (
            "The trailing underscore means in place: write into `tensor` (tensor.normal_(...)) "
            "and return that same object, not a new tensor.",
            "Der Unterstrich am Ende bedeutet an Ort und Stelle: schreiben Sie in `tensor` "
            "(tensor.normal_(...)) und geben Sie dasselbe Objekt zurück, keinen neuen Tensor.",
        ),
        check_kaiming_in_place,
    ),
    check(
        "kaiming_statistics",
        (
            "the weights have mean 0 and std sqrt(2 / fan_in)",
            "die Gewichte haben Mittelwert 0 und Std sqrt(2 / fan_in)",
        ),
        (
            "fan_in is tensor.shape[1] (inputs per unit, weight layout (out, in)), not "
            "shape[0]. The variance is 2 / fan_in, so the std is its square root, "
            "math.sqrt(2 / fan_in); the 2 makes up for ReLU zeroing half of its inputs.",
            "fan_in ist tensor.shape[1] (Eingänge pro Einheit, Layout (out, in)), nicht "
            "shape[0]. Die Varianz ist 2 / fan_in, die Std also deren Wurzel, "
            "math.sqrt(2 / fan_in); die 2 gleicht aus, dass ReLU die Hälfte der Eingaben "
            "auf null setzt.",
        ),
        check_kaiming_statistics,
    ),
    check(
        "kaiming_generator",
        (
            "kaiming_normal_ draws from the generator it is given",
            "kaiming_normal_ zieht aus dem übergebenen Generator",
        ),
        (
            "Pass the generator on: tensor.normal_(0.0, std, generator=generator). Without "
            "it the draw uses the global random state and is not reproducible.",
            "Reichen Sie den Generator weiter: tensor.normal_(0.0, std, generator=generator). "
            "Ohne ihn wird aus dem globalen Zufallszustand gezogen, nicht reproduzierbar.",
        ),
        check_kaiming_generator,
    ),
    check(
        "kaiming_matches_torch",
        (
            "the same numbers as torch.nn.init.kaiming_normal_ with the same generator",
            "dieselben Zahlen wie torch.nn.init.kaiming_normal_ mit gleichem Generator",
        ),
        (
            "Draw exactly one normal sample per entry with tensor.normal_(0.0, std, "
            "generator=generator) (torch.randn(..., generator=generator) * std gives the same "
            "numbers). A uniform draw with the right std passes the statistics but is not a "
            "normal distribution.",
            "Ziehen Sie genau eine Normalverteilungsstichprobe pro Eintrag mit "
            "tensor.normal_(0.0, std, generator=generator) (torch.randn(..., "
            "generator=generator) * std liefert dieselben Zahlen). Eine Gleichverteilung mit "
            "der richtigen Std besteht die Statistik, ist aber keine Normalverteilung.",
        ),
        check_kaiming_matches_torch,
    ),
]
