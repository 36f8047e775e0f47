"""Checks for the `optimization` exercise: against groundup.math.optimization and torch.optim.SGD.

Everything is float64 with fixed starts and settings. The functions are a rotated quadratic,
Rosenbrock and Himmelblau at step sizes where rounding differences do not grow, so a correct
answer matches to about 1e-13; the tolerance (atol 1e-9, rtol 1e-7) leaves room for rounding.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import torch

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    call,
    check,
    require,
)
from groundup.i18n import Msg
from groundup.math import optimization as opt

FUNCTIONS = ["gradient_descent"]

REFERENCE = "from groundup.math.optimization import gradient_descent\n"

TOL = {"atol": 1e-9, "rtol": 1e-7}
QUADRATIC = opt.quadratic(condition=10.0, dim=3, seed=0)


def _torch_rosenbrock(p: torch.Tensor) -> torch.Tensor:
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def _torch_himmelblau(p: torch.Tensor) -> torch.Tensor:
    return (p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2


# name -> (gradient in NumPy, the same function in torch, a start, a stable lr)
FUNCTIONS_2D = {
    "rosenbrock": (opt.rosenbrock_grad, _torch_rosenbrock, (-1.2, 1.0), 1e-3),
    "himmelblau": (opt.himmelblau_grad, _torch_himmelblau, (1.0, 1.0), 5e-3),
}


def _run(module: ModuleType, label: Msg, grad, x0, lr, steps, momentum=0.0, nesterov=False):
    gradient_descent = require(module, "gradient_descent")
    return call(label, gradient_descent, grad, np.array(x0, dtype=float), lr, steps,
                momentum=momentum, nesterov=nesterov)  # fmt: skip


def _torch_trajectory(f_torch, x0, lr, steps, momentum, nesterov) -> np.ndarray:
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    sgd = torch.optim.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov)
    points = [p.detach().clone()]
    for _ in range(steps):
        sgd.zero_grad()
        f_torch(p).backward()
        sgd.step()
        points.append(p.detach().clone())
    return torch.stack(points).numpy()


def _setting(lr, steps, momentum=0.0, nesterov=False) -> str:
    return f"lr={lr}, steps={steps}, momentum={momentum}, nesterov={nesterov}"


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    require(module, "gradient_descent")


def check_shape_and_start(module: ModuleType) -> None:
    for d, steps in ((3, 5), (2, 1), (4, 0)):
        x0 = np.linspace(-1.0, 2.0, d)
        label = Msg(
            f"gradient_descent(grad of |x|^2, x0 of shape ({d},), {_setting(0.1, steps, 0.5)})",
            f"gradient_descent(Gradient von |x|^2, x0 der Form ({d},), "
            f"{_setting(0.1, steps, 0.5)})",
        )
        trajectory = _run(module, label, lambda x: 2 * x, x0, 0.1, steps, momentum=0.5)
        assert_shape(label, trajectory, (steps + 1, d))
        assert_close(
            Msg(f"row 0 of the trajectory ({label.en})", f"Zeile 0 der Bahn ({label.de})"),
            trajectory[0],
            x0,
            atol=0,
            rtol=0,
        )


def check_x0_untouched(module: ModuleType) -> None:
    x0 = np.array([1.5, -0.5, 2.0])
    before = x0.copy()
    label = Msg(
        "x0 after gradient_descent(grad, x0, ...) returned: it must not change",
        "x0, nachdem gradient_descent(grad, x0, ...) zurückkehrte: es darf sich nicht ändern",
    )
    gradient_descent = require(module, "gradient_descent")
    call(label, gradient_descent, QUADRATIC.grad, x0, 0.1, 10, momentum=0.5)
    if not np.array_equal(x0, before):
        raise Mismatch(label, expected=str(before.tolist()), got=str(x0.tolist()))


def check_plain_gradient_descent(module: ModuleType) -> None:
    x0 = np.array([2.0, -1.0, 0.5])
    for lr, steps in ((0.05, 1), (0.1, 30), (0.17, 30)):
        label = Msg(
            f"trajectory on a 3-d quadratic, {_setting(lr, steps)}",
            f"Bahn auf einer 3-d-Quadratik, {_setting(lr, steps)}",
        )
        got = _run(module, label, QUADRATIC.grad, x0, lr, steps)
        assert_close(label, got, opt.gradient_descent(QUADRATIC.grad, x0, lr, steps), **TOL)


def check_heavy_ball(module: ModuleType) -> None:
    x0 = np.array([2.0, -1.0, 0.5])
    for lr, momentum in ((0.05, 0.9), (0.1, 0.5)):
        label = Msg(
            f"trajectory on a 3-d quadratic against Polyak's heavy ball "
            f"x_(k+1) = x_k - lr g_k + momentum (x_k - x_(k-1)), {_setting(lr, 40, momentum)}",
            f"Bahn auf einer 3-d-Quadratik gegen Polyaks Heavy Ball "
            f"x_(k+1) = x_k - lr g_k + momentum (x_k - x_(k-1)), {_setting(lr, 40, momentum)}",
        )
        got = _run(module, label, QUADRATIC.grad, x0, lr, 40, momentum=momentum)
        assert_close(label, got, opt.heavy_ball(QUADRATIC.grad, x0, lr, momentum, 40), **TOL)


def check_nesterov(module: ModuleType) -> None:
    x0 = np.array([2.0, -1.0, 0.5])
    for lr, momentum in ((0.05, 0.9), (0.1, 0.5)):
        label = Msg(
            f"trajectory on a 3-d quadratic against Nesterov's look-ahead points y_k, "
            f"{_setting(lr, 40, momentum, True)}",
            f"Bahn auf einer 3-d-Quadratik gegen Nesterovs Vorausschau-Punkte y_k, "
            f"{_setting(lr, 40, momentum, True)}",
        )
        got = _run(module, label, QUADRATIC.grad, x0, lr, 40, momentum=momentum, nesterov=True)
        expected = opt.nesterov(QUADRATIC.grad, x0, lr, momentum, 40)[1]
        assert_close(label, got, expected, **TOL)


def check_matches_torch_sgd(module: ModuleType) -> None:
    for name, (grad, f_torch, start, lr) in FUNCTIONS_2D.items():
        for momentum, nesterov in ((0.0, False), (0.8, False), (0.9, True), (0.5, True)):
            label = Msg(
                f"trajectory on {name} from {start} against torch.optim.SGD, "
                f"{_setting(lr, 100, momentum, nesterov)}",
                f"Bahn auf {name} ab {start} gegen torch.optim.SGD, "
                f"{_setting(lr, 100, momentum, nesterov)}",
            )
            got = _run(module, label, grad, start, lr, 100, momentum, nesterov)
            expected = _torch_trajectory(f_torch, start, lr, 100, momentum, nesterov)
            assert_close(label, got, expected, **TOL)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "a function gradient_descent(grad, x0, lr, steps, momentum=0.0, nesterov=False)",
            "eine Funktion gradient_descent(grad, x0, lr, steps, momentum=0.0, nesterov=False)",
        ),
        (
            "Define `def gradient_descent(grad, x0, lr, steps, momentum=0.0, nesterov=False):` "
            "at the top level of your file.",
            "Definieren Sie `def gradient_descent(grad, x0, lr, steps, momentum=0.0, "
            "nesterov=False):` auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "shape_and_start",
        (
            "the trajectory is an array of shape (steps + 1, d) whose row 0 is x0",
            "die Bahn ist ein Array der Form (steps + 1, d), dessen Zeile 0 gleich x0 ist",
        ),
        (
            "Put x0 itself (a copy) into the list before the first step, append one point per "
            "step, and return np.array(the_list). If every row equals the last point, you "
            "appended the same array again and again and changed it in place (x -= ...): "
            "append x.copy(), or write x = x - ... which makes a new array.",
            "Legen Sie x0 selbst (eine Kopie) vor dem ersten Schritt in die Liste, hängen Sie "
            "pro Schritt einen Punkt an und geben Sie np.array(liste) zurück. Sind alle Zeilen "
            "gleich dem letzten Punkt, haben Sie immer dasselbe Array angehängt und es direkt "
            "geändert (x -= ...): hängen Sie x.copy() an oder schreiben Sie x = x - ..., das "
            "erzeugt ein neues Array.",
        ),
        check_shape_and_start,
    ),
    check(
        "x0_untouched",
        (
            "the caller's x0 is unchanged after the call",
            "das x0 des Aufrufers ist nach dem Aufruf unverändert",
        ),
        (
            "np.asarray(x0) and x = x0 do not copy: `x -= lr * step` then writes into the "
            "caller's array. Start with x = np.array(x0, dtype=float), which copies.",
            "np.asarray(x0) und x = x0 kopieren nicht: `x -= lr * step` schreibt dann in das "
            "Array des Aufrufers. Beginnen Sie mit x = np.array(x0, dtype=float), das kopiert.",
        ),
        check_x0_untouched,
    ),
    check(
        "plain_gradient_descent",
        (
            "with momentum = 0 every point equals plain gradient descent x <- x - lr g",
            "mit momentum = 0 ist jeder Punkt gleich dem einfachen Gradientenabstieg x <- x - lr g",
        ),
        (
            "Each step is x - lr * grad(x) at the current x, with lr applied once. If lr also "
            "goes into the velocity (b <- mu b + lr g), the step becomes lr^2 g.",
            "Jeder Schritt ist x - lr * grad(x) am aktuellen x, lr genau einmal. Steckt lr "
            "auch in der Geschwindigkeit (b <- mu b + lr g), wird der Schritt zu lr^2 g.",
        ),
        check_plain_gradient_descent,
    ),
    check(
        "heavy_ball",
        (
            "with momentum, the points equal Polyak's heavy ball (torch's SGD momentum)",
            "mit Momentum sind die Punkte gleich Polyaks Heavy Ball (SGD-Momentum von torch)",
        ),
        (
            "Keep the velocity across steps: b = momentum * b + g, with b = 0 before the loop "
            "(not reset inside it), a plus sign, and the full g (no 1 - momentum factor). "
            "Then x = x - lr * b.",
            "Behalten Sie die Geschwindigkeit über die Schritte: b = momentum * b + g, mit b = 0 "
            "vor der Schleife (nicht darin zurückgesetzt), mit Pluszeichen und vollem g (ohne "
            "Faktor 1 - momentum). Dann x = x - lr * b.",
        ),
        check_heavy_ball,
    ),
    check(
        "nesterov",
        (
            "with nesterov=True, the points equal Nesterov's look-ahead sequence",
            "mit nesterov=True sind die Punkte gleich Nesterovs Vorausschau-Folge",
        ),
        (
            "Nesterov steps with g + momentum * b, where b is the velocity already updated "
            "with this step's g. Using b alone is the heavy ball again.",
            "Nesterov schreitet mit g + momentum * b, wobei b die schon mit dem g dieses "
            "Schritts aktualisierte Geschwindigkeit ist. Nur b ist wieder der Heavy Ball.",
        ),
        check_nesterov,
    ),
    check(
        "matches_torch_sgd",
        (
            "100 steps on Rosenbrock and Himmelblau equal torch.optim.SGD(momentum, nesterov)",
            "100 Schritte auf Rosenbrock und Himmelblau gleich torch.optim.SGD(momentum, nesterov)",
        ),
        (
            "Evaluate the gradient at the current point x of each step, and follow the update "
            "order b <- momentum b + g, then x <- x - lr (b or g + momentum b).",
            "Werten Sie den Gradienten in jedem Schritt am aktuellen Punkt x aus und halten "
            "Sie die Reihenfolge ein: b <- momentum b + g, dann x <- x - lr (b bzw. "
            "g + momentum b).",
        ),
        check_matches_torch_sgd,
    ),
]
