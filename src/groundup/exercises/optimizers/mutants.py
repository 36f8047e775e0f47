"""Planted bugs for the `optimizers` exercise, each a full learner file that one check must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import math

import torch


def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay=0.0, decoupled=False):
    if decoupled:
        param.mul_(1 - lr * weight_decay)
    else:
        grad = grad + weight_decay * param
    m.mul_(beta1).add_((1 - beta1) * grad)
    v.mul_(beta2).add_((1 - beta2) * grad * grad)
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    param.sub_(lr * m_hat / (torch.sqrt(v_hat) + eps))
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "no_bias_correction",
        catches="first_step",
        source=_plant(
            "    m_hat = m / (1 - beta1**t)\n    v_hat = v / (1 - beta2**t)\n",
            "    m_hat = m\n    v_hat = v\n",
        ),
        note="uses m and v directly: the first steps are sqrt(1 - beta2) / (1 - beta1) off",
    ),
    Mutant(
        "bias_correction_t_plus_one",
        catches="first_step",
        source=_plant(
            "    m_hat = m / (1 - beta1**t)\n    v_hat = v / (1 - beta2**t)\n",
            "    m_hat = m / (1 - beta1 ** (t + 1))\n    v_hat = v / (1 - beta2 ** (t + 1))\n",
        ),
        note="counts steps from 0 and adds one too many",
    ),
    Mutant(
        "v_not_squared",
        catches="first_step",
        source=_plant("(1 - beta2) * grad * grad", "(1 - beta2) * grad.abs()"),
        note="averages |g| instead of g^2",
    ),
    Mutant(
        "param_rebound",
        catches="first_step",
        source=_plant(
            "    param.sub_(lr * m_hat / (torch.sqrt(v_hat) + eps))",
            "    param = param - lr * m_hat / (torch.sqrt(v_hat) + eps)",
        ),
        note="makes a new tensor: the caller's parameter never moves",
    ),
    Mutant(
        "moments_rebound",
        catches="state_updated",
        source=_plant(
            "    m.mul_(beta1).add_((1 - beta1) * grad)\n"
            "    v.mul_(beta2).add_((1 - beta2) * grad * grad)\n",
            "    m = beta1 * m + (1 - beta1) * grad\n"
            "    v = beta2 * v + (1 - beta2) * grad * grad\n",
        ),
        note="rebinds m and v locally: the caller's state stays at zero, every step is a "
        "first step",
    ),
    Mutant(
        "moments_store_corrected",
        catches="state_updated",
        source=_plant(
            "    m_hat = m / (1 - beta1**t)\n    v_hat = v / (1 - beta2**t)\n",
            "    m.div_(1 - beta1**t)\n    v.div_(1 - beta2**t)\n    m_hat, v_hat = m, v\n",
        ),
        note="writes the bias-corrected values back into the state",
    ),
    Mutant(
        "betas_swapped",
        catches="matches_adam",
        source=_plant(
            "    m.mul_(beta1).add_((1 - beta1) * grad)\n"
            "    v.mul_(beta2).add_((1 - beta2) * grad * grad)\n",
            "    m.mul_(beta2).add_((1 - beta2) * grad)\n"
            "    v.mul_(beta1).add_((1 - beta1) * grad * grad)\n",
        ),
        note="invisible at t=1 (bias correction cancels the betas), wrong from step 2",
    ),
    Mutant(
        "eps_inside_sqrt",
        catches="matches_adam",
        source=_plant("(torch.sqrt(v_hat) + eps)", "torch.sqrt(v_hat + eps)"),
    ),
    Mutant(
        "l2_decay_ignored",
        catches="l2_weight_decay",
        source=_plant(
            "    else:\n        grad = grad + weight_decay * param\n",
            "",
        ),
        note="weight decay only for AdamW",
    ),
    Mutant(
        "grad_changed_in_place",
        catches="l2_weight_decay",
        source=_plant(
            "grad = grad + weight_decay * param", "grad = grad.add_(weight_decay * param)"
        ),
        note="right update, but the caller's param.grad now holds the decayed gradient",
    ),
    Mutant(
        "decay_coupled_when_decoupled",
        catches="matches_adamw",
        source=_plant(
            "    if decoupled:\n        param.mul_(1 - lr * weight_decay)\n"
            "    else:\n        grad = grad + weight_decay * param\n",
            "    grad = grad + weight_decay * param\n",
        ),
        note="AdamW treated like Adam with L2: the decay is divided by sqrt(v) like any gradient",
    ),
    Mutant(
        "decoupled_decay_without_lr",
        catches="matches_adamw",
        source=_plant("param.mul_(1 - lr * weight_decay)", "param.mul_(1 - weight_decay)"),
    ),
]
