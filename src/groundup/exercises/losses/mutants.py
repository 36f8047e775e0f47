"""Planted bugs for the `losses` exercise, each a full learner file that one check must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch


def bce_with_logits(logits, targets):
    loss = logits.clamp(min=0) - logits * targets + torch.log1p(torch.exp(-logits.abs()))
    return loss.mean()


def cross_entropy(logits, targets, label_smoothing=0.0):
    m = logits.amax(dim=1, keepdim=True)
    log_p = logits - m - torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
    nll = -log_p.gather(1, targets[:, None]).squeeze(1)
    uniform = -log_p.mean(dim=1)
    loss = (1 - label_smoothing) * nll + label_smoothing * uniform
    return loss.mean()
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


BCE_RETURN = "    return loss.mean()\n\n\ndef cross_entropy"
BCE_LINE = (
    "    loss = logits.clamp(min=0) - logits * targets + torch.log1p(torch.exp(-logits.abs()))"
)

MUTANTS: list[Mutant] = [
    Mutant(
        "bce_mean_over_last_axis",
        catches="bce_shape",
        source=_plant(BCE_RETURN, BCE_RETURN.replace(".mean()", ".mean(dim=-1)")),
        note="averages only the last axis: one loss per row instead of one number",
    ),
    Mutant(
        "bce_sign_error",
        catches="bce_values",
        source=_plant("- logits * targets", "+ logits * targets"),
        note="+x*y instead of -x*y: rewards confident wrong answers",
    ),
    Mutant(
        "bce_sum_instead_of_mean",
        catches="bce_values",
        source=_plant(BCE_RETURN, BCE_RETURN.replace(".mean()", ".sum()")),
    ),
    Mutant(
        "bce_logits_detached",
        catches="bce_gradients",
        source=_plant(BCE_LINE, "    logits = logits.detach()\n" + BCE_LINE),
        note="right values, but no gradient reaches the logits",
    ),
    Mutant(
        "bce_naive_sigmoid_then_log",
        catches="bce_extreme_logits",
        source=_plant(
            BCE_LINE,
            "    p = torch.sigmoid(logits)\n"
            "    loss = -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p))",
        ),
        note="sigmoid(100) == 1.0 exactly, then log(1 - 1) = -inf: inf or nan at large logits",
    ),
    Mutant(
        "bce_clamped_log",
        catches="bce_extreme_logits",
        source=_plant(
            BCE_LINE,
            "    p = torch.sigmoid(logits)\n"
            "    log_p = torch.log(p).clamp(min=-100)\n"
            "    log_not_p = torch.log(1 - p).clamp(min=-100)\n"
            "    loss = -(targets * log_p + (1 - targets) * log_not_p)",
        ),
        note="torch's clamp for probability inputs: finite, but caps the loss at 100 and "
        "zeroes the gradient of a confident wrong answer",
    ),
    Mutant(
        "ce_sum_instead_of_mean",
        catches="ce_values",
        source=_plant("* uniform\n    return loss.mean()", "* uniform\n    return loss.sum()"),
        note="sums over the examples: the loss grows with the batch size",
    ),
    Mutant(
        "ce_softmax_over_examples",
        catches="ce_values",
        source=_plant(
            "    m = logits.amax(dim=1, keepdim=True)\n"
            "    log_p = logits - m - torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))",
            "    m = logits.amax(dim=0, keepdim=True)\n"
            "    log_p = logits - m - torch.log(torch.exp(logits - m).sum(dim=0, keepdim=True))",
        ),
        note="normalises each class over the batch instead of each example over the classes",
    ),
    Mutant(
        "ce_mean_over_all_entries",
        catches="ce_values",
        source=_plant(
            "    nll = -log_p.gather(1, targets[:, None]).squeeze(1)",
            "    onehot = torch.nn.functional.one_hot(targets, logits.size(1)).to(logits.dtype)\n"
            "    nll = -(onehot * log_p).mean(dim=1)",
        ),
        note="averages the one-hot product over the C classes too: off by a factor of C",
    ),
    Mutant(
        "ce_no_max_shift",
        catches="ce_extreme_logits",
        source=_plant(
            "    m = logits.amax(dim=1, keepdim=True)",
            "    m = torch.zeros_like(logits[:, :1])",
        ),
        note="exp(100) overflows float32 (and exp(1000) float64): inf - inf = nan",
    ),
    Mutant(
        "ce_one_shift_for_the_batch",
        catches="ce_extreme_logits",
        source=_plant("    m = logits.amax(dim=1, keepdim=True)", "    m = logits.max()"),
        note="one maximum for all rows: rows far below it underflow to exp(...) = 0, log(0)",
    ),
    Mutant(
        "ce_smoothing_over_other_classes",
        catches="ce_label_smoothing",
        source=_plant(
            "    uniform = -log_p.mean(dim=1)",
            "    others = -log_p.sum(dim=1) + nll\n    uniform = others / (logits.size(1) - 1)",
        ),
        note="spreads eps over the C-1 wrong classes instead of all C",
    ),
    Mutant(
        "ce_smoothing_on_target_only",
        catches="ce_label_smoothing",
        source=_plant(
            "    loss = (1 - label_smoothing) * nll + label_smoothing * uniform",
            "    loss = (1 - label_smoothing + label_smoothing / logits.size(1)) * nll",
        ),
        note="shrinks the target's weight to 1 - eps + eps/C but forgets the eps/C on the "
        "other classes",
    ),
    Mutant(
        "ce_smoothing_weights_swapped",
        catches="ce_label_smoothing",
        source=_plant(
            "    loss = (1 - label_smoothing) * nll + label_smoothing * uniform",
            "    loss = label_smoothing * nll + (1 - label_smoothing) * uniform",
        ),
        note="mixes the wrong way round: eps = 0.1 puts 90 % of the target on uniform",
    ),
]
