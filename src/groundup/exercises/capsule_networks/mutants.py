"""Planted bugs for the `capsule_networks` exercise, each a full learner file that one check
must catch. They start from SOLUTION, a correct answer written the way a learner would, and
change one thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch


def squash(s, dim=-1, eps=1e-8):
    squared = (s**2).sum(dim=dim, keepdim=True)
    norm = torch.sqrt(squared + eps)
    return squared / (1 + squared) * s / norm


def route(u_hat, iterations):
    b = torch.zeros(u_hat.shape[:-1], dtype=u_hat.dtype)
    for _ in range(iterations):
        c = torch.softmax(b, dim=2)
        s = (c.unsqueeze(-1) * u_hat).sum(dim=1)
        v = squash(s)
        b = b + (u_hat * v.unsqueeze(1)).sum(dim=-1)
    return v, c


def margin_loss(lengths, targets, m_plus=0.9, m_minus=0.1, lam=0.5):
    t = torch.nn.functional.one_hot(targets, lengths.shape[1]).to(lengths.dtype)
    present = t * torch.relu(m_plus - lengths) ** 2
    absent = lam * (1 - t) * torch.relu(lengths - m_minus) ** 2
    return (present + absent).sum(dim=1).mean()
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "squash_keepdim_missing",
        catches="squash_shape",
        source=_plant("sum(dim=dim, keepdim=True)", "sum(dim=dim)"),
        note="|s|^2 loses its axis and broadcasts against the wrong one",
    ),
    Mutant(
        "squash_without_one_plus",
        catches="squash_values",
        source=_plant("squared / (1 + squared)", "squared"),
        note="no 1 + |s|^2: the length becomes |s|, nothing is squashed",
    ),
    Mutant(
        "squash_norm_not_squared",
        catches="squash_values",
        source=_plant("squared / (1 + squared)", "norm / (1 + norm)"),
        note="|s| / (1 + |s|) also lies in [0, 1) but is not Eq. 1",
    ),
    Mutant(
        "squash_without_eps",
        catches="squash_zero_vector",
        source=_plant("torch.sqrt(squared + eps)", "torch.sqrt(squared)"),
        note="right for every non-zero vector; 0/0 and an infinite sqrt' at a zero vector",
    ),
    Mutant(
        "squash_detached_scale",
        catches="squash_gradients",
        source=_plant(
            "return squared / (1 + squared) * s / norm",
            "return (squared / (1 + squared) / norm).detach() * s",
        ),
        note="right values, but the gradient ignores how the length depends on s",
    ),
    Mutant(
        "route_sums_over_parents",
        catches="route_shapes",
        source=_plant("u_hat).sum(dim=1)", "u_hat).sum(dim=2)"),
        note="s summed over the parents instead of the children",
    ),
    Mutant(
        "softmax_over_children",
        catches="coupling_sums_to_one",
        source=_plant("torch.softmax(b, dim=2)", "torch.softmax(b, dim=1)"),
        note="each parent distributes over its children: the wrong axis",
    ),
    Mutant(
        "one_iteration_too_many",
        catches="route_one_iteration",
        source=_plant("range(iterations)", "range(iterations + 1)"),
    ),
    Mutant(
        "one_iteration_too_few",
        catches="route_values",
        source=_plant(
            "    for _ in range(iterations):",
            "    c = torch.softmax(b, dim=2)\n"
            "    v = squash((c.unsqueeze(-1) * u_hat).sum(dim=1))\n"
            "    for _ in range(iterations - 1):",
        ),
        note="runs the loop once less (the first pass written out does not use agreement)",
    ),
    Mutant(
        "no_agreement_update",
        catches="route_values",
        source=_plant("b = b + (u_hat * v.unsqueeze(1)).sum(dim=-1)", "pass"),
        note="every iteration repeats the first: routing never changes anything",
    ),
    Mutant(
        "agreement_with_s",
        catches="route_values",
        source=_plant("(u_hat * v.unsqueeze(1))", "(u_hat * s.unsqueeze(1))"),
        note="the agreement uses the unsquashed s instead of v",
    ),
    Mutant(
        "logits_replaced_not_accumulated",
        catches="route_values",
        source=_plant("b = b + (u_hat", "b = (u_hat"),
        note="b = u_hat . v forgets the earlier iterations (differs from 3 iterations on)",
    ),
    Mutant(
        "agreement_detached",
        catches="route_gradients",
        source=_plant("b = b + (u_hat * v", "b = b + (u_hat.detach() * v.detach()"),
        note="the stop-gradient variant: same values, a different gradient",
    ),
    Mutant(
        "lambda_on_present_class",
        catches="margin_loss_values",
        source=_plant("present = t * torch.relu", "present = lam * t * torch.relu").replace(
            "absent = lam * (1 - t)", "absent = (1 - t)"
        ),
        note="down-weights the wrong term",
    ),
    Mutant(
        "margins_swapped",
        catches="margin_loss_values",
        source=_plant("relu(m_plus - lengths)", "relu(m_minus - lengths)").replace(
            "relu(lengths - m_minus)", "relu(lengths - m_plus)"
        ),
    ),
    Mutant(
        "margin_not_squared",
        catches="margin_loss_values",
        source=_plant("torch.relu(m_plus - lengths) ** 2", "torch.relu(m_plus - lengths)"),
    ),
    Mutant(
        "margin_loss_mean_over_classes",
        catches="margin_loss_values",
        source=_plant("(present + absent).sum(dim=1).mean()", "(present + absent).mean()"),
        note="averages over the classes too, K times too small",
    ),
]
