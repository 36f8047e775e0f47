"""Planted bugs for the `calculus` exercise, each a full learner file that one check must catch.

They start from SOLUTION, a correct answer written the way a learner would (perturbing x in
place and putting it back), and change one thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import numpy as np


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def jacobian(f, x, h=1e-5):
    m = np.asarray(f(x)).size
    J = np.zeros((m, x.size))
    for j in range(x.size):
        old = x[j]
        x[j] = old + h
        f_plus = np.array(f(x), dtype=float)
        x[j] = old - h
        f_minus = np.array(f(x), dtype=float)
        x[j] = old
        J[:, j] = (f_plus - f_minus) / (2 * h)
    return J
"""


def _plant(old: str, new: str, count: int = 1) -> str:
    assert SOLUTION.count(old) == count, f"mutant anchor not found {count} times: {old!r}"
    return SOLUTION.replace(old, new)


GRADIENT_QUOTIENT = "        grad[i] = (f_plus - f_minus) / (2 * h)\n"

MUTANTS: list[Mutant] = [
    Mutant(
        name="forward_differences",
        catches="gradient_accurate",
        source=_plant(
            "        x[i] = old - h\n        f_minus = f(x)\n        x[i] = old\n"
            + GRADIENT_QUOTIENT,
            "        x[i] = old\n        f_minus = f(x)\n        grad[i] = (f_plus - f_minus) / h\n",
        ),
        note="(f(x + h) - f(x)) / h: error O(h) ~ 1e-5 instead of O(h^2)",
    ),
    Mutant(
        name="divides_by_h",
        catches="gradient_matches_autograd",
        source=_plant(GRADIENT_QUOTIENT, "        grad[i] = (f_plus - f_minus) / h\n"),
        note="the two points are 2h apart; dividing by h doubles the gradient",
    ),
    Mutant(
        name="perturbs_all_coordinates",
        catches="gradient_matches_autograd",
        source=_plant(
            "        x[i] = old + h\n        f_plus = f(x)\n        x[i] = old - h\n"
            "        f_minus = f(x)\n",
            "        f_plus = f(x + h)\n        f_minus = f(x - h)\n",
        ),
        note="every entry gets the directional derivative along (1, 1, ..., 1)",
    ),
    Mutant(
        name="does_not_restore_x",
        catches="leaves_input_unchanged",
        source=_plant("        f_minus = f(x)\n        x[i] = old\n", "        f_minus = f(x)\n"),
        note="x is left at old - h in every coordinate",
    ),
    Mutant(
        name="jacobian_transposed",
        catches="jacobian_shape",
        source=_plant("    return J\n", "    return J.T\n"),
        note="rows are inputs and columns outputs",
    ),
    Mutant(
        name="h_too_large",
        catches="gradient_accurate",
        source=_plant(
            "def numerical_gradient(f, x, h=1e-5):\n",
            "def numerical_gradient(f, x, h=1e-5):\n    h = 1e-2\n",
        ),
        note="truncation error h^2 f''' / 6 ~ 1e-4",
    ),
    Mutant(
        name="h_too_small",
        catches="gradient_accurate",
        source=_plant(
            "def numerical_gradient(f, x, h=1e-5):\n",
            "def numerical_gradient(f, x, h=1e-5):\n    h = 1e-12\n",
        ),
        note="round-off eps |f| / h ~ 1e-3 swamps the derivative's digits",
    ),
    Mutant(
        name="ignores_h",
        catches="uses_given_h",
        source=_plant(
            "def jacobian(f, x, h=1e-5):\n", "def jacobian(f, x, h=1e-5):\n    h = 1e-5\n"
        ),
        note="the default step is written in, whatever h the caller passes",
    ),
    Mutant(
        name="gradient_flattened",
        catches="gradient_shape",
        source=_plant("    return grad\n", "    return grad.ravel()\n"),
        note="the gradient of a (2, 3) x comes back as (6,)",
    ),
    Mutant(
        name="jacobian_forward_differences",
        catches="jacobian_matches_autograd",
        source=_plant(
            "        x[j] = old - h\n        f_minus = np.array(f(x), dtype=float)\n"
            "        x[j] = old\n        J[:, j] = (f_plus - f_minus) / (2 * h)\n",
            "        x[j] = old\n        f_minus = np.array(f(x), dtype=float)\n"
            "        J[:, j] = (f_plus - f_minus) / h\n",
        ),
        note="the Jacobian with O(h) forward differences",
    ),
    Mutant(
        name="jacobian_keeps_views",
        catches="jacobian_of_a_view",
        source=_plant("np.array(f(x), dtype=float)", "f(x)", count=2),
        note="f(x) = x[1:] shares memory with x: both kept outputs end equal to x[1:]",
    ),
]
