"""Planted bugs for the `graph-neural-networks` exercise, each a full learner file that one
check must catch.

Two correct answers written the way learners write them, one with broadcasting and one with
diagonal matrices; each mutant changes one thing in one of them.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

BROADCAST = """
import torch


def normalized_adjacency(adjacency):
    n = adjacency.size(0)
    a_tilde = adjacency + torch.eye(n, dtype=adjacency.dtype)
    degree = a_tilde.sum(dim=1)
    scale = degree ** -0.5
    return scale[:, None] * a_tilde * scale[None, :]


def gcn_layer(x, a_norm, weight, bias=None):
    out = a_norm @ (x @ weight)
    if bias is not None:
        out = out + bias
    return out
"""

MATRICES = """
import torch


def normalized_adjacency(adjacency):
    a_tilde = adjacency + torch.eye(len(adjacency), dtype=adjacency.dtype)
    d = torch.diag(a_tilde.sum(dim=1).pow(-0.5))
    return d @ a_tilde @ d


def gcn_layer(x, a_norm, weight, bias=None):
    h = a_norm @ x @ weight
    return h if bias is None else h + bias
"""


def _plant(solution: str, *changes: tuple[str, str]) -> str:
    for old, new in changes:
        assert solution.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
        solution = solution.replace(old, new)
    return solution


MUTANTS: list[Mutant] = [
    Mutant(
        "no_self_loops",
        catches="self_loops",
        source=_plant(
            BROADCAST,
            (
                "    a_tilde = adjacency + torch.eye(n, dtype=adjacency.dtype)\n",
                "    a_tilde = adjacency\n",
            ),
        ),  # fmt: skip
        note="D^-1/2 A D^-1/2: a node forgets its own features",
    ),
    Mutant(
        "inverse_degree_on_both_sides",
        catches="random_graphs",
        source=_plant(MATRICES, ("pow(-0.5)", "pow(-1.0)")),
        note="D^-1 A~ D^-1: symmetric, but every entry shrinks by another 1/sqrt(d_i d_j)",
    ),
    Mutant(
        "degrees_without_self_loops",
        catches="random_graphs",
        source=_plant(BROADCAST, ("degree = a_tilde.sum(dim=1)", "degree = adjacency.sum(dim=1)")),
        note="adds I to the matrix but counts the degrees of A: off by one everywhere",
    ),
    Mutant(
        "row_normalisation",
        catches="symmetric",
        source=_plant(
            BROADCAST,
            (
                "    return scale[:, None] * a_tilde * scale[None, :]\n",
                "    return a_tilde / degree[:, None]\n",
            ),
        ),  # fmt: skip
        note="D^-1 A~, the random-walk (mean) normalisation instead of the symmetric one",
    ),
    Mutant(
        "one_sided_scaling",
        catches="symmetric",
        source=_plant(MATRICES, ("return d @ a_tilde @ d", "return d @ a_tilde")),
        note="D^-1/2 A~: scales the rows only",
    ),
    Mutant(
        "self_loops_only_where_edges",
        catches="isolated_nodes",
        source=_plant(
            BROADCAST,
            (
                "    a_tilde = adjacency + torch.eye(n, dtype=adjacency.dtype)\n",
                "    has_edges = (adjacency.sum(dim=1) > 0).to(adjacency.dtype)\n"
                "    a_tilde = adjacency + torch.diag(has_edges)\n",
            ),
        ),  # fmt: skip
        note="isolated nodes get no self-loop: degree 0, and 0 ** -0.5 is inf",
    ),
    Mutant(
        "weights_binarised",
        catches="weighted",
        source=_plant(
            BROADCAST,
            (
                "    n = adjacency.size(0)\n",
                "    n = adjacency.size(0)\n    adjacency = (adjacency > 0).to(adjacency.dtype)\n",
            ),
        ),  # fmt: skip
        note="treats every edge as weight 1",
    ),
    Mutant(
        "transposed_weights",
        catches="layer_shape",
        source=_plant(BROADCAST, ("out = a_norm @ (x @ weight)", "out = a_norm @ (x @ weight.T)")),
        note="torch.nn.Linear's layout (out, in) instead of the paper's (in, out)",
    ),
    Mutant(
        "bias_before_propagation",
        catches="layer_values",
        source=_plant(
            MATRICES,
            (
                "    h = a_norm @ x @ weight\n    return h if bias is None else h + bias\n",
                "    h = x @ weight\n    if bias is not None:\n        h = h + bias\n"
                "    return a_norm @ h\n",
            ),
        ),  # fmt: skip
        note="A^ (X W + b): the bias is scaled by the row sums of A^, which are not 1",
    ),
    Mutant(
        "scaled_instead_of_propagated",
        catches="layer_values",
        source=_plant(
            BROADCAST,
            ("out = a_norm @ (x @ weight)", "out = (x @ weight) * a_norm.sum(dim=1, keepdim=True)"),
        ),
        note="applies the normalisation after the weight as a per-node scale: no neighbours",
    ),
    Mutant(
        "relu_inside_layer",
        catches="layer_values",
        source=_plant(MATRICES, ("h = a_norm @ x @ weight", "h = torch.relu(a_norm @ x @ weight)")),
        note="the activation belongs between the layers; the last layer returns logits",
    ),
    Mutant(
        "detached_through_numpy",
        catches="layer_gradients",
        source=_plant(
            BROADCAST,
            (
                "out = a_norm @ (x @ weight)",
                "out = torch.from_numpy(a_norm.numpy() @ (x.detach().numpy() @ weight.detach().numpy()))",
            ),
        ),  # fmt: skip
        note="leaves torch: the values are right, no gradient reaches x or weight",
    ),
]
