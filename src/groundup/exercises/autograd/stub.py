"""Exercise autograd: write three backward rules of a tensor autograd engine, in NumPy.

Each function receives the gradient of the loss with respect to an operation's output
(`grad` / `grad_out`) and returns the gradient with respect to its input(s). Use NumPy only
(no torch). Return new arrays; do not change the arrays you are given.
Run `groundup check autograd` to grade your file.

DE: Übung Autograd: Schreiben Sie drei Rückwärtsregeln einer Tensor-Autograd-Engine in
NumPy. Jede Funktion erhält den Gradienten des Verlusts nach der Ausgabe einer Operation
(`grad` / `grad_out`) und gibt den Gradienten nach ihrer Eingabe bzw. ihren Eingaben zurück.
Nur NumPy (kein torch). Geben Sie neue Arrays zurück und verändern Sie die übergebenen
Arrays nicht. Mit `groundup check autograd` wird Ihre Datei bewertet.
"""

from __future__ import annotations

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` down to `shape`, undoing NumPy broadcasting.

    An input of shape `shape` was broadcast to `grad.shape` in the forward pass: NumPy
    aligned the shapes from the right, prepended new axes and stretched axes of size 1.
    Every copied value influenced several outputs, so its gradient is the sum of their
    gradients.

    grad:  array of the broadcast shape, e.g. (8, 4, 3)
    shape: the input's shape, e.g. (3,), (4, 1), (1, 3) or () for a scalar
    returns: array of exactly `shape`, e.g. (8, 4, 3) -> (4, 1) sums axis 0 and axis 2
             (keeping axis 2 as size 1)

    DE: Summiert `grad` auf die Form `shape` zurück und macht so das Broadcasting von NumPy
    rückgängig. Eine Eingabe der Form `shape` wurde im Vorwärtsschritt auf `grad.shape`
    gebroadcastet: Die Formen werden von rechts ausgerichtet, neue Achsen vorne angefügt und
    Achsen der Größe 1 gestreckt. Jeder kopierte Wert hat mehrere Ausgaben beeinflusst, sein
    Gradient ist daher die Summe ihrer Gradienten. Rückgabe: ein Array mit genau der Form
    `shape`.
    """
    # TODO: 1. sum away the leading axes that broadcasting added (grad.ndim - len(shape) of them)
    #       2. for every axis where shape has 1 but grad has more, sum it with keepdims=True
    # TODO: 1. die vorne hinzugefügten Achsen wegsummieren (grad.ndim - len(shape) viele)
    #       2. jede Achse, die in shape 1 ist, in grad aber größer, mit keepdims=True summieren
    raise NotImplementedError("TODO: unbroadcast")


def matmul_backward(
    a: np.ndarray, b: np.ndarray, grad_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of `out = a @ b` with respect to `a` and `b`.

    a: (..., m, k), b: (..., k, n), grad_out: (..., m, n) = the shape of a @ b.
    Both a and b have at least two dims. The leading (batch) dims follow NumPy
    broadcasting: e.g. a (2, 5, 4, 3) @ b (3, 6) -> out (2, 5, 4, 6), where b was used
    for all ten matrices of the batch.
    For 2-D matrices: grad_a = grad_out @ b^T and grad_b = a^T @ grad_out, where ^T swaps
    the LAST TWO axes only.
    returns: (grad_a, grad_b) with grad_a.shape == a.shape and grad_b.shape == b.shape

    DE: Gradienten von `out = a @ b` nach `a` und `b`. a und b haben mindestens zwei Achsen;
    die vorderen (Batch-)Achsen folgen dem Broadcasting von NumPy. Für 2-D-Matrizen gilt
    grad_a = grad_out @ b^T und grad_b = a^T @ grad_out, wobei ^T nur die LETZTEN BEIDEN
    Achsen vertauscht. Rückgabe: (grad_a, grad_b) mit den Formen von a und b.
    """
    # TODO: use np.swapaxes(x, -1, -2) for the transpose, then unbroadcast both results
    # TODO: transponieren mit np.swapaxes(x, -1, -2), danach beide Ergebnisse unbroadcasten
    raise NotImplementedError("TODO: matmul_backward")


def log_softmax_backward(x: np.ndarray, grad_out: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of `y = log_softmax(x, axis)` with respect to `x`.

    y_i = x_i - log(sum_j exp(x_j)) along `axis`, so dy_i/dx_k = [i == k] - softmax(x)_k
    and the chain rule gives  grad_x = grad_out - softmax(x) * sum(grad_out along axis).

    x, grad_out: arrays of the same shape, any number of dims; axis: the softmax axis.
    returns: grad_x, same shape as x.
    Compute softmax stably: subtract the max along `axis` before np.exp (x may hold values
    like 1000).

    DE: Gradient von `y = log_softmax(x, axis)` nach `x`: grad_x = grad_out - softmax(x) *
    (Summe von grad_out entlang axis). Berechnen Sie softmax numerisch stabil: vor np.exp
    das Maximum entlang `axis` abziehen (x kann Werte wie 1000 enthalten).
    Rückgabe: grad_x in der Form von x.
    """
    # TODO: softmax with the max subtracted, then the formula above (keepdims=True for sums)
    # TODO: softmax mit abgezogenem Maximum, dann die Formel oben (Summen mit keepdims=True)
    raise NotImplementedError("TODO: log_softmax_backward")
