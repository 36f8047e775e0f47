"""Checks for the `graph-neural-networks` exercise, against groundup.nn.gcn.

groundup.nn.gcn is itself proven equal to PyTorch Geometric's GCNConv and to networkx's
normalised Laplacian (tests/nn/test_gcn.py); the grader compares with it so that it needs
no torch_geometric. Inputs are float64 with fixed seeds, so a correct answer agrees to about
1e-15; the tolerance (atol 1e-10, rtol 1e-8) leaves room only for rounding. The random
graphs have very different degrees, so a row or one-sided normalisation cannot pass by
symmetry, and the layers have in != out, so transposed weights cannot pass either.
"""

from __future__ import annotations

from types import ModuleType

import networkx as nx
import torch
from torch import Tensor

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    assert_true,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg
from groundup.nn.gcn import adjacency, edges_from_networkx, gcn_conv, normalize_adjacency

FUNCTIONS = ["normalized_adjacency", "gcn_layer"]

REFERENCE = (
    "from groundup.nn.gcn import gcn_conv as gcn_layer\n"
    "from groundup.nn.gcn import normalize_adjacency as normalized_adjacency\n"
)

TOL = {"atol": 1e-10, "rtol": 1e-8}


def _dense(graph: nx.Graph, weight: str | None = None) -> Tensor:
    edge_index, w = edges_from_networkx(graph, weight, dtype=torch.float64)
    if w is None:
        w = torch.ones(edge_index.size(1), dtype=torch.float64)
    return adjacency(edge_index, graph.number_of_nodes(), w)


def _random_graph(seed: int, n: int, p: float) -> Tensor:
    """An Erdos-Renyi graph plus a spanning path, so no node is isolated."""
    graph = nx.gnp_random_graph(n, p, seed=seed)
    graph.add_edges_from((i, i + 1) for i in range(n - 1))
    return _dense(graph)


def _normalized(module: ModuleType, a: Tensor, label: Msg) -> Tensor:
    fn = require(module, "normalized_adjacency")
    return call(label, fn, a.clone())


def _compare_adjacency(module: ModuleType, a: Tensor, what: str) -> None:
    label = Msg(
        f"normalized_adjacency(A) for {what} ({a.size(0)} nodes)",
        f"normalized_adjacency(A) für {what} ({a.size(0)} Knoten)",
    )
    assert_close(label, _normalized(module, a, label), normalize_adjacency(a), **TOL)


def _layer_inputs(seed: int, n: int, d_in: int, d_out: int) -> tuple[Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    a_norm = normalize_adjacency(_random_graph(seed, n, 0.3))
    x = torch.randn(n, d_in, generator=g, dtype=torch.float64)
    weight = torch.randn(d_in, d_out, generator=g, dtype=torch.float64)
    bias = torch.randn(d_out, generator=g, dtype=torch.float64)
    return x, a_norm, weight, bias


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_adjacency_shape(module: ModuleType) -> None:
    for n in (1, 4, 7):
        a = _random_graph(n, n, 0.4)
        label = Msg(
            f"normalized_adjacency(A of shape ({n}, {n})).shape",
            f"normalized_adjacency(A der Form ({n}, {n})).shape",
        )
        assert_shape(label, _normalized(module, a, label), (n, n))


def check_self_loops(module: ModuleType) -> None:
    """The path 0 - 1 - 2 by hand: with self-loops the degrees are 2, 3, 2."""
    a = _dense(nx.path_graph(3))
    s2, s6 = 1 / 2, 1 / 6**0.5  # 1/sqrt(2*2) and 1/sqrt(2*3)
    expected = torch.tensor(
        [[s2, s6, 0.0], [s6, 1 / 3, s6], [0.0, s6, s2]], dtype=torch.float64
    )  # fmt: skip
    label = Msg(
        "normalized_adjacency for the path 0 - 1 - 2 (degrees with self-loops: 2, 3, 2)",
        "normalized_adjacency für den Pfad 0 - 1 - 2 (Grade mit Selbstschleifen: 2, 3, 2)",
    )
    assert_close(label, _normalized(module, a, label), expected, **TOL)


def check_symmetric(module: ModuleType) -> None:
    """A star with a tail: degrees from 2 to 6, so a one-sided scaling is not symmetric."""
    graph = nx.star_graph(5)
    graph.add_edges_from([(5, 6), (6, 7)])
    a = _dense(graph)
    label = Msg(
        "normalized_adjacency(A) of a star with a tail equals its transpose",
        "normalized_adjacency(A) eines Sterns mit Schwanz ist gleich seiner Transponierten",
    )
    got = _normalized(module, a, label)
    assert_shape(label, got, (8, 8))
    assert_close(label, got, got.T, **TOL)
    _compare_adjacency(module, a, "a star with a tail")


def check_random_graphs(module: ModuleType) -> None:
    for seed, (n, p) in enumerate([(6, 0.5), (10, 0.3), (15, 0.2)]):
        _compare_adjacency(module, _random_graph(100 + seed, n, p), "a random graph")


def check_isolated_nodes(module: ModuleType) -> None:
    """Nodes 5 and 6 have no edges: A + I gives them degree 1 and a 1 on the diagonal."""
    graph = nx.cycle_graph(5)
    graph.add_nodes_from([5, 6])
    a = _dense(graph)
    label = Msg(
        "normalized_adjacency(A) with two isolated nodes (5 and 6)",
        "normalized_adjacency(A) mit zwei isolierten Knoten (5 und 6)",
    )
    got = _normalized(module, a, label)
    assert_shape(label, got, (7, 7))
    finite = bool(torch.isfinite(torch.as_tensor(got)).all())
    assert_true(label, finite, "finite numbers only", "inf or nan (a degree of 0?)")
    _compare_adjacency(module, a, "a cycle with two isolated nodes")


def check_weighted(module: ModuleType) -> None:
    graph = nx.gnp_random_graph(9, 0.4, seed=7)
    graph.add_edges_from((i, i + 1) for i in range(8))
    g = torch.Generator().manual_seed(7)
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(torch.rand(1, generator=g) * 3 + 0.1)
    _compare_adjacency(module, _dense(graph, "weight"), "a graph with edge weights")


def check_layer_shape(module: ModuleType) -> None:
    gcn_layer = require(module, "gcn_layer")
    for seed, (n, d_in, d_out) in enumerate([(5, 3, 2), (8, 4, 6)]):
        x, a_norm, weight, bias = _layer_inputs(seed, n, d_in, d_out)
        label = Msg(
            f"gcn_layer(x {(n, d_in)}, a_norm {(n, n)}, weight {(d_in, d_out)}, bias).shape",
            f"gcn_layer(x {(n, d_in)}, a_norm {(n, n)}, weight {(d_in, d_out)}, bias).shape",
        )
        assert_shape(label, call(label, gcn_layer, x, a_norm, weight, bias), (n, d_out))


def check_layer_values(module: ModuleType) -> None:
    gcn_layer = require(module, "gcn_layer")
    for seed, (n, d_in, d_out, with_bias) in enumerate(
        [(6, 3, 4, False), (9, 5, 2, True), (12, 4, 4, True)]
    ):
        x, a_norm, weight, bias = _layer_inputs(200 + seed, n, d_in, d_out)
        b = bias if with_bias else None
        text = f"gcn_layer(x {(n, d_in)}, a_norm, weight {(d_in, d_out)}, bias={with_bias})"
        label = Msg(text, text)
        got = call(label, gcn_layer, x.clone(), a_norm.clone(), weight.clone(), b)
        assert_close(label, got, gcn_conv(x, a_norm, weight, b), **TOL)


def check_layer_gradients(module: ModuleType) -> None:
    gcn_layer = require(module, "gcn_layer")
    x, a_norm, weight, bias = _layer_inputs(300, 8, 5, 3)
    mine = [t.clone().requires_grad_() for t in (x, weight, bias)]
    theirs = [t.clone().requires_grad_() for t in (x, weight, bias)]
    label = Msg(
        "gradients of sum(gcn_layer(x, a_norm, weight, bias) * g) w.r.t. x, weight and bias",
        "Gradienten von sum(gcn_layer(x, a_norm, weight, bias) * g) nach x, weight und bias",
    )
    out = call(label, gcn_layer, mine[0], a_norm, mine[1], mine[2])
    if not isinstance(out, Tensor) or out.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to x, weight and bias by autograd (it has a grad_fn)",
            got=describe(out) + ("" if not isinstance(out, Tensor) else ", grad_fn None"),
        )
    expected = gcn_conv(theirs[0], a_norm, theirs[1], theirs[2])
    assert_shape(label, out, tuple(expected.shape))
    upstream = torch.randn(
        expected.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    call(label, (out * upstream).sum().backward)
    (expected * upstream).sum().backward()
    for name, a, t in zip(["x", "weight", "bias"], mine, theirs, strict=True):
        grad_label = Msg(f"{name}.grad", f"{name}.grad")
        if a.grad is None:
            raise Mismatch(
                grad_label,
                expected=f"a gradient for {name} of shape {tuple(t.shape)}",
                got=f"None: no gradient flowed back to {name} (.detach(), numpy, no_grad?)",
            )
        assert_close(grad_label, a.grad, t.grad, **TOL)


def check_two_layers_on_karate(module: ModuleType) -> None:
    """Both functions together: a two-layer GCN on the karate club, identity features."""
    normalized_adjacency = require(module, "normalized_adjacency")
    gcn_layer = require(module, "gcn_layer")
    a = _dense(nx.karate_club_graph())
    g = torch.Generator().manual_seed(34)
    x = torch.eye(34, dtype=torch.float64)
    w0, w1 = (torch.randn(34, 8, generator=g), torch.randn(8, 4, generator=g))
    w0, w1 = w0.double(), w1.double()
    label = Msg(
        "logits = gcn_layer(relu(gcn_layer(x, A^, W0)), A^, W1) on the karate club, "
        "A^ = normalized_adjacency(A)",
        "Logits = gcn_layer(relu(gcn_layer(x, A^, W0)), A^, W1) auf dem Karateclub, "
        "A^ = normalized_adjacency(A)",
    )
    a_hat = call(label, normalized_adjacency, a.clone())
    hidden = torch.relu(torch.as_tensor(call(label, gcn_layer, x, a_hat, w0, None)))
    got = call(label, gcn_layer, hidden, a_hat, w1, None)
    a_ref = normalize_adjacency(a)
    expected = gcn_conv(torch.relu(gcn_conv(x, a_ref, w0)), a_ref, w1)
    assert_close(label, got, expected, **TOL)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions normalized_adjacency(adjacency) and gcn_layer(x, a_norm, weight, bias)",
            "Funktionen normalized_adjacency(adjacency) und gcn_layer(x, a_norm, weight, bias)",
        ),
        (
            "Define both functions at the top level of your file, with these names.",
            "Definieren Sie beide Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "adjacency_shape",
        (
            "normalized_adjacency returns an (n, n) tensor",
            "normalized_adjacency gibt einen (n, n)-Tensor zurück",
        ),
        (
            "Return a matrix of the same shape as A; the identity is torch.eye(n, "
            "dtype=adjacency.dtype). Row sums: adjacency.sum(dim=1) gives (n,).",
            "Geben Sie eine Matrix derselben Form wie A zurück; die Einheitsmatrix ist "
            "torch.eye(n, dtype=adjacency.dtype). Zeilensummen: adjacency.sum(dim=1) hat "
            "die Form (n,).",
        ),
        check_adjacency_shape,
    ),
    check(
        "self_loops",
        (
            "values for the path 0 - 1 - 2, computed by hand",
            "Werte für den Pfad 0 - 1 - 2, von Hand gerechnet",
        ),
        (
            "Add the self-loops first: A~ = A + I. Then the diagonal is 1/d_i, not 0, and "
            "the degrees (2, 3, 2 here) are the row sums of A~. Entry (i, j) is "
            "a~_ij / sqrt(d_i * d_j).",
            "Fügen Sie zuerst die Selbstschleifen hinzu: A~ = A + I. Dann ist die Diagonale "
            "1/d_i statt 0, und die Grade (hier 2, 3, 2) sind die Zeilensummen von A~. "
            "Eintrag (i, j) ist a~_ij / sqrt(d_i * d_j).",
        ),
        check_self_loops,
    ),
    check(
        "symmetric",
        (
            "the normalisation is symmetric: D^-1/2 on the left AND on the right",
            "die Normalisierung ist symmetrisch: D^-1/2 links UND rechts",
        ),
        (
            "D^-1 A~ (dividing each row by its degree) averages the neighbours but is not "
            "symmetric. Scale row i by d_i^-1/2 and column j by d_j^-1/2: "
            "s[:, None] * A~ * s[None, :] with s = d ** -0.5.",
            "D^-1 A~ (jede Zeile durch ihren Grad teilen) mittelt die Nachbarn, ist aber nicht "
            "symmetrisch. Skalieren Sie Zeile i mit d_i^-1/2 und Spalte j mit d_j^-1/2: "
            "s[:, None] * A~ * s[None, :] mit s = d ** -0.5.",
        ),
        check_symmetric,
    ),
    check(
        "random_graphs",
        (
            "values on random graphs with 6 to 15 nodes",
            "Werte auf Zufallsgraphen mit 6 bis 15 Knoten",
        ),
        (
            "The exponent is -1/2 on both sides (not -1), and the degrees are the row sums "
            "of A + I, not of A: every node counts itself once.",
            "Der Exponent ist auf beiden Seiten -1/2 (nicht -1), und die Grade sind die "
            "Zeilensummen von A + I, nicht von A: jeder Knoten zählt sich selbst einmal mit.",
        ),
        check_random_graphs,
    ),
    check(
        "isolated_nodes",
        (
            "isolated nodes get degree 1 and stay finite",
            "isolierte Knoten bekommen Grad 1 und bleiben endlich",
        ),
        (
            "With the self-loop an isolated node has degree 1 and keeps exactly its own "
            "features (a 1 on the diagonal). Add I to every node, also those without edges; "
            "0 ** -0.5 is inf.",
            "Mit der Selbstschleife hat ein isolierter Knoten Grad 1 und behält genau seine "
            "eigenen Merkmale (eine 1 auf der Diagonale). Addieren Sie I für jeden Knoten, "
            "auch für die ohne Kanten; 0 ** -0.5 ist inf.",
        ),
        check_isolated_nodes,
    ),
    check(
        "weighted",
        ("values with edge weights", "Werte mit Kantengewichten"),
        (
            "A weighted edge counts with its weight, in A~ and in the degree (the row sum), "
            "not as 1. Do not turn A into 0/1.",
            "Eine gewichtete Kante zählt mit ihrem Gewicht, in A~ und im Grad (der "
            "Zeilensumme), nicht als 1. Machen Sie A nicht zu 0/1.",
        ),
        check_weighted,
    ),
    check(
        "layer_shape",
        (
            "gcn_layer returns (n, out) for weight (in, out)",
            "gcn_layer gibt (n, out) zurück bei weight (in, out)",
        ),
        (
            "weight has the paper's layout (in, out) and multiplies from the right: "
            "x @ weight, not x @ weight.T (that is torch.nn.Linear's layout).",
            "weight hat das Layout des Artikels (in, out) und wird von rechts multipliziert: "
            "x @ weight, nicht x @ weight.T (das ist das Layout von torch.nn.Linear).",
        ),
        check_layer_shape,
    ),
    check(
        "layer_values",
        (
            "gcn_layer values: a_norm @ x @ weight + bias",
            "Werte von gcn_layer: a_norm @ x @ weight + bias",
        ),
        (
            "Propagate with a matrix product, a_norm @ (x @ weight), then add the bias once "
            "per node. Adding it before the propagation scales it by the row sums of a_norm, "
            "which are not 1. No ReLU inside the layer.",
            "Propagieren Sie mit einem Matrixprodukt, a_norm @ (x @ weight), und addieren Sie "
            "dann den Bias einmal pro Knoten. Vor der Propagation addiert, wird er mit den "
            "Zeilensummen von a_norm skaliert, und die sind nicht 1. Keine ReLU in der Schicht.",
        ),
        check_layer_values,
    ),
    check(
        "layer_gradients",
        (
            "gradients of gcn_layer with respect to x, weight and bias",
            "Gradienten von gcn_layer nach x, weight und bias",
        ),
        (
            "Stay inside torch: no .numpy(), .detach(), .item() or torch.no_grad(), so that "
            "autograd can follow every operation back to x, weight and bias.",
            "Bleiben Sie in torch: kein .numpy(), .detach(), .item() oder torch.no_grad(), "
            "damit autograd jede Operation bis zu x, weight und bias zurückverfolgen kann.",
        ),
        check_layer_gradients,
    ),
    check(
        "two_layers_on_karate",
        (
            "both together: a two-layer GCN on the karate club",
            "beide zusammen: ein zweischichtiges GCN auf dem Karateclub",
        ),
        (
            "normalized_adjacency once, then gcn_layer, ReLU, gcn_layer, all with the same "
            "normalised matrix. If the single checks pass, compare dtypes: keep float64.",
            "Einmal normalized_adjacency, dann gcn_layer, ReLU, gcn_layer, alles mit derselben "
            "normalisierten Matrix. Wenn die einzelnen Prüfungen bestehen, vergleichen Sie "
            "die dtypes: bleiben Sie bei float64.",
        ),
        check_two_layers_on_karate,
    ),
]
