"""Planted bugs for the `optimization` exercise, each a full learner file that one check must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import numpy as np


def gradient_descent(grad, x0, lr, steps, momentum=0.0, nesterov=False):
    x = np.array(x0, dtype=float)
    velocity = np.zeros_like(x)
    trajectory = [x.copy()]
    for _ in range(steps):
        g = grad(x)
        velocity = momentum * velocity + g
        if nesterov:
            step = g + momentum * velocity
        else:
            step = velocity
        x = x - lr * step
        trajectory.append(x.copy())
    return np.array(trajectory)
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "trajectory_missing_x0",
        catches="shape_and_start",
        source=_plant("    trajectory = [x.copy()]\n", "    trajectory = []\n"),
        note="returns only the points after each step: shape (steps, d)",
    ),
    Mutant(
        "one_step_short",
        catches="shape_and_start",
        source=_plant("range(steps)", "range(steps - 1)"),
        note="counts the start as a step",
    ),
    Mutant(
        "rows_alias_one_array",
        catches="shape_and_start",
        source=_plant(
            "    trajectory = [x.copy()]\n",
            "    trajectory = [x]\n",
        ).replace(
            "        x = x - lr * step\n        trajectory.append(x.copy())\n",
            "        x -= lr * step\n        trajectory.append(x)\n",
        ),
        note="stores the same array in every row and updates it in place: every row ends up "
        "as the last point",
    ),
    Mutant(
        "x0_updated_in_place",
        catches="x0_untouched",
        source=_plant(
            "    x = np.array(x0, dtype=float)\n", "    x = np.asarray(x0, dtype=float)\n"
        ).replace("        x = x - lr * step\n", "        x -= lr * step\n"),
        note="np.asarray does not copy a float64 array: the in-place step walks the caller's x0",
    ),
    Mutant(
        "lr_applied_twice",
        catches="plain_gradient_descent",
        source=_plant(
            "        velocity = momentum * velocity + g\n",
            "        velocity = momentum * velocity + lr * g\n",
        ),
        note="puts lr into the velocity and again into the step: steps of lr^2 g",
    ),
    Mutant(
        "momentum_sign_error",
        catches="heavy_ball",
        source=_plant(
            "        velocity = momentum * velocity + g\n",
            "        velocity = g - momentum * velocity\n",
        ),
        note="subtracts the old velocity: momentum brakes instead of carrying on",
    ),
    Mutant(
        "velocity_not_carried_over",
        catches="heavy_ball",
        source=_plant(
            "        velocity = momentum * velocity + g\n",
            "        velocity = np.zeros_like(x)\n        velocity = momentum * velocity + g\n",
        ),
        note="resets the velocity every step: plain gradient descent whatever the momentum",
    ),
    Mutant(
        "dampened_velocity",
        catches="heavy_ball",
        source=_plant(
            "        velocity = momentum * velocity + g\n",
            "        velocity = momentum * velocity + (1 - momentum) * g\n",
        ),
        note="the exponential-average form: a valid method, but with an lr 1/(1 - momentum) "
        "times smaller than torch's",
    ),
    Mutant(
        "nesterov_lookahead_missing",
        catches="nesterov",
        source=_plant(
            "            step = g + momentum * velocity\n", "            step = velocity\n"
        ),
        note="ignores nesterov=True: the heavy ball again",
    ),
    Mutant(
        "nesterov_with_old_velocity",
        catches="nesterov",
        source=_plant(
            "        velocity = momentum * velocity + g\n        if nesterov:\n"
            "            step = g + momentum * velocity\n",
            "        if nesterov:\n            step = g + momentum * velocity\n"
            "        velocity = momentum * velocity + g\n        if nesterov:\n"
            "            pass\n",
        ),
        note="looks ahead with the velocity from before this step's gradient",
    ),
]
