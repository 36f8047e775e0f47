"""Graph convolution (Kipf & Welling 2017): a layer that mixes each node with its neighbours.

A graph with n nodes is an adjacency matrix A (n, n) plus node features X (n, F). One GCN
layer (equation 2 of the paper) is

    H' = D^-1/2 (A + I) D^-1/2 H W + b,      D = diag of the row sums of A + I

Adding I (a self-loop on every node) lets a node keep its own features; the symmetric
scaling by D^-1/2 on both sides keeps the scale of H' independent of how many neighbours a
node has: entry (i, j) becomes a_ij / sqrt(d_i d_j). A stack of such layers with a
nonlinearity in between is a GCN; layer k lets information travel k hops.

Two ways to compute the same thing:
- dense: build the (n, n) matrix and multiply (clear, O(n^2) memory);
- sparse: keep the edge list (2, E) with one weight per edge, and add each message
  w_ji * h_j into row i with index_add_ (O(E), what PyTorch Geometric does).

Conventions follow PyTorch Geometric, so its GCNConv is the oracle: edge_index[0] holds
the source and edge_index[1] the target of each edge; messages flow source -> target, so
in the dense matrix row i collects what node i receives, A[i, j] = weight of edge j -> i.
An undirected graph lists every edge in both directions and gives a symmetric A. Duplicate
edges add up. A node that already has a self-loop keeps it with its weight; only the
missing ones are added (PyG's add_remaining_self_loops). A degree of zero (an isolated
node without self-loop) gets the scale 0 instead of infinity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# ---------------------------------------------------------------- graphs as tensors


def edges_from_networkx(
    graph: Any, weight: str | None = None, dtype: torch.dtype = torch.float32
) -> tuple[Tensor, Tensor | None]:
    """edge_index (2, E) and edge weights (E,) or None from a networkx graph on nodes 0..n-1.

    An undirected graph gives both directions of every edge (a self-loop only once), a
    directed one its edges as they are. `weight` names the edge attribute to use (missing
    attributes count as 1); None means every edge weighs 1.
    """
    sources, targets, weights = [], [], []
    for u, v, data in graph.edges(data=True):
        w = float(data.get(weight, 1.0)) if weight is not None else 1.0
        pairs = [(u, v)] if graph.is_directed() or u == v else [(u, v), (v, u)]
        for s, t in pairs:
            sources.append(s)
            targets.append(t)
            weights.append(w)
    edge_index = torch.tensor([sources, targets], dtype=torch.long).view(2, -1)
    return edge_index, (torch.tensor(weights, dtype=dtype) if weight is not None else None)


def adjacency(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None) -> Tensor:
    """The dense (n, n) matrix with A[i, j] = sum of the weights of the edges j -> i."""
    source, target = edge_index
    if edge_weight is None:
        edge_weight = torch.ones(source.numel())
    a = torch.zeros(num_nodes, num_nodes, dtype=edge_weight.dtype, device=edge_weight.device)
    return a.index_put((target, source), edge_weight, accumulate=True)  # duplicates add up


def add_self_loops(a: Tensor, fill_value: float = 1.0) -> Tensor:
    """A with fill_value on every diagonal entry that is zero; existing loops stay as they are.

    For a graph without self-loops this is A + fill_value * I, the paper's A~ = A + I.
    """
    diagonal = a.diagonal()
    return a + torch.diag(torch.where(diagonal == 0, fill_value, 0.0).to(a.dtype))


def inverse_sqrt_degree(degree: Tensor) -> Tensor:
    """d^-1/2, with 0 for a node of degree 0 (it has no edges to scale, and 1/0 is inf)."""
    scale = degree.pow(-0.5)
    return scale.masked_fill(torch.isinf(scale), 0.0)


def normalize_adjacency(a: Tensor, self_loops: bool = True, improved: bool = False) -> Tensor:
    """D^-1/2 A~ D^-1/2 with A~ = A plus self-loops (weight 2 with `improved`, PyG's variant).

    Entry (i, j) is a~_ij / sqrt(d_i d_j) with d_i the row sum of A~ (what node i receives).
    """
    if self_loops:
        a = add_self_loops(a, 2.0 if improved else 1.0)
    scale = inverse_sqrt_degree(a.sum(dim=1))
    return scale[:, None] * a * scale[None, :]  # D^-1/2 A~ D^-1/2 without building D


def gcn_norm(
    edge_index: Tensor,
    num_nodes: int,
    edge_weight: Tensor | None = None,
    self_loops: bool = True,
    improved: bool = False,
) -> tuple[Tensor, Tensor]:
    """The same normalisation on an edge list: (edge_index with self-loops, weights (E',)).

    Weight of edge j -> i becomes w_ji / sqrt(d_i d_j); no (n, n) matrix is ever built.
    """
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1))
    if self_loops:
        source, target = edge_index
        is_loop = source == target
        # each node's loop weight: its existing loop if it has one, the fill value otherwise
        fill = 2.0 if improved else 1.0
        loop_weight = torch.full(
            (num_nodes,), fill, dtype=edge_weight.dtype, device=edge_weight.device
        )
        loop_weight[source[is_loop]] = edge_weight[is_loop]
        nodes = torch.arange(num_nodes, device=edge_index.device)
        edge_index = torch.cat([edge_index[:, ~is_loop], torch.stack([nodes, nodes])], dim=1)
        edge_weight = torch.cat([edge_weight[~is_loop], loop_weight])
    source, target = edge_index
    degree = torch.zeros(num_nodes, dtype=edge_weight.dtype, device=edge_weight.device)
    degree = degree.index_add(0, target, edge_weight)  # row sums of A~: weight received
    scale = inverse_sqrt_degree(degree)
    return edge_index, scale[target] * edge_weight * scale[source]


def propagate(edge_index: Tensor, edge_weight: Tensor, h: Tensor) -> Tensor:
    """Sparse A @ h: every node i sums w_ji * h_j over its incoming edges j -> i."""
    source, target = edge_index
    messages = edge_weight[:, None] * h[source]  # (E, features), one message per edge
    return torch.zeros_like(h).index_add(0, target, messages)


def sparse_adjacency(edge_index: Tensor, edge_weight: Tensor, num_nodes: int) -> Tensor:
    """The same matrix as torch.sparse (COO): torch.sparse.mm(it, h) equals propagate(...)."""
    source, target = edge_index
    indices = torch.stack([target, source])
    return torch.sparse_coo_tensor(
        indices, edge_weight, (num_nodes, num_nodes), check_invariants=True
    ).coalesce()


# ---------------------------------------------------------------- the layer


def gcn_conv(x: Tensor, a_norm: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """One dense GCN layer: a_norm @ x @ weight + bias, with weight (in, out) as in the paper.

    a_norm (n, n) is the normalised adjacency from normalize_adjacency; no activation here.
    """
    out = a_norm @ (x @ weight)  # transform first: propagating `out` features is cheaper
    return out if bias is None else out + bias


class GCNConv(nn.Module):
    """A GCN layer on an edge list, like torch_geometric.nn.GCNConv (same flags, same output).

    Weight layout: ours is (in, out) and multiplies from the right, H W as in the paper;
    PyG keeps an nn.Linear, lin.weight (out, in), so copying needs a transpose. Init as
    PyG's: Glorot-uniform weight, zero bias.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        self_loops: bool = True,
        improved: bool = False,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        self.self_loops, self.improved, self.normalize = self_loops, improved, normalize
        limit = math.sqrt(6.0 / (in_features + out_features))  # Glorot & Bengio 2010
        self.weight = nn.Parameter(torch.empty(in_features, out_features).uniform_(-limit, limit))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        if edge_weight is None:
            edge_weight = torch.ones(edge_index.size(1), dtype=x.dtype, device=x.device)
        if self.normalize:  # without it (PyG likewise), a plain weighted sum over the edges
            edge_index, edge_weight = gcn_norm(
                edge_index, x.size(0), edge_weight, self.self_loops, self.improved
            )
        out = propagate(edge_index, edge_weight.to(x.dtype), x @ self.weight)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.weight.size(0)}, {self.weight.size(1)}"


# ---------------------------------------------------------------- the network


class GCN(nn.Module):
    """GCN layers with an activation and dropout between them; the last one gives the logits.

    hidden=(16,) is the paper's two-layer model: softmax(A^ ReLU(A^ X W0) W1). `forward`
    returns the logits and the output of the last hidden layer (the node embeddings).
    """

    def __init__(
        self,
        in_features: int,
        classes: int,
        hidden: Sequence[int] = (16,),
        dropout: float = 0.5,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        sizes = [in_features, *hidden, classes]
        self.layers = nn.ModuleList(GCNConv(a, b) for a, b in zip(sizes, sizes[1:], strict=False))
        self.dropout = dropout
        self.activation = {"relu": torch.relu, "tanh": torch.tanh}[activation]

    def forward(
        self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        h = x
        for layer in self.layers[:-1]:
            h = F.dropout(h, self.dropout, self.training)
            h = self.activation(layer(h, edge_index, edge_weight))
        logits = self.layers[-1](F.dropout(h, self.dropout, self.training), edge_index, edge_weight)
        return logits, h


def masked_cross_entropy(logits: Tensor, labels: Tensor, mask: Tensor) -> Tensor:
    """Semi-supervised loss: cross-entropy over the labelled nodes only (mask True)."""
    return F.cross_entropy(logits[mask], labels[mask])
