"""Graph convolution against PyTorch Geometric's GCNConv and gcn_norm, and against networkx.

Random graphs are drawn by hypothesis: 1 to 12 nodes, directed edges with duplicates, some
self-loops already present (at most one per node), isolated nodes, with and without
positive edge weights, and every combination of PyG's flags normalize, add_self_loops and
improved. Tolerances: float64, atol 1e-12 and rtol 1e-10 for values and for the gradients
with respect to x, weight, bias and the edge weights (both sides sum the same products in
another order, so only rounding differs). Weights are copied into PyG's layer transposed:
its lin.weight is (out, in), ours (in, out). One difference is deliberate: PyG 2.8 applies
`improved` (self-loops of weight 2) only when edge weights are passed, ours always does, so
with `improved` PyG gets explicit weights of 1.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor
from torch_geometric.nn import GCNConv as PygGCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm as pyg_gcn_norm
from torch_geometric.utils import to_dense_adj

from groundup.nn.gcn import (
    GCN,
    GCNConv,
    add_self_loops,
    adjacency,
    edges_from_networkx,
    gcn_conv,
    gcn_norm,
    masked_cross_entropy,
    normalize_adjacency,
    propagate,
    sparse_adjacency,
)

F64 = {"atol": 1e-12, "rtol": 1e-10}
FAST = settings(max_examples=40, deadline=None)


@st.composite
def graphs(draw: st.DrawFn) -> dict:
    """A random directed multigraph as an edge list; node n-1 is isolated when n > 2."""
    n = draw(st.integers(1, 12))
    linked = max(1, n - 1) if n > 2 else n  # leave the last node without edges
    pairs = st.tuples(st.integers(0, linked - 1), st.integers(0, linked - 1))
    edges = draw(st.lists(pairs.filter(lambda p: p[0] != p[1]), max_size=30))
    loops = draw(st.sets(st.integers(0, n - 1), max_size=n))  # at most one loop per node
    edges += [(i, i) for i in sorted(loops)]
    edge_index = torch.tensor(edges, dtype=torch.long).view(-1, 2).T.contiguous()
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    weighted = draw(st.booleans())
    weight = (
        torch.rand(edge_index.size(1), generator=g, dtype=torch.float64) + 0.1 if weighted else None
    )
    return {"n": n, "edge_index": edge_index, "edge_weight": weight, "seed": seed}


def features(case: dict, in_features: int = 3) -> Tensor:
    g = torch.Generator().manual_seed(case["seed"] + 1)
    return torch.randn(case["n"], in_features, generator=g, dtype=torch.float64)


def layer_pair(flags: dict, bias: bool = True) -> tuple[GCNConv, PygGCNConv]:
    """Our layer and PyG's with the same weights (PyG's bias is random here, not zero)."""
    theirs = PygGCNConv(3, 4, bias=bias, **flags).double()
    if bias:
        torch.nn.init.normal_(theirs.bias)
    ours_flags = {"improved": flags["improved"], "normalize": flags["normalize"]}
    ours = GCNConv(3, 4, bias=bias, self_loops=flags["add_self_loops"], **ours_flags).double()
    with torch.no_grad():
        ours.weight.copy_(theirs.lin.weight.T)  # PyG (out, in) -> ours (in, out)
        if bias:
            ours.bias.copy_(theirs.bias)
    return ours, theirs


# PyG refuses add_self_loops without normalize (self-loops come with the normalisation)
FLAGS = st.fixed_dictionaries(
    {"improved": st.booleans(), "add_self_loops": st.booleans(), "normalize": st.booleans()}
).filter(lambda flags: flags["normalize"] or not flags["add_self_loops"])


@FAST
@given(case=graphs(), flags=FLAGS, bias=st.booleans())
def test_matches_torch_geometric_gcnconv_values_and_gradients(
    case: dict, flags: dict, bias: bool
) -> None:
    ours, theirs = layer_pair(flags, bias)
    x, ei, w = features(case), case["edge_index"], case["edge_weight"]
    # PyG 2.8 ignores `improved` when it gets no edge weights (add_remaining_self_loops only
    # fills in weights it is given); ours doubles the loops either way, so PyG gets explicit 1s
    their_w = torch.ones(ei.size(1), dtype=torch.float64) if w is None and flags["improved"] else w
    results = []
    for layer, weight, edge_w in ((ours, ours.weight, w), (theirs, theirs.lin.weight, their_w)):
        xs = x.clone().requires_grad_()
        ws = None if edge_w is None else edge_w.clone().requires_grad_()
        out = layer(xs, ei, ws)
        upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(7)).double()
        leaves = [xs, weight] + ([layer.bias] if bias else []) + ([ws] if w is not None else [])
        grads = torch.autograd.grad(out, leaves, upstream, allow_unused=True)
        results.append((out.detach(), grads))
    (out, grads), (expected, expected_grads) = results
    torch.testing.assert_close(out, expected, **F64)
    names = ["x", "weight", "bias", "edge_weight"] if bias else ["x", "weight", "edge_weight"]
    for name, a, b in zip(names, grads, expected_grads, strict=False):
        if name == "weight":
            b = b.T  # the layouts differ, the gradients are transposes of each other
        if b is None:  # PyG gives None for an edge weight that never reaches the output
            b = torch.zeros_like(a)
        torch.testing.assert_close(a, b, **F64, msg=lambda m, name=name: f"{name}: {m}")


@FAST
@given(case=graphs(), self_loops=st.booleans(), improved=st.booleans())
def test_matches_torch_geometric_gcn_norm_dense_and_sparse(
    case: dict, self_loops: bool, improved: bool
) -> None:
    n, ei, w = case["n"], case["edge_index"], case["edge_weight"]
    if w is None:
        w = torch.ones(ei.size(1), dtype=torch.float64)
    their_index, their_weight = pyg_gcn_norm(ei, w, n, improved=improved, add_self_loops=self_loops)
    # to_dense_adj puts edge (source, target) at [source, target]; ours at [target, source]
    expected = to_dense_adj(their_index, edge_attr=their_weight, max_num_nodes=n)[0].T
    dense = normalize_adjacency(adjacency(ei, n, w), self_loops, improved)
    our_index, our_weight = gcn_norm(ei, n, w, self_loops, improved)
    torch.testing.assert_close(dense, expected, **F64)
    torch.testing.assert_close(adjacency(our_index, n, our_weight), expected, **F64)


@FAST
@given(case=graphs(), width=st.integers(1, 5))
def test_dense_index_add_and_torch_sparse_propagation_agree(case: dict, width: int) -> None:
    n, ei, w = case["n"], case["edge_index"], case["edge_weight"]
    h = features(case, width)
    if w is None:
        w = torch.ones(ei.size(1), dtype=torch.float64)
    index, weight = gcn_norm(ei, n, w)
    dense = normalize_adjacency(adjacency(ei, n, w)) @ h
    by_index_add = propagate(index, weight, h)
    by_torch_sparse = torch.sparse.mm(sparse_adjacency(index, weight, n), h)
    torch.testing.assert_close(by_index_add, dense, **F64)
    torch.testing.assert_close(by_torch_sparse, dense, **F64)


@FAST
@given(
    n=st.integers(2, 15),
    p=st.floats(0.0, 0.6),
    seed=st.integers(0, 2**16),
    weighted=st.booleans(),
    some_loops=st.booleans(),
)
def test_matches_networkx_normalized_laplacian(
    n: int, p: float, seed: int, weighted: bool, some_loops: bool
) -> None:
    """I - L of the graph with self-loops is D^-1/2 (A + I) D^-1/2 (networkx documents that
    with self-loops D = diag(row sums of A), which is our degree)."""
    graph = nx.gnp_random_graph(n, p, seed=seed)  # sparse ones have isolated nodes
    rng = np.random.default_rng(seed)
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(rng.uniform(0.1, 2.0)) if weighted else 1.0
    if some_loops:  # loops that are already there keep their weight
        for i in range(0, n, 3):
            graph.add_edge(i, i, weight=float(rng.uniform(0.5, 2.0)))
    edge_index, weight = edges_from_networkx(graph, "weight", dtype=torch.float64)
    ours = normalize_adjacency(adjacency(edge_index, n, weight))

    with_loops = graph.copy()
    with_loops.add_edges_from((i, i, {"weight": 1.0}) for i in range(n) if not graph.has_edge(i, i))
    laplacian = nx.normalized_laplacian_matrix(with_loops, nodelist=range(n), weight="weight")
    expected = np.eye(n) - laplacian.toarray()
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-12, rtol=1e-10)


def test_edges_from_networkx_give_networkx_adjacency() -> None:
    graph = nx.karate_club_graph()
    edge_index, weight = edges_from_networkx(graph, "weight")
    assert edge_index.shape == (2, 2 * graph.number_of_edges())
    expected = nx.to_numpy_array(graph, nodelist=range(34), weight="weight")
    np.testing.assert_array_equal(adjacency(edge_index, 34, weight).numpy(), expected)
    unweighted, none = edges_from_networkx(graph)
    assert none is None
    np.testing.assert_array_equal(adjacency(unweighted, 34).numpy(), (expected > 0) * 1.0)

    directed = nx.DiGraph([(0, 1), (1, 2), (2, 2)])
    index, _ = edges_from_networkx(directed)
    # networkx rows are sources; ours are targets (what a node receives)
    np.testing.assert_array_equal(adjacency(index, 3).numpy(), nx.to_numpy_array(directed).T)


def test_add_self_loops_keeps_existing_loops() -> None:
    a = torch.tensor([[0.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 0.0]])
    expected = torch.tensor([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    assert torch.equal(add_self_loops(a, 2.0), expected)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 12), p=st.floats(0.2, 0.9), seed=st.integers(0, 2**16))
def test_spectrum_lies_in_minus_one_to_one_with_top_eigenvector_sqrt_degree(
    n: int, p: float, seed: int
) -> None:
    """Why the symmetric normalisation: eigenvalues of D^-1/2 (A+I) D^-1/2 lie in (-1, 1] and
    the eigenvalue 1 belongs to D^1/2 1, so repeated layers neither explode nor vanish."""
    graph = nx.gnp_random_graph(n, p, seed=seed)
    a = adjacency(edges_from_networkx(graph)[0], n).double()
    a_norm = normalize_adjacency(a)
    eigenvalues = torch.linalg.eigvalsh(a_norm)
    assert eigenvalues.min() > -1 - 1e-12 and eigenvalues.max() < 1 + 1e-12
    sqrt_degree = (a + torch.eye(n, dtype=torch.float64)).sum(1).sqrt()
    torch.testing.assert_close(a_norm @ sqrt_degree, sqrt_degree, **F64)


def test_two_layers_see_exactly_two_hops() -> None:
    """On a path 0-1-2-3-4 the logits of node 0 depend on nodes 0, 1, 2 and on nothing else."""
    edge_index, _ = edges_from_networkx(nx.path_graph(5))
    torch.manual_seed(0)
    model = GCN(3, 2, hidden=(4,), dropout=0.0).double()
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    logits, hidden = model(x, edge_index)
    assert logits.shape == (5, 2) and hidden.shape == (5, 4)
    (grad,) = torch.autograd.grad(logits[0].sum(), x)
    reached = grad.abs().sum(dim=1) > 0
    assert reached.tolist() == [True, True, True, False, False]


def test_dense_layer_equals_edge_list_layer() -> None:
    graph = nx.karate_club_graph()
    edge_index, weight = edges_from_networkx(graph, "weight")
    layer = GCNConv(34, 5).double()
    x = torch.eye(34, dtype=torch.float64)
    a_norm = normalize_adjacency(adjacency(edge_index, 34, weight.double()))
    dense = gcn_conv(x, a_norm, layer.weight, layer.bias)
    torch.testing.assert_close(layer(x, edge_index, weight.double()), dense, **F64)


def test_masked_loss_uses_only_labelled_nodes() -> None:
    logits = torch.randn(6, 3, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    mask = torch.tensor([True, False, False, True, False, False])
    loss = masked_cross_entropy(logits, labels, mask)
    expected = torch.nn.functional.cross_entropy(logits[[0, 3]], labels[[0, 3]])
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert (logits.grad[~mask] == 0).all() and (logits.grad[mask] != 0).any()


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gcn_eval_is_deterministic_and_train_uses_dropout(activation: str) -> None:
    edge_index, _ = edges_from_networkx(nx.cycle_graph(6))
    torch.manual_seed(1)
    model = GCN(4, 3, hidden=(8, 2), dropout=0.5, activation=activation)
    x = torch.randn(6, 4)
    model.eval()
    assert torch.equal(model(x, edge_index)[0], model(x, edge_index)[0])
    assert model(x, edge_index)[1].shape == (6, 2)
    model.train()
    assert not torch.equal(model(x, edge_index)[0], model(x, edge_index)[0])
