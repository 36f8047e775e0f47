"""Planted bugs for the `interpretation` exercise, each a full learner file that one check must
catch.

The correct answer below is written the way learners write it: saliency with
torch.autograd.grad, integrated gradients as a loop over the points of the path; each mutant
changes one thing in it.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch


def saliency(model, x, target, absolute=True):
    x = x.detach().requires_grad_(True)
    out = model(x).gather(1, target.view(-1, 1)).sum()
    (grad,) = torch.autograd.grad(out, x)
    return grad.abs() if absolute else grad


def integrated_gradients(model, x, target, baseline, steps=50, method="riemann_middle"):
    k = torch.arange(steps, dtype=x.dtype)
    weights = torch.full((steps,), 1.0 / steps, dtype=x.dtype)
    if method == "riemann_left":
        alphas = k / steps
    elif method == "riemann_right":
        alphas = (k + 1) / steps
    elif method == "riemann_middle":
        alphas = (k + 0.5) / steps
    else:
        alphas = k / (steps - 1)
        weights = torch.full((steps,), 1.0 / (steps - 1), dtype=x.dtype)
        weights[0] = weights[0] / 2
        weights[-1] = weights[-1] / 2
    total = torch.zeros_like(x)
    for alpha, weight in zip(alphas, weights):
        point = baseline + alpha * (x - baseline)
        total = total + weight * saliency(model, point, target, absolute=False)
    return (x - baseline) * total
"""


def _plant(*changes: tuple[str, str]) -> str:
    source = SOLUTION
    for old, new in changes:
        assert source.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
        source = source.replace(old, new)
    return source


MUTANTS: list[Mutant] = [
    Mutant(
        "no_distance_factor",
        catches="ig_linear",
        source=_plant(("    return (x - baseline) * total\n", "    return total\n")),
        note="the averaged gradient without the factor (x - baseline)",
    ),
    Mutant(
        "predicted_class",
        catches="saliency_absolute",
        source=_plant(
            (
                "out = model(x).gather(1, target.view(-1, 1)).sum()",
                "logits = model(x)\n    out = logits.gather(1, logits.argmax(1, keepdim=True)).sum()",
            )
        ),
        note="the gradient of the predicted class instead of the target class",
    ),
    Mutant(
        "first_target_for_all",
        catches="saliency_absolute",
        source=_plant(
            (
                "out = model(x).gather(1, target.view(-1, 1)).sum()",
                "out = model(x)[:, target[0]].sum()",
            )
        ),
        note="the first example's class for every example of the batch",
    ),
    Mutant(
        "left_includes_both_ends",
        catches="ig_rules",
        source=_plant(("        alphas = k / steps\n", "        alphas = k / (steps - 1)\n")),
        note="riemann_left on torch.linspace(0, 1, steps): 1 is included as well as 0",
    ),
    Mutant(
        "right_starts_at_zero",
        catches="ig_rules",
        source=_plant(("        alphas = (k + 1) / steps\n", "        alphas = k / steps\n")),
        note="riemann_right evaluated at the left edges",
    ),
    Mutant(
        "trapezoid_width_one_over_steps",
        catches="ig_rules",
        source=_plant(
            (
                "        weights = torch.full((steps,), 1.0 / (steps - 1), dtype=x.dtype)\n",
                "",
            )
        ),
        note="trapezoid weights 1/steps with halved ends: they add up to 1 - 1/steps",
    ),
    Mutant(
        "no_division_by_steps",
        catches="ig_linear",
        source=_plant(
            (
                "    weights = torch.full((steps,), 1.0 / steps, dtype=x.dtype)\n",
                "    weights = torch.ones(steps, dtype=x.dtype)\n",
            )
        ),
        note="the gradients summed over the steps, not averaged",
    ),
    Mutant(
        "baseline_is_x",
        catches="ig_linear",
        source=_plant(
            (
                "    k = torch.arange(steps, dtype=x.dtype)\n",
                "    baseline = x.clone()\n    k = torch.arange(steps, dtype=x.dtype)\n",
            )
        ),
        note="the baseline overwritten by the input: every attribution is zero",
    ),
    Mutant(
        "abs_before_summing",
        catches="ig_linear",
        source=_plant(
            (
                "saliency(model, point, target, absolute=False)",
                "saliency(model, point, target, absolute=True)",
            )
        ),
        note="absolute gradients summed along the path: the signs are lost",
    ),
    Mutant(
        "saliency_never_absolute",
        catches="saliency_absolute",
        source=_plant(("    return grad.abs() if absolute else grad\n", "    return grad\n")),
        note="absolute=True ignored",
    ),
    Mutant(
        "saliency_always_absolute",
        catches="saliency_signed",
        source=_plant(("    return grad.abs() if absolute else grad\n", "    return grad.abs()\n")),
        note="absolute=False ignored",
    ),
    Mutant(
        "path_from_zero",
        catches="ig_linear",
        source=_plant(
            (
                "        point = baseline + alpha * (x - baseline)\n",
                "        point = alpha * x\n",
            ),
            ("    return (x - baseline) * total\n", "    return x * total\n"),
        ),
        note="the black baseline assumed whatever baseline is given",
    ),
]
