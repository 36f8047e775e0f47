"""Checks for the autograd exercise: three backward rules compared with the NumPy engine.

The expected gradients come from `groundup.autograd.engine` run as a user would run it
(broadcasting an add, a `@`, a `log_softmax`, then `backward()`); every rule of that engine
is itself tested against torch.autograd in tests/autograd. Using the engine instead of
torch keeps grading fast: no torch import in the grading process.
Inputs are random float64 arrays with fixed seeds; tolerance atol 1e-8, rtol 1e-6.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from groundup.autograd.engine import Tensor
from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_true,
    call,
    describe,
    require,
)
from groundup.i18n import Msg

FUNCTIONS = ["unbroadcast", "matmul_backward", "log_softmax_backward"]
REFERENCE = (
    "from groundup.autograd.engine import log_softmax_backward, matmul_backward, unbroadcast\n"
)

ATOL, RTOL = 1e-8, 1e-6
ARRAY = (np.ndarray, np.generic)  # a 0-d result may come back as a NumPy scalar


# ---------------------------------------------------------------- what the engine says


def expected_unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The gradient of an input of `shape` that was broadcast to grad.shape by an add."""
    leaf = Tensor(np.zeros(shape), requires_grad=True)
    (leaf + np.zeros(grad.shape)).backward(grad)
    assert leaf.grad is not None
    return leaf.grad


def expected_matmul_grads(
    a: np.ndarray, b: np.ndarray, grad_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (ta @ tb).backward(grad_out)
    assert ta.grad is not None and tb.grad is not None
    return ta.grad, tb.grad


def expected_log_softmax_grad(x: np.ndarray, grad_out: np.ndarray, axis: int) -> np.ndarray:
    tx = Tensor(x, requires_grad=True)
    tx.log_softmax(axis=axis).backward(grad_out)
    assert tx.grad is not None
    return tx.grad


# ---------------------------------------------------------------- comparisons


def compare_unbroadcast(module: ModuleType, cases: list[tuple[tuple, tuple]], seed: int) -> None:
    fn = require(module, "unbroadcast")
    rng = np.random.default_rng(seed)
    for grad_shape, shape in cases:
        grad = rng.standard_normal(grad_shape)
        compared = Msg(
            f"unbroadcast(grad of shape {grad_shape}, shape={shape})",
            f"unbroadcast(grad der Form {grad_shape}, shape={shape})",
        )
        got = call(compared, fn, grad.copy(), shape)
        expected = expected_unbroadcast(grad, shape)
        assert_close(compared, got, expected, atol=ATOL, rtol=RTOL, check_type=ARRAY)


def compare_matmul(module: ModuleType, cases: list[tuple[tuple, tuple]], seed: int) -> None:
    fn = require(module, "matmul_backward")
    rng = np.random.default_rng(seed)
    for a_shape, b_shape in cases:
        a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
        grad_out = rng.standard_normal((a @ b).shape)
        call_text = f"matmul_backward(a {a_shape}, b {b_shape}, grad_out {grad_out.shape})"
        compared = Msg(call_text, call_text)
        got = call(compared, fn, a.copy(), b.copy(), grad_out.copy())
        pair = isinstance(got, tuple | list) and len(got) == 2
        assert_true(compared, pair, expected="a pair (grad_a, grad_b)", got=describe(got))
        expected_a, expected_b = expected_matmul_grads(a, b, grad_out)
        for name, value, expected in (
            ("grad_a", got[0], expected_a),
            ("grad_b", got[1], expected_b),
        ):
            which = Msg(f"{call_text}: {name}", f"{call_text}: {name}")
            assert_close(which, value, expected, atol=ATOL, rtol=RTOL, check_type=ARRAY)


def compare_log_softmax(
    module: ModuleType, cases: list[tuple[tuple, int | None]], seed: int, scale: float = 1.0
) -> None:
    fn = require(module, "log_softmax_backward")
    rng = np.random.default_rng(seed)
    for shape, axis in cases:
        x, grad_out = scale * rng.standard_normal(shape), rng.standard_normal(shape)
        shown = "" if axis is None else f", axis={axis}"
        call_text = f"log_softmax_backward(x {shape} (values ~ {scale:g}), grad_out{shown})"
        compared = Msg(call_text, call_text)
        args: dict[str, Any] = {} if axis is None else {"axis": axis}
        got = call(compared, fn, x.copy(), grad_out.copy(), **args)
        expected = expected_log_softmax_grad(x, grad_out, -1 if axis is None else axis)
        if isinstance(got, ARRAY) and not np.all(np.isfinite(got)):
            raise Mismatch(compared, expected="finite numbers", got="nan or inf in your result")
        assert_close(compared, got, expected, atol=ATOL, rtol=RTOL, check_type=ARRAY)


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def unbroadcast_same_shape(module: ModuleType) -> None:
    compare_unbroadcast(module, [((3,), (3,)), ((2, 4), (2, 4)), ((), ())], seed=1)


def unbroadcast_leading_dims(module: ModuleType) -> None:
    cases = [((5, 3), (3,)), ((4, 2, 3), (2, 3)), ((3, 4, 2, 3), (2, 3)), ((2, 3), ())]
    compare_unbroadcast(module, cases, seed=2)


def unbroadcast_size_one_dims(module: ModuleType) -> None:
    cases = [
        ((4, 3), (1, 3)),
        ((4, 3), (4, 1)),
        ((2, 3), (1, 1)),
        ((2, 4, 3), (4, 1)),  # a new leading axis and a stretched one together
        ((5, 2, 4, 3), (2, 1, 3)),
        ((4, 1, 3), (4, 1, 1)),  # a size-1 axis that was not stretched stays as it is
    ]
    compare_unbroadcast(module, cases, seed=3)


def matmul_backward_2d(module: ModuleType) -> None:
    cases = [((3, 3), (3, 3)), ((2, 3), (3, 4)), ((5, 1), (1, 2)), ((1, 4), (4, 6))]
    compare_matmul(module, cases, seed=4)


def matmul_backward_batched(module: ModuleType) -> None:
    cases = [((2, 3, 4), (2, 4, 5)), ((3, 2, 2, 3), (3, 2, 3, 2))]
    compare_matmul(module, cases, seed=5)


def matmul_backward_broadcast_batch(module: ModuleType) -> None:
    cases = [
        ((2, 3, 4), (4, 5)),  # one weight matrix shared by a batch
        ((3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (3, 4, 2)),  # batch dims (2, 1) and (3,) broadcast to (2, 3)
    ]
    compare_matmul(module, cases, seed=6)


def log_softmax_backward_values(module: ModuleType) -> None:
    compare_log_softmax(module, [((4, 5), None), ((3, 7), -1), ((6,), -1)], seed=7)


def log_softmax_backward_axis(module: ModuleType) -> None:
    cases = [((4, 5), 0), ((2, 3, 4), 1), ((2, 3, 4), 0), ((2, 3, 4), -2)]
    compare_log_softmax(module, cases, seed=8)


def log_softmax_backward_large_logits(module: ModuleType) -> None:
    compare_log_softmax(module, [((4, 5), -1), ((3, 4), 0)], seed=9, scale=1000.0)


def inputs_unchanged(module: ModuleType) -> None:
    rng = np.random.default_rng(10)
    calls = {
        "unbroadcast": (rng.standard_normal((2, 3, 4)), (3, 1)),
        "matmul_backward": (
            rng.standard_normal((2, 3, 4)),
            rng.standard_normal((4, 5)),
            rng.standard_normal((2, 3, 5)),
        ),
        "log_softmax_backward": (rng.standard_normal((3, 4)), rng.standard_normal((3, 4))),
    }
    for name, args in calls.items():
        fn = require(module, name)
        copies = [np.copy(x) if isinstance(x, np.ndarray) else x for x in args]
        compared = Msg(
            f"the arrays passed to {name} before and after the call",
            f"die an {name} übergebenen Arrays vor und nach dem Aufruf",
        )
        call(compared, fn, *args)
        for i, (before, after) in enumerate(zip(copies, args, strict=True)):
            if isinstance(before, np.ndarray) and not np.array_equal(before, after):
                raise Mismatch(
                    compared,
                    expected="unchanged inputs",
                    got=f"argument {i + 1} of {name} was modified in place",
                )


def chain_rule_through_a_layer(module: ModuleType) -> None:
    """loss = sum(c * log_softmax(x @ W + b)), backpropagated with the three functions."""
    unbroadcast = require(module, "unbroadcast")
    matmul_backward = require(module, "matmul_backward")
    log_softmax_backward = require(module, "log_softmax_backward")
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((2, 4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    c = rng.standard_normal((2, 4, 5))
    tx, tw, tb = (Tensor(v, requires_grad=True) for v in (x, w, b))
    (c * (tx @ tw + tb).log_softmax(axis=-1)).sum().backward()

    compared = Msg(
        "gradients of sum(c * log_softmax(x @ W + b)) for x (2, 4, 3), W (3, 5), b (5,)",
        "Gradienten von sum(c * log_softmax(x @ W + b)) für x (2, 4, 3), W (3, 5), b (5,)",
    )
    grad_z = call(compared, log_softmax_backward, x @ w + b, c.copy(), -1)
    grads = call(compared, matmul_backward, x.copy(), w.copy(), np.array(grad_z))
    assert_true(
        compared, isinstance(grads, tuple | list) and len(grads) == 2, "a pair", describe(grads)
    )
    grad_b = call(compared, unbroadcast, np.array(grad_z), (5,))
    for name, got, reference in (
        ("x", grads[0], tx),
        ("W", grads[1], tw),
        ("b", grad_b, tb),
    ):
        which = Msg(f"{compared.en}: gradient of {name}", f"{compared.de}: Gradient von {name}")
        assert_close(which, got, reference.grad, atol=ATOL, rtol=RTOL, check_type=ARRAY)


CHECKS: list[Check] = [
    Check(
        "defines_functions",
        Msg(
            "your file defines unbroadcast, matmul_backward and log_softmax_backward",
            "Ihre Datei definiert unbroadcast, matmul_backward und log_softmax_backward",
        ),
        Msg(
            "Keep the function names and signatures of the stub.",
            "Behalten Sie die Funktionsnamen und Signaturen des Gerüsts bei.",
        ),
        defines_functions,
    ),
    Check(
        "unbroadcast_same_shape",
        Msg(
            "unbroadcast returns the gradient unchanged when nothing was broadcast",
            "unbroadcast gibt den Gradienten unverändert zurück, wenn nichts gebroadcastet wurde",
        ),
        Msg(
            "If grad already has the target shape there is nothing to sum; return an array "
            "of that shape, and handle shape () (a scalar input).",
            "Hat grad schon die Zielform, ist nichts zu summieren; geben Sie ein Array dieser "
            "Form zurück und behandeln Sie auch die Form () (eine skalare Eingabe).",
        ),
        unbroadcast_same_shape,
    ),
    Check(
        "unbroadcast_leading_dims",
        Msg(
            "unbroadcast sums over the leading axes that broadcasting added",
            "unbroadcast summiert über die vorne hinzugefügten Achsen",
        ),
        Msg(
            "Shapes line up from the RIGHT: the extra axes are the first grad.ndim - len(shape) "
            "ones. Sum them (sum, not mean: each copy passes on its full gradient).",
            "Formen werden von RECHTS ausgerichtet: Die zusätzlichen Achsen sind die ersten "
            "grad.ndim - len(shape). Summieren Sie sie (Summe, nicht Mittelwert: jede Kopie "
            "gibt ihren vollen Gradienten weiter).",
        ),
        unbroadcast_leading_dims,
    ),
    Check(
        "unbroadcast_size_one_dims",
        Msg(
            "unbroadcast sums over stretched size-1 axes and keeps them as size 1",
            "unbroadcast summiert über gestreckte Achsen der Größe 1 und behält sie mit Größe 1",
        ),
        Msg(
            "After removing the leading axes, sum every axis i where shape[i] == 1 but "
            "grad.shape[i] > 1, with keepdims=True so the axis numbers stay valid.",
            "Summieren Sie nach dem Entfernen der vorderen Achsen jede Achse i mit "
            "shape[i] == 1, aber grad.shape[i] > 1, mit keepdims=True, damit die "
            "Achsennummern gültig bleiben.",
        ),
        unbroadcast_size_one_dims,
    ),
    Check(
        "matmul_backward_2d",
        Msg(
            "matmul_backward gives the right gradients for 2-D matrices",
            "matmul_backward liefert für 2-D-Matrizen die richtigen Gradienten",
        ),
        Msg(
            "grad_a = grad_out @ b^T has the shape of a, grad_b = a^T @ grad_out the shape of "
            "b; return them in that order.",
            "grad_a = grad_out @ b^T hat die Form von a, grad_b = a^T @ grad_out die Form von "
            "b; geben Sie sie in dieser Reihenfolge zurück.",
        ),
        matmul_backward_2d,
    ),
    Check(
        "matmul_backward_batched",
        Msg(
            "matmul_backward gives the right gradients for batches of matrices",
            "matmul_backward liefert für Stapel von Matrizen die richtigen Gradienten",
        ),
        Msg(
            "x.T reverses ALL axes; for a batch you must swap only the last two: "
            "np.swapaxes(x, -1, -2).",
            "x.T kehrt ALLE Achsen um; bei einem Stapel dürfen nur die letzten beiden "
            "vertauscht werden: np.swapaxes(x, -1, -2).",
        ),
        matmul_backward_batched,
    ),
    Check(
        "matmul_backward_broadcast_batch",
        Msg(
            "matmul_backward is right when batch axes were broadcast",
            "matmul_backward stimmt auch, wenn Batch-Achsen gebroadcastet wurden",
        ),
        Msg(
            "A matrix shared by the whole batch (e.g. a weight) collects the gradient of every "
            "batch element: unbroadcast grad_a to a.shape and grad_b to b.shape.",
            "Eine Matrix, die der ganze Stapel teilt (z. B. ein Gewicht), sammelt den "
            "Gradienten jedes Elements: grad_a auf a.shape und grad_b auf b.shape unbroadcasten.",
        ),
        matmul_backward_broadcast_batch,
    ),
    Check(
        "log_softmax_backward_values",
        Msg(
            "log_softmax_backward gives the right gradients along the last axis",
            "log_softmax_backward liefert entlang der letzten Achse die richtigen Gradienten",
        ),
        Msg(
            "Every output depends on every input through the normaliser: "
            "grad_x = grad_out - softmax(x) * grad_out.sum(axis, keepdims=True).",
            "Jede Ausgabe hängt über den Normierer von jeder Eingabe ab: "
            "grad_x = grad_out - softmax(x) * grad_out.sum(axis, keepdims=True).",
        ),
        log_softmax_backward_values,
    ),
    Check(
        "log_softmax_backward_axis",
        Msg(
            "log_softmax_backward uses the axis it is given",
            "log_softmax_backward verwendet die übergebene Achse",
        ),
        Msg(
            "Use `axis` (not -1) in the max, in both sums, with keepdims=True.",
            "Verwenden Sie `axis` (nicht -1) beim Maximum und in beiden Summen, mit keepdims=True.",
        ),
        log_softmax_backward_axis,
    ),
    Check(
        "log_softmax_backward_large_logits",
        Msg(
            "log_softmax_backward stays finite for inputs around 1000",
            "log_softmax_backward bleibt für Eingaben um 1000 endlich",
        ),
        Msg(
            "np.exp(1000) overflows to inf. Subtract x.max(axis, keepdims=True) before np.exp; "
            "softmax does not change when a constant is subtracted.",
            "np.exp(1000) läuft zu inf über. Ziehen Sie vor np.exp x.max(axis, keepdims=True) "
            "ab; softmax ändert sich nicht, wenn man eine Konstante abzieht.",
        ),
        log_softmax_backward_large_logits,
    ),
    Check(
        "inputs_unchanged",
        Msg(
            "your functions leave the arrays they are given unchanged",
            "Ihre Funktionen lassen die übergebenen Arrays unverändert",
        ),
        Msg(
            "`g -= ...` or `g += ...` writes into the caller's array; the engine still needs it. "
            "Write `g = g - ...` to get a new array.",
            "`g -= ...` oder `g += ...` schreibt in das Array des Aufrufers; die Engine braucht "
            "es noch. Schreiben Sie `g = g - ...`, um ein neues Array zu erhalten.",
        ),
        inputs_unchanged,
    ),
    Check(
        "chain_rule_through_a_layer",
        Msg(
            "the three rules chained backpropagate through log_softmax(x @ W + b)",
            "die drei Regeln verkettet propagieren durch log_softmax(x @ W + b) zurück",
        ),
        Msg(
            "Backward runs in reverse: log_softmax first, then the bias (unbroadcast to (5,)) "
            "and the matmul (W was shared by the batch).",
            "Rückwärts in umgekehrter Reihenfolge: zuerst log_softmax, dann der Bias "
            "(unbroadcast auf (5,)) und das Matrixprodukt (W wurde vom Stapel geteilt).",
        ),
        chain_rule_through_a_layer,
    ),
]
