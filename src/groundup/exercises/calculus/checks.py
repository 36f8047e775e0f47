"""Checks for the `calculus` exercise, against torch.autograd.functional.jacobian (float64).

Tolerances follow from the step size h = 1e-5. Central differences are off by the truncation
h^2 |f'''| / 6 ~ 2e-11 |f'''| plus round-off ~ eps |f| / h ~ 2e-11 |f|; the functions here
keep |f| and its derivatives below about 20, so a correct answer is within about 5e-10.
`gradient_matches_autograd` and `jacobian_matches_autograd` use atol 1e-8, rtol 1e-7.
`gradient_accurate` uses atol 1e-8 on functions with large second and third derivatives,
where forward differences (error h |f''| / 2 ~ 1e-5) or a hard-coded h of 1e-2 (truncation
~ 1e-5) or 1e-12 (round-off ~ 1e-3) are far outside.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import torch

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

FUNCTIONS = ["numerical_gradient", "jacobian"]

REFERENCE = """from groundup.math.calculus import gradient
from groundup.math.calculus import jacobian as _jacobian


def numerical_gradient(f, x, h=1e-5):
    return gradient(f, x, h)


def jacobian(f, x, h=1e-5):
    return _jacobian(f, x, h)
"""

TOL = {"atol": 1e-8, "rtol": 1e-7}


def _const(array: np.ndarray, lib: Any) -> Any:
    return torch.from_numpy(array) if lib is torch else array


def _matrix(seed: int, rows: int, cols: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, cols)) / np.sqrt(cols)


# Scalar functions f(x, lib) for x of any shape; lib is numpy or torch, so one formula gives
# the function the learner differentiates and the one autograd differentiates.
def sin_square(x, lib):
    return lib.sum(lib.sin(x) * x**2)


def log_sum_exp(x, lib):
    return lib.log(lib.sum(lib.exp(x)))


def tanh_layer(x, lib):
    flat = x.reshape(-1)
    w = _const(_matrix(7, 3, flat.shape[0]), lib)
    return lib.sum(lib.tanh(w @ flat + 0.5) ** 2)


def quadratic_form(x, lib):
    flat = x.reshape(-1)
    a = _const(_matrix(8, flat.shape[0], flat.shape[0]), lib)
    return flat @ a @ flat


def curved(x, lib):
    # Large second and third derivatives: e^(2x) and sin(3x) curve hard.
    return lib.sum(lib.exp(2 * x)) + lib.sum(lib.sin(3 * x))


def cubes(x, lib):
    return lib.sum(x**3)


# Vector functions R^n -> R^m for a vector x.
def tanh_map(x, lib):
    w = _const(_matrix(9, 4, x.shape[0]), lib)
    return lib.tanh(w @ x + 0.3)


def softmax(x, lib):
    e = lib.exp(x - x.max())
    return e / lib.sum(e)


def scaled(x, lib):
    return x * lib.sum(x**2)


def polar(x, lib):
    return lib.stack([x[0] * lib.cos(x[1]), x[0] * lib.sin(x[1]), x[0] * x[1]])


def _point(seed: int, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    return scale * np.random.default_rng(seed).normal(size=shape)


def _numpy_function(fn: Callable) -> Callable[[np.ndarray], Any]:
    return lambda x: fn(x, np)


def _autograd(fn: Callable, x: np.ndarray) -> np.ndarray:
    """The exact derivative: torch.autograd.functional.jacobian of the same formula."""
    return torch.autograd.functional.jacobian(lambda t: fn(t, torch), torch.from_numpy(x)).numpy()


def _gradient(module: ModuleType, fn: Callable, x: np.ndarray, label: Msg, **kwargs) -> Any:
    learner = require(module, "numerical_gradient")
    return call(label, learner, _numpy_function(fn), x.copy(), **kwargs)


def _jacobian(module: ModuleType, fn: Callable, x: np.ndarray, label: Msg, **kwargs) -> Any:
    learner = require(module, "jacobian")
    return call(label, learner, _numpy_function(fn), x.copy(), **kwargs)


# ---------------------------------------------------------------- the checks


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_gradient_shape(module: ModuleType) -> None:
    for seed, shape in enumerate([(4,), (2, 3), (2, 2, 2), (1,)]):
        label = Msg(
            f"numerical_gradient(f, x of shape {shape}).shape",
            f"numerical_gradient(f, x der Form {shape}).shape",
        )
        assert_shape(label, _gradient(module, sin_square, _point(seed, shape), label), shape)


def check_gradient_matches_autograd(module: ModuleType) -> None:
    cases = [(sin_square, (5,)), (log_sum_exp, (2, 3)), (tanh_layer, (4,)),
             (quadratic_form, (3, 2)), (sin_square, (2, 2, 2))]  # fmt: skip
    for seed, (fn, shape) in enumerate(cases):
        x = _point(10 + seed, shape)
        label = Msg(
            f"numerical_gradient({fn.__name__}, x {shape}) against torch.autograd",
            f"numerical_gradient({fn.__name__}, x {shape}) gegen torch.autograd",
        )
        assert_close(label, _gradient(module, fn, x, label), _autograd(fn, x), **TOL)


def check_gradient_accurate(module: ModuleType) -> None:
    for seed, shape in enumerate([(6,), (2, 3)]):
        x = _point(20 + seed, shape, scale=0.5)
        label = Msg(
            f"numerical_gradient(e^(2x) + sin(3x), x {shape}) to within 1e-8 (central "
            "differences with h = 1e-5 are this accurate)",
            f"numerical_gradient(e^(2x) + sin(3x), x {shape}) auf 1e-8 genau (zentrale "
            "Differenzen mit h = 1e-5 erreichen das)",
        )
        assert_close(label, _gradient(module, curved, x, label), _autograd(curved, x),
                     atol=1e-8, rtol=0.0)  # fmt: skip


def check_uses_given_h(module: ModuleType) -> None:
    # For a cubic, the central difference is exactly 3 x^2 + h^2: the h^2 term shows which h
    # was used (for h = 1e-2 it is 1e-4, far above round-off).
    x = _point(30, (5,))
    for h in (1e-2, 3e-3):
        label = Msg(
            f"numerical_gradient(sum(x^3), x, h={h:g}) = 3 x^2 + h^2 exactly",
            f"numerical_gradient(sum(x^3), x, h={h:g}) = 3 x^2 + h^2 exakt",
        )
        got = _gradient(module, cubes, x, label, h=h)
        assert_close(label, got, 3 * x**2 + h**2, atol=1e-10, rtol=1e-12)
        label = Msg(
            f"jacobian(x^3, x, h={h:g}) = diag(3 x^2 + h^2) exactly",
            f"jacobian(x^3, x, h={h:g}) = diag(3 x^2 + h^2) exakt",
        )
        got = call(label, require(module, "jacobian"), lambda v: v**3, x.copy(), h=h)
        assert_close(label, got, np.diag(3 * x**2 + h**2), atol=1e-10, rtol=1e-12)


def check_leaves_input_unchanged(module: ModuleType) -> None:
    x = _point(40, (2, 3))
    before = x.copy()
    label = Msg("x after numerical_gradient(f, x)", "x nach numerical_gradient(f, x)")
    call(label, require(module, "numerical_gradient"), _numpy_function(sin_square), x)
    # Restoring by x[i] += h; x[i] -= 2h; x[i] += h may leave a rounding of 1e-16; allowed.
    assert_close(label, x, before, atol=1e-12, rtol=0.0)
    v = _point(41, (3,))
    before = v.copy()
    label = Msg("x after jacobian(f, x)", "x nach jacobian(f, x)")
    call(label, require(module, "jacobian"), _numpy_function(tanh_map), v)
    assert_close(label, v, before, atol=1e-12, rtol=0.0)


def check_jacobian_shape(module: ModuleType) -> None:
    for seed, (fn, n, m) in enumerate([(tanh_map, 3, 4), (polar, 2, 3), (tanh_map, 5, 4)]):
        label = Msg(
            f"jacobian({fn.__name__}: R^{n} -> R^{m}, x).shape: (outputs, inputs)",
            f"jacobian({fn.__name__}: R^{n} -> R^{m}, x).shape: (Ausgaben, Eingaben)",
        )
        got = _jacobian(module, fn, _point(50 + seed, (n,)), label)
        if not hasattr(got, "shape"):
            raise Mismatch(label, expected=f"an array of shape ({m}, {n})", got=describe(got))
        assert_shape(label, got, (m, n))


def check_jacobian_matches_autograd(module: ModuleType) -> None:
    cases = [(tanh_map, 3), (softmax, 4), (scaled, 3), (polar, 2), (tanh_map, 6)]
    for seed, (fn, n) in enumerate(cases):
        x = _point(60 + seed, (n,))
        label = Msg(
            f"jacobian({fn.__name__}, x ({n},)) against torch.autograd",
            f"jacobian({fn.__name__}, x ({n},)) gegen torch.autograd",
        )
        assert_close(label, _jacobian(module, fn, x, label), _autograd(fn, x), **TOL)


def check_jacobian_of_a_view(module: ModuleType) -> None:
    # f(x) = x[1:] returns a view into x: whoever changes x in place changes f's old output too.
    x = _point(70, (4,))
    label = Msg(
        "jacobian(lambda x: x[1:], x): a function that returns a view of its input",
        "jacobian(lambda x: x[1:], x): eine Funktion, die eine Sicht auf ihre Eingabe liefert",
    )
    got = call(label, require(module, "jacobian"), lambda v: v[1:], x.copy())
    assert_close(label, got, np.eye(4)[1:], **TOL)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions numerical_gradient(f, x, h=1e-5) and jacobian(f, x, h=1e-5)",
            "Funktionen numerical_gradient(f, x, h=1e-5) und jacobian(f, x, h=1e-5)",
        ),
        (
            "Define both functions at the top level of your file, with these names.",
            "Definieren Sie beide Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "gradient_shape",
        (
            "numerical_gradient returns an array of the same shape as x",
            "numerical_gradient liefert ein Array derselben Form wie x",
        ),
        (
            "One partial derivative per entry of x: start from np.zeros_like(x) and fill it "
            "with np.ndindex(x.shape); do not flatten the result.",
            "Eine partielle Ableitung pro Eintrag von x: beginnen Sie mit np.zeros_like(x) und "
            "füllen Sie es mit np.ndindex(x.shape); das Ergebnis nicht flach machen.",
        ),
        check_gradient_shape,
    ),
    check(
        "gradient_matches_autograd",
        (
            "numerical_gradient equals torch.autograd on five functions (atol 1e-8)",
            "numerical_gradient stimmt auf fünf Funktionen mit torch.autograd überein (atol 1e-8)",
        ),
        (
            "Perturb ONE coordinate at a time, by +h and by -h, and divide the difference by "
            "2h (the two points are 2h apart). Moving all coordinates at once measures a "
            "directional derivative, not a partial one.",
            "Verschieben Sie EINE Koordinate nach der anderen, um +h und um -h, und teilen Sie "
            "die Differenz durch 2h (die beiden Punkte liegen 2h auseinander). Alle "
            "Koordinaten zugleich zu verschieben misst eine Richtungsableitung, keine "
            "partielle.",
        ),
        check_gradient_matches_autograd,
    ),
    check(
        "gradient_accurate",
        (
            "numerical_gradient is accurate to 1e-8 where the function curves hard",
            "numerical_gradient ist auf 1e-8 genau, wo die Funktion stark gekrümmt ist",
        ),
        (
            "Use central differences, (f(x + h) - f(x - h)) / 2h: their error is O(h^2); "
            "forward differences (f(x + h) - f(x)) / h are only O(h). Use the h you are given "
            "(1e-5): a larger h adds truncation error, a smaller one round-off.",
            "Nehmen Sie zentrale Differenzen, (f(x + h) - f(x - h)) / 2h: ihr Fehler ist "
            "O(h^2); Vorwärtsdifferenzen (f(x + h) - f(x)) / h sind nur O(h). Verwenden Sie "
            "das übergebene h (1e-5): ein größeres bringt Abbruchfehler, ein kleineres "
            "Rundungsfehler.",
        ),
        check_gradient_accurate,
    ),
    check(
        "uses_given_h",
        (
            "both functions step by the h they are given",
            "beide Funktionen verwenden das übergebene h als Schrittweite",
        ),
        (
            "Use the parameter h, not a number written into your code.",
            "Verwenden Sie den Parameter h, keine fest eingetragene Zahl.",
        ),
        check_uses_given_h,
    ),
    check(
        "leaves_input_unchanged",
        (
            "x holds the same values after the call as before",
            "x enthält nach dem Aufruf dieselben Werte wie vorher",
        ),
        (
            "If you change x in place, save the old value and put it back after both "
            "evaluations (old = x[i]; ...; x[i] = old), or work on a copy: x = x.copy().",
            "Wenn Sie x direkt verändern, merken Sie sich den alten Wert und setzen Sie ihn "
            "nach beiden Auswertungen zurück (old = x[i]; ...; x[i] = old), oder arbeiten Sie "
            "auf einer Kopie: x = x.copy().",
        ),
        check_leaves_input_unchanged,
    ),
    check(
        "jacobian_shape",
        (
            "jacobian returns shape (m, n): one row per output, one column per input",
            "jacobian liefert die Form (m, n): eine Zeile pro Ausgabe, eine Spalte pro Eingabe",
        ),
        (
            "J[i, j] = d f_i / d x_j. The difference quotient for input j is a vector of m "
            "outputs: it goes into column j (J[:, j] = ...), not row j.",
            "J[i, j] = d f_i / d x_j. Der Differenzenquotient für Eingabe j ist ein Vektor "
            "aus m Ausgaben: er gehört in Spalte j (J[:, j] = ...), nicht in Zeile j.",
        ),
        check_jacobian_shape,
    ),
    check(
        "jacobian_matches_autograd",
        (
            "jacobian equals torch.autograd on five vector functions (atol 1e-8)",
            "jacobian stimmt auf fünf vektorwertigen Funktionen mit torch.autograd überein "
            "(atol 1e-8)",
        ),
        (
            "Column j is (f(x + h e_j) - f(x - h e_j)) / 2h, with central differences as in "
            "numerical_gradient.",
            "Spalte j ist (f(x + h e_j) - f(x - h e_j)) / 2h, mit zentralen Differenzen wie in "
            "numerical_gradient.",
        ),
        check_jacobian_matches_autograd,
    ),
    check(
        "jacobian_of_a_view",
        (
            "jacobian is right for a function that returns a view of its input",
            "jacobian stimmt auch für eine Funktion, die eine Sicht auf ihre Eingabe liefert",
        ),
        (
            "f(x) = x[1:] shares memory with x: if you then change x in place, the output you "
            "kept changes with it. Keep a copy, np.array(f(x)), or evaluate f on new arrays "
            "(x + step, x - step).",
            "f(x) = x[1:] teilt sich den Speicher mit x: ändern Sie danach x direkt, ändert "
            "sich die aufbewahrte Ausgabe mit. Behalten Sie eine Kopie, np.array(f(x)), oder "
            "werten Sie f auf neuen Arrays aus (x + step, x - step).",
        ),
        check_jacobian_of_a_view,
    ),
]
