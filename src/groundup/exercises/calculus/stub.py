"""Exercise `calculus`: derivatives by central differences, checked against torch.autograd.

Write
- `numerical_gradient(f, x, h=1e-5)`: the gradient of a scalar function f at x, for x of any
  shape, and
- `jacobian(f, x, h=1e-5)`: the Jacobian matrix of a vector function f at a vector x.
`groundup check calculus` compares both with torch.autograd.functional.jacobian (float64) on
several functions, measures how accurate they are, and makes sure x is left as it was.

DE: Übung `calculus`: Ableitungen durch zentrale Differenzenquotienten, geprüft gegen
torch.autograd. Schreiben Sie `numerical_gradient(f, x, h=1e-5)`, den Gradienten einer
skalaren Funktion f an der Stelle x (x beliebiger Form), und `jacobian(f, x, h=1e-5)`, die
Jacobi-Matrix einer vektorwertigen Funktion f an einem Vektor x. `groundup check calculus`
vergleicht beide mit torch.autograd.functional.jacobian (float64) auf mehreren Funktionen,
misst ihre Genauigkeit und stellt sicher, dass x unverändert bleibt.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of a scalar function by central differences.

    f: takes an array of x's shape and returns one number.
    x: float64 array of any shape, e.g. (5,) or (2, 3).
    Returns an array of the same shape as x:  grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h),
    where e_i is 1 at position i and 0 elsewhere: one coordinate at a time, with the h you
    are given. When you return, x must hold exactly the values it held before (copy it, or
    put every coordinate back after perturbing it).

    DE: Gradient einer skalaren Funktion durch zentrale Differenzen. f nimmt ein Array von
    der Form von x und gibt eine Zahl zurück; x ist ein float64-Array beliebiger Form.
    Rückgabe: Array derselben Form wie x mit grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h),
    wobei e_i an Position i eine 1 hat und sonst 0: eine Koordinate nach der anderen, mit
    dem übergebenen h. Danach muss x genau die alten Werte enthalten (kopieren Sie es, oder
    setzen Sie jede Koordinate nach dem Verschieben zurück).
    """
    # Hint: np.ndindex(x.shape) walks over every position of an array of any shape.
    raise NotImplementedError("TODO: numerical_gradient")


def jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Jacobian of a vector function by central differences.

    f: takes a vector of shape (n,) and returns a vector of shape (m,).
    x: float64 array of shape (n,).
    Returns J of shape (m, n) with J[i, j] = d f_i / d x_j: row i is the gradient of output i,
    column j is (f(x + h e_j) - f(x - h e_j)) / (2 h). x must be unchanged afterwards. f may
    return a view into its input (e.g. x[1:]), so copy what it returns before you change x.

    DE: Jacobi-Matrix einer vektorwertigen Funktion durch zentrale Differenzen. f nimmt einen
    Vektor der Form (n,) und gibt einen Vektor der Form (m,) zurück; x hat die Form (n,).
    Rückgabe: J der Form (m, n) mit J[i, j] = d f_i / d x_j: Zeile i ist der Gradient von
    Ausgabe i, Spalte j ist (f(x + h e_j) - f(x - h e_j)) / (2 h). x muss danach unverändert
    sein. f darf eine Sicht (View) auf seine Eingabe zurückgeben (etwa x[1:]); kopieren Sie
    also, was f liefert, bevor Sie x verändern.
    """
    raise NotImplementedError("TODO: jacobian")
