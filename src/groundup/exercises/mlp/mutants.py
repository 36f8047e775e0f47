"""Planted bugs for the `mlp` exercise, each a full learner file that one check must catch.

One correct answer written the way learners write it; each mutant changes one thing in it.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import math

import torch


def linear(x, weight, bias=None):
    y = x @ weight.T
    if bias is not None:
        y = y + bias
    return y


def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def kaiming_normal_(tensor, generator=None):
    fan_in = tensor.shape[1]
    std = math.sqrt(2 / fan_in)
    with torch.no_grad():
        tensor.normal_(0.0, std, generator=generator)
    return tensor
"""


def _plant(*changes: tuple[str, str]) -> str:
    solution = SOLUTION
    for old, new in changes:
        assert solution.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
        solution = solution.replace(old, new)
    return solution


MUTANTS: list[Mutant] = [
    Mutant(
        "weight_not_transposed",
        catches="linear_shapes",
        source=_plant(("y = x @ weight.T", "y = x @ weight")),
        note="reads weight as (in, out): the product fails, or has the wrong shape",
    ),
    Mutant(
        "bias_inside_matmul",
        catches="linear_values",
        source=_plant(
            (
                "    y = x @ weight.T\n    if bias is not None:\n        y = y + bias\n",
                "    if bias is not None:\n        weight = weight + bias[:, None]\n"
                "    y = x @ weight.T\n",
            ),
        ),  # fmt: skip
        note="adds the bias to the weights before the product: y gains sum(x) * bias",
    ),
    Mutant(
        "bias_broadcast_over_wrong_axis",
        catches="linear_shapes",
        source=_plant(("y = y + bias", "y = y + bias[:, None]")),
        note="bias as a column (out, 1): broadcasting builds the wrong shape",
    ),
    Mutant(
        "bias_ignored",
        catches="linear_values",
        source=_plant(("        y = y + bias\n", "        pass\n")),
        note="never adds the bias",
    ),
    Mutant(
        "bias_none_crashes",
        catches="linear_no_bias",
        source=_plant(("    if bias is not None:\n        y = y + bias\n", "    y = y + bias\n")),
        note="always adds the bias, so bias=None raises",
    ),
    Mutant(
        "linear_detached",
        catches="linear_gradients",
        source=_plant(("y = x @ weight.T", "y = x.detach() @ weight.T")),
        note="cuts x out of the graph: the gradient never reaches x",
    ),
    Mutant(
        "gelu_tanh_approximation",
        catches="gelu_values",
        source=_plant(
            (
                "0.5 * x * (1 + torch.erf(x / math.sqrt(2)))",
                "0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))",
            )
        ),
        note="the tanh approximation where the exact GELU is asked",
    ),
    Mutant(
        "relu_instead_of_gelu",
        catches="gelu_values",
        source=_plant(("0.5 * x * (1 + torch.erf(x / math.sqrt(2)))", "torch.relu(x)")),
        note="ReLU: equal far from zero, wrong near it",
    ),
    Mutant(
        "gelu_missing_sqrt",
        catches="gelu_values",
        source=_plant(("torch.erf(x / math.sqrt(2))", "torch.erf(x / 2)")),
        note="erf(x / 2) instead of erf(x / sqrt(2)): the CDF of the wrong normal",
    ),
    Mutant(
        "gelu_cdf_detached",
        catches="gelu_gradients",
        source=_plant(("torch.erf(x / math.sqrt(2))", "torch.erf(x.detach() / math.sqrt(2))")),
        note="right values, but the gradient misses the derivative of Phi",
    ),
    Mutant(
        "kaiming_returns_new_tensor",
        catches="kaiming_in_place",
        source=_plant(
            (
                "    with torch.no_grad():\n        tensor.normal_(0.0, std, generator=generator)\n"
                "    return tensor\n",
                "    return torch.randn(tensor.shape, generator=generator) * std\n",
            )
        ),
        note="returns fresh numbers and leaves the given tensor untouched",
    ),
    Mutant(
        "kaiming_fan_out",
        catches="kaiming_statistics",
        source=_plant(("fan_in = tensor.shape[1]", "fan_in = tensor.shape[0]")),
        note="uses fan_out (rows of the (out, in) weight) instead of fan_in",
    ),
    Mutant(
        "kaiming_missing_sqrt",
        catches="kaiming_statistics",
        source=_plant(("std = math.sqrt(2 / fan_in)", "std = 2 / fan_in")),
        note="uses the variance as the standard deviation",
    ),
    Mutant(
        "kaiming_without_gain",
        catches="kaiming_statistics",
        source=_plant(("std = math.sqrt(2 / fan_in)", "std = math.sqrt(1 / fan_in)")),
        note="LeCun's 1 / fan_in: ReLU halves the signal at every layer",
    ),
    Mutant(
        "kaiming_global_generator",
        catches="kaiming_generator",
        source=_plant(
            ("tensor.normal_(0.0, std, generator=generator)", "tensor.normal_(0.0, std)")
        ),
        note="ignores the generator and draws from the global random state",
    ),
    Mutant(
        "kaiming_uniform_with_the_right_std",
        catches="kaiming_matches_torch",
        source=_plant(
            (
                "tensor.normal_(0.0, std, generator=generator)",
                "tensor.uniform_(-math.sqrt(3) * std, math.sqrt(3) * std, generator=generator)",
            )
        ),
        note="uniform with the same variance: the statistics pass, the distribution is wrong",
    ),
]
