"""Exercise `optimization`: gradient descent with momentum and Nesterov momentum.

Write `gradient_descent(grad, x0, lr, steps, momentum=0.0, nesterov=False)`. It starts at x0,
takes `steps` steps and returns the whole trajectory, an array of shape (steps + 1, d) whose
row 0 is x0 and whose row k is the point after k steps. Momentum is written the way
torch.optim.SGD writes it (dampening 0), with a velocity b that starts at zero:

    g <- grad(x)
    b <- momentum * b + g
    x <- x - lr * b                     (nesterov=False: heavy ball)
    x <- x - lr * (g + momentum * b)    (nesterov=True: look one velocity step ahead)

With momentum = 0 both are plain gradient descent, x <- x - lr * g. `groundup check
optimization` compares your trajectories with groundup.math.optimization and with
torch.optim.SGD(momentum=..., nesterov=...) on the same functions.

DE: Übung `optimization`: Gradientenabstieg mit Momentum und Nesterov-Momentum. Schreiben
Sie `gradient_descent(grad, x0, lr, steps, momentum=0.0, nesterov=False)`. Die Funktion
beginnt bei x0, macht `steps` Schritte und gibt die ganze Bahn zurück, ein Array der Form
(steps + 1, d): Zeile 0 ist x0, Zeile k der Punkt nach k Schritten. Das Momentum wird wie in
torch.optim.SGD geschrieben (ohne Dämpfung), mit einer Geschwindigkeit b, die bei null
beginnt (Formeln oben). `groundup check optimization` vergleicht Ihre Bahnen mit
groundup.math.optimization und mit torch.optim.SGD(momentum=..., nesterov=...).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def gradient_descent(
    grad: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    lr: float,
    steps: int,
    momentum: float = 0.0,
    nesterov: bool = False,
) -> np.ndarray:
    """Run `steps` steps of gradient descent from x0; return all points, shape (steps + 1, d).

    grad:     a function that takes a point (shape (d,)) and returns the gradient there.
    x0:       the start, shape (d,), float64. Do NOT change it: the caller keeps using it.
    lr:       the step size (learning rate).
    steps:    how many steps; steps = 0 returns x0 alone, shape (1, d).
    momentum: mu in b <- mu b + g; 0 means plain gradient descent.
    nesterov: if True, step with g + mu b instead of b.
    Careful: `x -= ...` changes the array in place. If that array is x0, or a row you already
    stored in the trajectory, you overwrite it. Store copies (x.copy()) or make new arrays.

    DE: Macht `steps` Schritte ab x0 und gibt alle Punkte zurück, Form (steps + 1, d).
    grad: Funktion, die zu einem Punkt (Form (d,)) den Gradienten liefert. x0: Startpunkt,
    Form (d,), float64; NICHT verändern, der Aufrufer braucht ihn noch. lr: Schrittweite.
    steps = 0 liefert nur x0, Form (1, d). momentum: mu in b <- mu b + g. nesterov: mit
    g + mu b statt b schreiten. Vorsicht: `x -= ...` ändert das Array direkt; ist es x0 oder
    eine schon gespeicherte Zeile, wird diese überschrieben. Speichern Sie Kopien (x.copy()).
    """
    # 1. x = a float copy of x0, velocity b = zeros, trajectory = [x0 as the first row]
    # 2. for each step: g = grad(x); b = momentum * b + g; the step is b, or g + momentum * b
    # 3. x = x - lr * step; append a copy of x
    # 4. return the rows stacked into one array (np.array(list_of_rows))
    raise NotImplementedError("TODO: gradient_descent")
