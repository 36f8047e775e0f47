"""Planted bugs for the `regularization` exercise, each a full learner file one check must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch


def batch_norm(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    dims = [0] + list(range(2, x.dim()))
    shape = [1, x.size(1)] + [1] * (x.dim() - 2)
    if training:
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
        n = x.numel() // x.size(1)
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
    else:
        mean, var = running_mean, running_var
    y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
    if weight is not None:
        y = y * weight.view(shape)
    if bias is not None:
        y = y + bias.view(shape)
    return y
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "no_broadcast_shape",
        catches="shapes",
        source=_plant(
            "y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)",
            "y = (x - mean) / torch.sqrt(var + eps)",
        ),
        note="(C,) statistics broadcast against the last axis, not the channel axis",
    ),
    Mutant(
        "wrong_axis",
        catches="train_output",
        source=_plant("dims = [0] + list(range(2, x.dim()))", "dims = list(range(1, x.dim()))"),
        note="normalises each example over its channels: layer norm, not batch norm",
    ),
    Mutant(
        "eps_outside_sqrt",
        catches="train_output",
        source=_plant("torch.sqrt(var.view(shape) + eps)", "(torch.sqrt(var.view(shape)) + eps)"),
        note="sqrt(var) + eps instead of sqrt(var + eps): wrong for small variances",
    ),
    Mutant(
        "unbiased_normalisation",
        catches="train_output",
        source=_plant("var = x.var(dim=dims, unbiased=False)", "var = x.var(dim=dims)"),
        note="normalises with the unbiased variance; torch uses the biased one there",
    ),
    Mutant(
        "statistics_detached",
        catches="gradients",
        source=_plant("mean = x.mean(dim=dims)", "mean = x.detach().mean(dim=dims)"),
        note="right values, but no gradient flows through the batch mean",
    ),
    Mutant(
        "momentum_reversed",
        catches="running_mean",
        source=_plant(
            """            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))""",
            """            running_mean.mul_(momentum).add_((1 - momentum) * mean)
            running_var.mul_(momentum).add_((1 - momentum) * var * n / (n - 1))""",
        ),
        note="momentum weighs the old value (the Keras convention), not the new batch",
    ),
    Mutant(
        "running_stats_not_updated",
        catches="running_mean",
        source=_plant(
            """        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
""",
            "",
        ),
    ),
    Mutant(
        "running_stats_rebound",
        catches="running_mean",
        source=_plant(
            """            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))""",
            """            running_mean = (1 - momentum) * running_mean + momentum * mean
            running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)""",
        ),
        note="assigns new tensors to local names; the caller's tensors never change",
    ),
    Mutant(
        "running_stats_keep_graph",
        catches="running_mean",
        source=_plant(
            """        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))""",
            """        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))""",
        ),
        note="updates outside torch.no_grad(): the running statistics drag the graph along",
    ),
    Mutant(
        "biased_running_var",
        catches="running_var",
        source=_plant("momentum * var * n / (n - 1)", "momentum * var"),
        note="feeds the biased variance into the running estimate",
    ),
    Mutant(
        "eval_uses_batch_statistics",
        catches="eval_mode",
        source=_plant(
            "        mean, var = running_mean, running_var",
            "        mean, var = x.mean(dim=dims), x.var(dim=dims, unbiased=False)",
        ),
        note="at inference the output depends on the rest of the batch",
    ),
    Mutant(
        "eval_updates_running_stats",
        catches="eval_mode",
        source=_plant(
            """    if training:
        mean = x.mean(dim=dims)""",
            """    if not training:
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * x.mean(dim=dims))
    if training:
        mean = x.mean(dim=dims)""",
        ),
        note="changes the running mean while evaluating",
    ),
    Mutant(
        "n_is_batch_size",
        catches="per_channel_4d",
        source=_plant("n = x.numel() // x.size(1)", "n = x.size(0)"),
        note="counts only the examples, not N * H * W values per channel, in n / (n - 1)",
    ),
    Mutant(
        "affine_required",
        catches="no_affine",
        source=_plant(
            """    if weight is not None:
        y = y * weight.view(shape)
    if bias is not None:
        y = y + bias.view(shape)""",
            """    y = y * weight.view(shape) + bias.view(shape)""",
        ),
        note="fails when weight and bias are None",
    ),
]
