"""Checks for the `losses` exercise, against torch.nn.functional.binary_cross_entropy_with_logits
and torch.nn.functional.cross_entropy (mean reduction).

Inputs are float64 with fixed seeds unless a check says float32, so a correct answer matches
PyTorch to about 1e-15; the tolerance (atol 1e-10, rtol 1e-8 in float64; atol 1e-5, rtol 1e-4
in float32) leaves room only for rounding, e.g. log(1 + e^-|x|) written without log1p.
The extreme checks use logits of +-100 and +-1000: e^100 overflows float32 and e^1000
float64, and sigmoid(100) rounds to exactly 1.0 in both.
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

FUNCTIONS = ["bce_with_logits", "cross_entropy"]

REFERENCE = """from groundup.nn.losses import binary_cross_entropy_with_logits
from groundup.nn.losses import cross_entropy as _cross_entropy


def bce_with_logits(logits, targets):
    return binary_cross_entropy_with_logits(logits, targets)


def cross_entropy(logits, targets, label_smoothing=0.0):
    return _cross_entropy(logits, targets, label_smoothing=label_smoothing)
"""

TOL = {torch.float64: {"atol": 1e-10, "rtol": 1e-8}, torch.float32: {"atol": 1e-5, "rtol": 1e-4}}


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _binary(
    seed: int, shape: tuple[int, ...], scale: float = 2.0, soft: bool = False
) -> tuple[Tensor, Tensor]:
    g = _generator(seed)
    logits = scale * torch.randn(shape, generator=g, dtype=torch.float64)
    if soft:
        return logits, torch.rand(shape, generator=g, dtype=torch.float64)
    return logits, torch.randint(0, 2, shape, generator=g).double()


def _classes(seed: int, n: int, c: int, scale: float = 3.0) -> tuple[Tensor, Tensor]:
    g = _generator(seed)
    logits = scale * torch.randn(n, c, generator=g, dtype=torch.float64)
    return logits, torch.randint(0, c, (n,), generator=g)


def _value_and_grad(
    label: Msg, fn, logits: Tensor, *args, **kwargs
) -> tuple[Tensor, Tensor | None]:
    """The learner's loss and d loss / d logits, with a clear message if autograd is cut."""
    leaf = logits.clone().requires_grad_()
    out = call(label, fn, leaf, *args, **kwargs)
    if not isinstance(out, Tensor) or out.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to the logits by autograd (it has a grad_fn)",
            got=describe(out) + ("" if not isinstance(out, Tensor) else ", grad_fn None"),
        )
    if out.dim() != 0:
        raise Mismatch(label, expected="a 0-dim tensor (the mean)", got=describe(out))
    call(label, out.backward)
    return out.detach(), leaf.grad


def _torch_value_and_grad(fn, logits: Tensor, *args, **kwargs) -> tuple[Tensor, Tensor]:
    leaf = logits.clone().requires_grad_()
    out = fn(leaf, *args, **kwargs)
    out.backward()
    return out.detach(), leaf.grad


def _compare(label: Msg, got: Tensor, expected: Tensor, dtype: torch.dtype) -> None:
    assert_true(
        label,
        bool(torch.isfinite(torch.as_tensor(got)).all()),
        expected=f"a finite number, about {expected.flatten()[:4].tolist()}",
        got=_excerpt(got),
    )
    assert_close(label, got, expected, **TOL[dtype])


def _excerpt(value: Tensor) -> str:
    return str(torch.as_tensor(value).flatten()[:6].tolist())


def _grad_compare(label: Msg, grad: Tensor | None, expected: Tensor, dtype: torch.dtype) -> None:
    if grad is None:
        raise Mismatch(
            label,
            expected=f"a gradient of shape {tuple(expected.shape)}",
            got="None: no gradient flowed back to the logits (.detach(), numpy, no_grad?)",
        )
    _compare(label, grad, expected, dtype)


# ---------------------------------------------------------------- binary cross-entropy


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_bce_shape(module: ModuleType) -> None:
    bce = require(module, "bce_with_logits")
    for seed, shape in enumerate([(7,), (3, 4), (2, 3, 5)]):
        logits, targets = _binary(seed, shape)
        label = Msg(
            f"bce_with_logits(logits {shape}, targets {shape}).shape: one number, the mean",
            f"bce_with_logits(logits {shape}, targets {shape}).shape: eine Zahl, der Mittelwert",
        )
        assert_shape(label, call(label, bce, logits, targets), ())


def check_bce_values(module: ModuleType) -> None:
    bce = require(module, "bce_with_logits")
    for seed, (shape, soft) in enumerate([((10,), False), ((4, 6), False), ((3, 2, 5), True)]):
        logits, targets = _binary(100 + seed, shape, soft=soft)
        kind = "soft targets in [0, 1]" if soft else "0/1 targets"
        label = Msg(
            f"bce_with_logits(logits {shape}, {kind}) against torch's "
            "binary_cross_entropy_with_logits",
            f"bce_with_logits(logits {shape}, {kind}) verglichen mit torchs "
            "binary_cross_entropy_with_logits",
        )
        got = call(label, bce, logits.clone(), targets.clone())
        _compare(label, got, F.binary_cross_entropy_with_logits(logits, targets), torch.float64)


def check_bce_gradients(module: ModuleType) -> None:
    bce = require(module, "bce_with_logits")
    for seed, soft in enumerate([False, True]):
        logits, targets = _binary(200 + seed, (4, 5), soft=soft)
        label = Msg(
            f"d bce_with_logits / d logits, logits (4, 5), {'soft' if soft else '0/1'} targets",
            f"d bce_with_logits / d logits, logits (4, 5), {'weiche' if soft else '0/1'}-Ziele",
        )
        _, grad = _value_and_grad(label, bce, logits, targets)
        _, expected = _torch_value_and_grad(F.binary_cross_entropy_with_logits, logits, targets)
        _grad_compare(label, grad, expected, torch.float64)


def check_bce_extreme_logits(module: ModuleType) -> None:
    bce = require(module, "bce_with_logits")
    cases = [
        (torch.float64, [-1000.0, -100.0, -100.0, 100.0, 100.0, 1000.0, 2.0, -40.0]),
        (torch.float32, [-100.0, -100.0, 100.0, 100.0, 50.0, -50.0, 1.0, 20.0]),
    ]
    hard = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0]  # the first six: confident, right and wrong
    soft = [0.3, 0.9, 0.5, 0.1, 0.7, 0.2, 0.6, 0.4]
    for dtype, values in cases:
        logits = torch.tensor(values, dtype=dtype)
        for target_values in (hard, soft):
            targets = torch.tensor(target_values, dtype=dtype)
            text = f"logits {values}, targets {target_values}, {dtype}"
            value_label = Msg(f"bce_with_logits({text})", f"bce_with_logits({text})")
            grad_label = Msg(f"d/d logits of bce_with_logits({text})",
                             f"d/d logits von bce_with_logits({text})")  # fmt: skip
            got, grad = _value_and_grad(value_label, bce, logits, targets)
            expected, expected_grad = _torch_value_and_grad(
                F.binary_cross_entropy_with_logits, logits, targets
            )
            _compare(value_label, got, expected, dtype)
            _grad_compare(grad_label, grad, expected_grad, dtype)


# ---------------------------------------------------------------- cross-entropy


def check_ce_shape(module: ModuleType) -> None:
    ce = require(module, "cross_entropy")
    for seed, (n, c) in enumerate([(5, 3), (1, 4), (8, 10)]):
        logits, targets = _classes(seed, n, c)
        label = Msg(
            f"cross_entropy(logits ({n}, {c}), targets ({n},)).shape: one number, the mean",
            f"cross_entropy(logits ({n}, {c}), targets ({n},)).shape: eine Zahl, der Mittelwert",
        )
        assert_shape(label, call(label, ce, logits, targets), ())


def check_ce_values(module: ModuleType) -> None:
    ce = require(module, "cross_entropy")
    for seed, (n, c) in enumerate([(6, 3), (5, 7), (16, 10), (1, 2)]):
        logits, targets = _classes(300 + seed, n, c)
        label = Msg(
            f"cross_entropy(logits ({n}, {c}), targets ({n},)) against torch's cross_entropy",
            f"cross_entropy(logits ({n}, {c}), targets ({n},)) verglichen mit torchs cross_entropy",
        )
        got = call(label, ce, logits.clone(), targets.clone())
        _compare(label, got, F.cross_entropy(logits, targets), torch.float64)


def check_ce_gradients(module: ModuleType) -> None:
    ce = require(module, "cross_entropy")
    for seed, (n, c) in enumerate([(6, 4), (3, 9)]):
        logits, targets = _classes(400 + seed, n, c)
        label = Msg(
            f"d cross_entropy / d logits, logits ({n}, {c})",
            f"d cross_entropy / d logits, logits ({n}, {c})",
        )
        _, grad = _value_and_grad(label, ce, logits, targets)
        _, expected = _torch_value_and_grad(F.cross_entropy, logits, targets)
        _grad_compare(label, grad, expected, torch.float64)


def check_ce_extreme_logits(module: ModuleType) -> None:
    ce = require(module, "cross_entropy")
    # Rows on very different scales: one shift for the whole batch does not fit them all.
    float64_rows = [[1000.0, 0.0, -1000.0], [-1000.0, -1001.0, -1003.0], [5.0, 900.0, 3.0]]
    float32_rows = [[100.0, 0.0, -100.0], [-100.0, -101.0, -103.0], [95.0, 100.0, 90.0]]
    for dtype, rows in ((torch.float64, float64_rows), (torch.float32, float32_rows)):
        logits = torch.tensor(rows, dtype=dtype)
        targets = torch.tensor([2, 1, 0])
        text = f"logits {rows}, targets [2, 1, 0], {dtype}"
        value_label = Msg(f"cross_entropy({text})", f"cross_entropy({text})")
        grad_label = Msg(f"d/d logits of cross_entropy({text})",
                         f"d/d logits von cross_entropy({text})")  # fmt: skip
        got, grad = _value_and_grad(value_label, ce, logits, targets)
        expected, expected_grad = _torch_value_and_grad(F.cross_entropy, logits, targets)
        _compare(value_label, got, expected, dtype)
        _grad_compare(grad_label, grad, expected_grad, dtype)


def check_ce_label_smoothing(module: ModuleType) -> None:
    ce = require(module, "cross_entropy")
    for seed, (n, c, eps) in enumerate([(6, 4, 0.1), (5, 10, 0.25), (3, 3, 1.0), (4, 2, 0.5)]):
        logits, targets = _classes(500 + seed, n, c)
        text = f"logits ({n}, {c}), label_smoothing={eps}"
        value_label = Msg(
            f"cross_entropy({text}) against torch's cross_entropy",
            f"cross_entropy({text}) verglichen mit torchs cross_entropy",
        )
        grad_label = Msg(f"d cross_entropy({text}) / d logits",
                         f"d cross_entropy({text}) / d logits")  # fmt: skip
        got, grad = _value_and_grad(value_label, ce, logits, targets, label_smoothing=eps)
        expected, expected_grad = _torch_value_and_grad(
            F.cross_entropy, logits, targets, label_smoothing=eps
        )
        _compare(value_label, got, expected, torch.float64)
        _grad_compare(grad_label, grad, expected_grad, torch.float64)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions bce_with_logits(logits, targets) and cross_entropy(logits, targets, "
            "label_smoothing=0.0)",
            "Funktionen bce_with_logits(logits, targets) und cross_entropy(logits, targets, "
            "label_smoothing=0.0)",
        ),
        (
            "Define both functions at the top level of your file, with these names.",
            "Definieren Sie beide Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "bce_shape",
        (
            "bce_with_logits returns one number (a 0-dim tensor) for inputs of any shape",
            "bce_with_logits liefert eine Zahl (0-dim. Tensor) für Eingaben jeder Form",
        ),
        (
            "Compute the loss of every element, then average over all of them with .mean() "
            "(no dim argument).",
            "Berechnen Sie den Verlust jedes Elements und mitteln Sie dann mit .mean() über "
            "alle (ohne dim-Argument).",
        ),
        check_bce_shape,
    ),
    check(
        "bce_values",
        (
            "bce_with_logits equals torch's binary_cross_entropy_with_logits",
            "bce_with_logits gleich torchs binary_cross_entropy_with_logits",
        ),
        (
            "Per element: -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], which equals "
            "max(x, 0) - x*y + log1p(exp(-|x|)). Mind the sign of the x*y term, and take the "
            "mean, not the sum.",
            "Pro Element: -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], gleich "
            "max(x, 0) - x*y + log1p(exp(-|x|)). Achten Sie auf das Vorzeichen des x*y-Terms "
            "und nehmen Sie den Mittelwert, nicht die Summe.",
        ),
        check_bce_values,
    ),
    check(
        "bce_gradients",
        (
            "the gradient of bce_with_logits with respect to the logits equals torch's "
            "(it is (sigmoid(x) - y) / n)",
            "der Gradient von bce_with_logits nach den Logits gleich dem von torch "
            "(er ist (sigmoid(x) - y) / n)",
        ),
        (
            "Stay inside torch: no .detach(), .numpy(), .item() or torch.no_grad() in the "
            "computation, so autograd can follow every step back to the logits.",
            "Bleiben Sie in torch: kein .detach(), .numpy(), .item() oder torch.no_grad() in "
            "der Rechnung, damit Autograd jeden Schritt bis zu den Logits zurückverfolgt.",
        ),
        check_bce_gradients,
    ),
    check(
        "bce_extreme_logits",
        (
            "bce_with_logits stays finite and exact, value and gradient, at logits +-100 "
            "and +-1000",
            "bce_with_logits bleibt bei Logits +-100 und +-1000 endlich und genau, in Wert und "
            "Gradient",
        ),
        (
            "sigmoid(100) rounds to exactly 1.0, so log(1 - sigmoid(x)) becomes log(0) = -inf, "
            "and clamping the log hides the value but kills the gradient. Never form sigmoid "
            "first: use max(x, 0) - x*y + log1p(exp(-|x|)), where exp only sees numbers <= 0.",
            "sigmoid(100) wird exakt zu 1.0 gerundet, also wird log(1 - sigmoid(x)) zu "
            "log(0) = -inf, und ein geklemmter Logarithmus verdeckt den Wert, tötet aber den "
            "Gradienten. Bilden Sie nie zuerst sigmoid: nehmen Sie "
            "max(x, 0) - x*y + log1p(exp(-|x|)); dort sieht exp nur Zahlen <= 0.",
        ),
        check_bce_extreme_logits,
    ),
    check(
        "ce_shape",
        (
            "cross_entropy returns one number (a 0-dim tensor) for (N, C) logits",
            "cross_entropy liefert eine Zahl (0-dim. Tensor) für Logits der Form (N, C)",
        ),
        (
            "Pick one log-probability per example (shape (N,)), then average over the examples.",
            "Wählen Sie pro Beispiel eine Log-Wahrscheinlichkeit (Form (N,)) und mitteln Sie "
            "dann über die Beispiele.",
        ),
        check_ce_shape,
    ),
    check(
        "ce_values",
        (
            "cross_entropy without smoothing equals torch's cross_entropy",
            "cross_entropy ohne Smoothing gleich torchs cross_entropy",
        ),
        (
            "log_softmax runs over the classes, dim=1 (each row sums to 1 after exp). The loss "
            "of example i is -log_p[i, targets[i]], and the result is the mean over the N "
            "examples, not the sum and not the mean over all N*C entries.",
            "log_softmax läuft über die Klassen, dim=1 (jede Zeile ergibt nach exp die Summe 1). "
            "Der Verlust von Beispiel i ist -log_p[i, targets[i]], das Ergebnis der Mittelwert "
            "über die N Beispiele, nicht die Summe und nicht der Mittelwert über alle N*C "
            "Einträge.",
        ),
        check_ce_values,
    ),
    check(
        "ce_gradients",
        (
            "the gradient of cross_entropy with respect to the logits equals torch's "
            "(softmax minus one-hot, over N)",
            "der Gradient von cross_entropy nach den Logits gleich dem von torch "
            "(Softmax minus One-hot, geteilt durch N)",
        ),
        (
            "Stay inside torch: no .detach() on the logits, no .numpy(), .item() or "
            "torch.no_grad() in the computation. (Detaching only the row maximum m is fine.)",
            "Bleiben Sie in torch: kein .detach() auf den Logits, kein .numpy(), .item() oder "
            "torch.no_grad() in der Rechnung. (Nur das Zeilenmaximum m abzutrennen ist in "
            "Ordnung.)",
        ),
        check_ce_gradients,
    ),
    check(
        "ce_extreme_logits",
        (
            "cross_entropy stays finite and exact at logits of +-100 (float32) and +-1000 "
            "(float64), rows on very different scales",
            "cross_entropy bleibt endlich und genau bei Logits von +-100 (float32) und +-1000 "
            "(float64), Zeilen auf sehr verschiedenen Skalen",
        ),
        (
            "exp(100) is inf in float32 and exp(1000) in float64. Subtract the maximum of EACH "
            "ROW before exp (amax(dim=1, keepdim=True)) and add it back after the log: "
            "logsumexp(x) = m + log(sum(exp(x - m))). One maximum for the whole batch leaves "
            "rows far below it with exp(...) = 0 and log(0) = -inf.",
            "exp(100) ist in float32 inf, exp(1000) in float64. Ziehen Sie vor exp das Maximum "
            "JEDER ZEILE ab (amax(dim=1, keepdim=True)) und addieren Sie es nach dem log wieder: "
            "logsumexp(x) = m + log(sum(exp(x - m))). Ein Maximum für den ganzen Batch lässt "
            "weit darunter liegende Zeilen mit exp(...) = 0 und log(0) = -inf zurück.",
        ),
        check_ce_extreme_logits,
    ),
    check(
        "ce_label_smoothing",
        (
            "cross_entropy with label_smoothing equals torch's, value and gradient",
            "cross_entropy mit label_smoothing gleich torchs, in Wert und Gradient",
        ),
        (
            "The target distribution is q = (1 - eps) onehot + eps / C: every one of the C "
            "classes gets eps / C, the true class too (not eps / (C - 1) over the others). "
            "So loss = (1 - eps) * (-log p_y) + eps * (-mean over all classes of log p_c).",
            "Die Zielverteilung ist q = (1 - eps) onehot + eps / C: jede der C Klassen bekommt "
            "eps / C, auch die richtige (nicht eps / (C - 1) auf die anderen). Also "
            "loss = (1 - eps) * (-log p_y) + eps * (-Mittelwert über alle Klassen von log p_c).",
        ),
        check_ce_label_smoothing,
    ),
]
