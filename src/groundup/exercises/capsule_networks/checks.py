"""Checks for the `capsule_networks` exercise, against groundup.nn.capsules.

The library is itself tested against a loop-by-loop NumPy transcription of the paper
(tests/nn/test_capsules.py). Inputs are float64 with fixed seeds. Squash inputs have lengths
of at least 0.3, so any eps up to 1e-7 moves a length by less than 1e-6 of itself; the
tolerance (atol 1e-6, rtol 1e-5) leaves room for that and for rounding, nothing more.
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
    assert_true,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg
from groundup.nn import capsules

FUNCTIONS = ["squash", "route", "margin_loss"]

REFERENCE = """from groundup.nn.capsules import margin_loss, squash
from groundup.nn.capsules import route as _route


def route(u_hat, iterations):
    return _route(u_hat, iterations)
"""

TOL = {"atol": 1e-6, "rtol": 1e-5}


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _vectors(seed: int, shape: tuple[int, ...], dim: int = -1) -> Tensor:
    """Random directions with lengths between 0.3 and 5 along `dim`."""
    g = _generator(seed)
    directions = F.normalize(torch.randn(shape, generator=g, dtype=torch.float64), dim=dim)
    length_shape = list(shape)
    length_shape[dim] = 1
    return directions * (0.3 + 4.7 * torch.rand(length_shape, generator=g, dtype=torch.float64))


def _predictions(seed: int, shape: tuple[int, int, int, int], scale: float = 1.0) -> Tensor:
    return scale * torch.randn(shape, generator=_generator(seed), dtype=torch.float64)


def _lengths(seed: int, n: int, k: int) -> tuple[Tensor, Tensor]:
    g = _generator(seed)
    lengths = torch.rand(n, k, generator=g, dtype=torch.float64)
    return lengths, torch.randint(0, k, (n,), generator=g)


def _grad(label: Msg, fn, x: Tensor, upstream_seed: int, *args, **kwargs) -> Tensor:
    """d sum(out * g) / d x for a fixed random g, with a clear message if autograd is cut."""
    leaf = x.clone().requires_grad_()
    out = call(label, fn, leaf, *args, **kwargs)
    if isinstance(out, tuple):
        out = out[0]
    if not isinstance(out, Tensor) or out.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to the input by autograd (it has a grad_fn)",
            got=describe(out) + ("" if not isinstance(out, Tensor) else ", grad_fn None"),
        )
    upstream = torch.randn(out.shape, generator=_generator(upstream_seed), dtype=out.dtype)
    (grad,) = call(label, torch.autograd.grad, out, leaf, upstream, allow_unused=True)
    if grad is None:
        raise Mismatch(label, expected="a gradient", got="None: nothing flowed back")
    return grad


def _reference_grad(fn, x: Tensor, upstream_seed: int, *args, **kwargs) -> Tensor:
    leaf = x.clone().requires_grad_()
    out = fn(leaf, *args, **kwargs)
    out = out[0] if isinstance(out, tuple) else out
    upstream = torch.randn(out.shape, generator=_generator(upstream_seed), dtype=out.dtype)
    return torch.autograd.grad(out, leaf, upstream)[0]


def _route_pair(label: Msg, module: ModuleType, u_hat: Tensor, iterations: int) -> tuple:
    route = require(module, "route")
    result = call(label, route, u_hat.clone(), iterations)
    if not isinstance(result, tuple) or len(result) != 2:
        raise Mismatch(label, expected="a tuple (v, c)", got=describe(result))
    return result


def _reference_route(u_hat: Tensor, iterations: int) -> tuple[Tensor, Tensor]:
    return capsules.route(u_hat, iterations)


# ---------------------------------------------------------------- squash


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_squash_shape(module: ModuleType) -> None:
    squash = require(module, "squash")
    for seed, shape in enumerate([(5,), (3, 4), (2, 6, 8)]):
        label = Msg(f"squash(s of shape {shape}).shape", f"squash(s der Form {shape}).shape")
        assert_shape(label, call(label, squash, _vectors(seed, shape)), shape)


def check_squash_values(module: ModuleType) -> None:
    squash = require(module, "squash")
    for seed, shape in enumerate([(6, 4), (2, 5, 16), (1, 3)]):
        s = _vectors(10 + seed, shape)
        label = Msg(
            f"squash(s {shape}) against |s|^2 / (1 + |s|^2) * s / |s|",
            f"squash(s {shape}) verglichen mit |s|^2 / (1 + |s|^2) * s / |s|",
        )
        assert_close(label, call(label, squash, s.clone()), capsules.squash(s), **TOL)
    s = _vectors(20, (4, 6, 3), dim=1)
    label = Msg(
        "squash(s (4, 6, 3), dim=1): the vectors lie along axis 1",
        "squash(s (4, 6, 3), dim=1): die Vektoren liegen entlang Achse 1",
    )
    assert_close(label, call(label, squash, s.clone(), dim=1), capsules.squash(s, dim=1), **TOL)


def check_squash_zero_vector(module: ModuleType) -> None:
    squash = require(module, "squash")
    for dtype in (torch.float32, torch.float64):
        s = _vectors(30, (4, 8)).to(dtype)
        s[1] = 0.0  # one dead capsule among live ones
        label = Msg(
            f"squash of a batch with one all-zero vector ({dtype}): value and gradient",
            f"squash eines Batches mit einem Nullvektor ({dtype}): Wert und Gradient",
        )
        leaf = s.clone().requires_grad_()
        v = call(label, squash, leaf)
        assert_true(
            label,
            isinstance(v, Tensor) and bool(torch.isfinite(v).all()),
            expected="finite values, zeros for the zero vector",
            got=describe(v) if not isinstance(v, Tensor) else str(v[1].tolist()),
        )
        assert_close(label, v[1], torch.zeros(8), atol=1e-6, rtol=0)
        call(label, v.sum().backward)
        assert_true(
            label,
            leaf.grad is not None and bool(torch.isfinite(leaf.grad).all()),
            expected="a finite gradient everywhere",
            got="no gradient" if leaf.grad is None else f"gradient of the zero row {leaf.grad[1]}",
        )


def check_squash_gradients(module: ModuleType) -> None:
    squash = require(module, "squash")
    for seed, shape in enumerate([(5, 4), (2, 3, 8)]):
        s = _vectors(40 + seed, shape)
        label = Msg(f"d squash(s {shape}) / d s", f"d squash(s {shape}) / d s")
        grad = _grad(label, squash, s, 100 + seed)
        assert_close(label, grad, _reference_grad(capsules.squash, s, 100 + seed), **TOL)


# ---------------------------------------------------------------- routing


def check_route_shapes(module: ModuleType) -> None:
    for seed, (n, n_in, n_out, d) in enumerate([(2, 5, 3, 4), (1, 7, 10, 2)]):
        u_hat = _predictions(50 + seed, (n, n_in, n_out, d))
        label = Msg(
            f"route(u_hat {(n, n_in, n_out, d)}, 2) returns v {(n, n_out, d)} and c "
            f"{(n, n_in, n_out)}",
            f"route(u_hat {(n, n_in, n_out, d)}, 2) liefert v {(n, n_out, d)} und c "
            f"{(n, n_in, n_out)}",
        )
        v, c = _route_pair(label, module, u_hat, 2)
        assert_shape(label, v, (n, n_out, d))
        assert_shape(label, c, (n, n_in, n_out))


def check_coupling_sums_to_one(module: ModuleType) -> None:
    u_hat = _predictions(60, (3, 6, 4, 5))
    for iterations in (1, 3):
        label = Msg(
            f"route(u_hat (3, 6, 4, 5), {iterations}): c summed over the parents (axis 2)",
            f"route(u_hat (3, 6, 4, 5), {iterations}): c summiert über die Eltern (Achse 2)",
        )
        _, c = _route_pair(label, module, u_hat, iterations)
        assert_shape(label, c, (3, 6, 4))
        assert_close(label, c.sum(dim=2), torch.ones(3, 6), atol=1e-9, rtol=0)
    label = Msg(
        "route(u_hat, 1): with one iteration b stays 0, so every c_ij = 1 / n_out = 0.25",
        "route(u_hat, 1): bei einer Iteration bleibt b = 0, also jedes c_ij = 1 / n_out = 0,25",
    )
    _, c = _route_pair(label, module, u_hat, 1)
    assert_close(label, c, torch.full((3, 6, 4), 0.25), atol=1e-9, rtol=0)


def check_route_one_iteration(module: ModuleType) -> None:
    for seed, shape in enumerate([(2, 5, 3, 4), (1, 8, 10, 16)]):
        u_hat = _predictions(70 + seed, shape)
        label = Msg(
            f"route(u_hat {shape}, 1): v = squash of the plain average over the children",
            f"route(u_hat {shape}, 1): v = squash des einfachen Mittels über die Kinder",
        )
        v, _ = _route_pair(label, module, u_hat, 1)
        assert_close(label, v, _reference_route(u_hat, 1)[0], **TOL)


def check_route_values(module: ModuleType) -> None:
    cases = [((2, 5, 3, 4), 2, 1.0), ((3, 6, 4, 3), 3, 1.0), ((1, 8, 10, 16), 3, 0.3)]
    cases += [((2, 4, 5, 2), 5, 2.0)]
    for seed, (shape, iterations, scale) in enumerate(cases):
        u_hat = _predictions(80 + seed, shape, scale)
        label = Msg(
            f"route(u_hat {shape}, {iterations}) against Procedure 1: v and c",
            f"route(u_hat {shape}, {iterations}) verglichen mit Prozedur 1: v und c",
        )
        v, c = _route_pair(label, module, u_hat, iterations)
        v_ref, c_ref = _reference_route(u_hat, iterations)
        assert_close(label, v, v_ref, **TOL)
        assert_close(label, c, c_ref, **TOL)


def check_route_gradients(module: ModuleType) -> None:
    route = require(module, "route")
    for seed, (shape, iterations) in enumerate([((2, 4, 3, 3), 1), ((2, 5, 3, 4), 3)]):
        u_hat = _predictions(90 + seed, shape)
        label = Msg(
            f"d v / d u_hat for route(u_hat {shape}, {iterations}), through every iteration",
            f"d v / d u_hat für route(u_hat {shape}, {iterations}), durch jede Iteration",
        )
        grad = _grad(label, route, u_hat, 110 + seed, iterations)
        expected = _reference_grad(capsules.route, u_hat, 110 + seed, iterations)
        assert_close(label, grad, expected, **TOL)


# ---------------------------------------------------------------- margin loss


def check_margin_loss_values(module: ModuleType) -> None:
    loss_fn = require(module, "margin_loss")
    for seed, (n, k) in enumerate([(6, 10), (1, 3), (9, 4)]):
        lengths, targets = _lengths(120 + seed, n, k)
        label = Msg(
            f"margin_loss(lengths ({n}, {k}), targets ({n},)) against Eq. 4",
            f"margin_loss(lengths ({n}, {k}), targets ({n},)) verglichen mit Gl. 4",
        )
        got = call(label, loss_fn, lengths.clone(), targets.clone())
        assert_shape(label, got, ())
        assert_close(label, got, capsules.margin_loss(lengths, targets), **TOL)
    lengths, targets = _lengths(130, 5, 6)
    label = Msg(
        "margin_loss(..., m_plus=0.8, m_minus=0.3, lam=0.7)",
        "margin_loss(..., m_plus=0.8, m_minus=0.3, lam=0.7)",
    )
    got = call(label, loss_fn, lengths.clone(), targets.clone(), m_plus=0.8, m_minus=0.3, lam=0.7)
    expected = capsules.margin_loss(lengths, targets, m_plus=0.8, m_minus=0.3, lam=0.7)
    assert_close(label, got, expected, **TOL)


def check_margin_loss_gradients(module: ModuleType) -> None:
    loss_fn = require(module, "margin_loss")
    lengths, targets = _lengths(140, 7, 10)
    label = Msg("d margin_loss / d lengths", "d margin_loss / d lengths")
    grad = _grad(label, loss_fn, lengths, 150, targets)
    expected = _reference_grad(capsules.margin_loss, lengths, 150, targets)
    assert_close(label, grad, expected, **TOL)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions squash, route and margin_loss",
            "Funktionen squash, route und margin_loss",
        ),
        (
            "Define all three at the top level of your file, with these names.",
            "Definieren Sie alle drei mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "squash_shape",
        ("squash keeps the shape of its input", "squash behält die Form der Eingabe"),
        (
            "Reduce over `dim` with keepdim=True when you compute |s|^2, so the scale "
            "broadcasts back over the vector.",
            "Reduzieren Sie bei |s|^2 über `dim` mit keepdim=True, damit sich der Faktor "
            "wieder über den Vektor ausbreitet.",
        ),
        check_squash_shape,
    ),
    check(
        "squash_values",
        (
            "squash gives the length |s|^2 / (1 + |s|^2) and keeps the direction",
            "squash liefert die Länge |s|^2 / (1 + |s|^2) und behält die Richtung",
        ),
        (
            "v = s * |s|^2 / ((1 + |s|^2) * |s|): the first factor squeezes the length into "
            "[0, 1), the division by |s| makes s a unit vector. Use the SQUARED norm in the "
            "numerator, 1 + |s|^2 in the denominator, and the axis `dim`.",
            "v = s * |s|^2 / ((1 + |s|^2) * |s|): der erste Faktor drückt die Länge in "
            "[0, 1), die Division durch |s| macht s zum Einheitsvektor. Nehmen Sie die "
            "QUADRIERTE Norm im Zähler, 1 + |s|^2 im Nenner und die Achse `dim`.",
        ),
        check_squash_values,
    ),
    check(
        "squash_zero_vector",
        (
            "squash of a zero vector is zero, with a finite gradient",
            "squash eines Nullvektors ist null, mit endlichem Gradienten",
        ),
        (
            "The derivative of sqrt(x) at x = 0 is infinite, and 0 * inf = NaN spreads to "
            "every gradient. Compute |s| as torch.sqrt(|s|^2 + eps), not with .norm() or "
            "torch.sqrt(|s|^2), and divide by that.",
            "Die Ableitung von sqrt(x) bei x = 0 ist unendlich, und 0 * inf = NaN verbreitet "
            "sich in alle Gradienten. Berechnen Sie |s| als torch.sqrt(|s|^2 + eps), nicht mit "
            ".norm() oder torch.sqrt(|s|^2), und teilen Sie dadurch.",
        ),
        check_squash_zero_vector,
    ),
    check(
        "squash_gradients",
        (
            "the gradient of squash equals the library's",
            "der Gradient von squash gleich dem der Bibliothek",
        ),
        (
            "Stay inside torch: no .detach(), .numpy(), .item() or torch.no_grad().",
            "Bleiben Sie in torch: kein .detach(), .numpy(), .item() oder torch.no_grad().",
        ),
        check_squash_gradients,
    ),
    check(
        "route_shapes",
        (
            "route returns v (N, n_out, d) and c (N, n_in, n_out)",
            "route liefert v (N, n_out, d) und c (N, n_in, n_out)",
        ),
        (
            "s_j sums over the children i (axis 1 of u_hat), weighted by c. Return the tuple "
            "(v, c), in this order.",
            "s_j summiert über die Kinder i (Achse 1 von u_hat), gewichtet mit c. Geben Sie "
            "das Tupel (v, c) in dieser Reihenfolge zurück.",
        ),
        check_route_shapes,
    ),
    check(
        "coupling_sums_to_one",
        (
            "the coupling coefficients of each child sum to 1 over the parents",
            "die Kopplungskoeffizienten jedes Kindes summieren sich über die Eltern zu 1",
        ),
        (
            "c = softmax(b) over the PARENT axis j, dim=2 of (N, n_in, n_out): each child "
            "distributes its output among the parents. A softmax over the children (dim=1) "
            "is a different model.",
            "c = softmax(b) über die ELTERN-Achse j, dim=2 von (N, n_in, n_out): jedes Kind "
            "verteilt seine Ausgabe auf die Eltern. Eine Softmax über die Kinder (dim=1) ist "
            "ein anderes Modell.",
        ),
        check_coupling_sums_to_one,
    ),
    check(
        "route_one_iteration",
        (
            "route with one iteration squashes the average prediction",
            "route mit einer Iteration staucht die gemittelte Vorhersage",
        ),
        (
            "With iterations=1 the loop body runs exactly once: c = softmax(0) = 1/n_out, "
            "s_j = sum_i c_ij u_hat_{j|i}, v = squash(s) along the last axis. Check the loop "
            "count and the axis of the sum.",
            "Bei iterations=1 läuft der Schleifenkörper genau einmal: c = softmax(0) = 1/n_out, "
            "s_j = sum_i c_ij u_hat_{j|i}, v = squash(s) entlang der letzten Achse. Prüfen "
            "Sie die Zahl der Durchläufe und die Achse der Summe.",
        ),
        check_route_one_iteration,
    ),
    check(
        "route_values",
        (
            "route with 2 to 5 iterations matches Procedure 1 (v and c)",
            "route mit 2 bis 5 Iterationen stimmt mit Prozedur 1 überein (v und c)",
        ),
        (
            "After each squash, ADD the agreement to the logits: b_ij += u_hat_{j|i} . v_j "
            "(the squashed v, not s; summed over the last axis). b starts at 0 once, before "
            "the loop, and the loop runs exactly `iterations` times.",
            "ADDIEREN Sie nach jedem Squash die Übereinstimmung zu den Logits: "
            "b_ij += u_hat_{j|i} . v_j (das gestauchte v, nicht s; über die letzte Achse "
            "summiert). b beginnt einmal vor der Schleife bei 0, und die Schleife läuft genau "
            "`iterations`-mal.",
        ),
        check_route_values,
    ),
    check(
        "route_gradients",
        (
            "the gradient of v with respect to u_hat equals the library's, through all iterations",
            "der Gradient von v nach u_hat gleich dem der Bibliothek, durch alle Iterationen",
        ),
        (
            "Do not detach u_hat (or b, or v) inside the loop. Some implementations stop the "
            "gradient through the agreement; this exercise asks for the exact derivative of "
            "Procedure 1.",
            "Trennen Sie u_hat (oder b, oder v) in der Schleife nicht ab. Manche "
            "Implementierungen stoppen den Gradienten durch die Übereinstimmung; diese Übung "
            "verlangt die exakte Ableitung von Prozedur 1.",
        ),
        check_route_gradients,
    ),
    check(
        "margin_loss_values",
        ("margin_loss equals Eq. 4", "margin_loss gleich Gl. 4"),
        (
            "Present class: max(0, m_plus - |v_k|)^2; absent classes: "
            "lam * max(0, |v_k| - m_minus)^2. lam weights the ABSENT classes only. Square "
            "after the max, sum over the classes, then average over the examples.",
            "Richtige Klasse: max(0, m_plus - |v_k|)^2; andere Klassen: "
            "lam * max(0, |v_k| - m_minus)^2. lam gewichtet NUR die abwesenden Klassen. "
            "Quadrieren Sie nach dem max, summieren Sie über die Klassen und mitteln Sie dann "
            "über die Beispiele.",
        ),
        check_margin_loss_values,
    ),
    check(
        "margin_loss_gradients",
        (
            "the gradient of margin_loss with respect to the lengths equals the library's",
            "der Gradient von margin_loss nach den Längen gleich dem der Bibliothek",
        ),
        (
            "Stay inside torch: torch.relu or clamp(min=0) for max(0, .), no .item() or numpy.",
            "Bleiben Sie in torch: torch.relu oder clamp(min=0) für max(0, .), kein .item() "
            "oder numpy.",
        ),
        check_margin_loss_gradients,
    ),
]
