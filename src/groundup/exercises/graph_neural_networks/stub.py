"""Exercise `graph-neural-networks`: the normalised adjacency matrix and one GCN layer.

A graph convolutional network (Kipf & Welling 2017) mixes every node with its neighbours.
Write the two pieces of equation 2 of the paper:

1. `normalized_adjacency(adjacency)`: add a self-loop to every node, A~ = A + I, then
   scale symmetrically, D^-1/2 A~ D^-1/2, where D is the diagonal matrix of the row sums
   of A~ (the degrees counted WITH the self-loop). Entry (i, j) becomes
   a~_ij / sqrt(d_i * d_j).
2. `gcn_layer(x, a_norm, weight, bias)`: H' = a_norm @ x @ weight + bias, with weight of
   shape (in, out) as in the paper (not torch.nn.Linear's (out, in)). No activation: the
   ReLU goes between layers, outside this function.

`groundup check graph-neural-networks` grades both against groundup.nn.gcn, which the
tests prove equal to PyTorch Geometric's GCNConv: shapes, hand-computed values on a
path, symmetry, random graphs, isolated nodes, weighted edges, the layer's values and its
gradients with respect to x, weight and bias. Do not import torch_geometric or groundup.

DE: Übung `graph-neural-networks`: die normalisierte Adjazenzmatrix und eine GCN-Schicht.
Ein Graph Convolutional Network (Kipf & Welling 2017) mischt jeden Knoten mit seinen
Nachbarn. Schreiben Sie die zwei Teile von Gleichung 2 des Artikels:
1. `normalized_adjacency(adjacency)`: jedem Knoten eine Selbstschleife geben,
   A~ = A + I, dann symmetrisch skalieren, D^-1/2 A~ D^-1/2, wobei D die Diagonalmatrix
   der Zeilensummen von A~ ist (Grade MIT der Selbstschleife gezählt). Eintrag (i, j) wird
   zu a~_ij / sqrt(d_i * d_j).
2. `gcn_layer(x, a_norm, weight, bias)`: H' = a_norm @ x @ weight + bias, mit weight der
   Form (in, out) wie im Artikel (nicht (out, in) wie bei torch.nn.Linear). Keine
   Aktivierung: die ReLU steht zwischen den Schichten, außerhalb dieser Funktion.
Geprüft wird gegen groundup.nn.gcn (in den Tests gleich PyTorch Geometrics GCNConv):
Formen, von Hand gerechnete Werte, Symmetrie, Zufallsgraphen, isolierte Knoten, gewichtete
Kanten, Werte und Gradienten der Schicht. Importieren Sie weder torch_geometric noch groundup.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.eye, torch.diag, ...
from torch import Tensor


def normalized_adjacency(adjacency: Tensor) -> Tensor:
    """D^-1/2 (A + I) D^-1/2 for a dense adjacency matrix A.

    adjacency: (n, n), symmetric, non-negative, zero diagonal (no self-loops yet);
               entries may be edge weights other than 1; a row of zeros is an isolated node.
    Returns (n, n), same dtype. d_i = sum over j of (A + I)[i, j], so d_i >= 1.
    The result must stay differentiable (stay in torch).

    DE: D^-1/2 (A + I) D^-1/2 für eine dichte Adjazenzmatrix A: (n, n), symmetrisch,
    nicht negativ, Diagonale null (noch keine Selbstschleifen); Einträge dürfen
    Kantengewichte ungleich 1 sein, eine Nullzeile ist ein isolierter Knoten. Rückgabe
    (n, n) im selben dtype; d_i ist die Zeilensumme von A + I, also d_i >= 1.
    """
    # 1. A~ = A + I (torch.eye(n, dtype=adjacency.dtype))
    # 2. the degrees: row sums of A~
    # 3. scale row i and column j by d^-1/2 (a diagonal matrix on both sides, or broadcasting)
    raise NotImplementedError("TODO: normalized_adjacency")


def gcn_layer(x: Tensor, a_norm: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """One GCN layer: a_norm @ x @ weight (+ bias).

    x:      (n, in)   one feature vector per node
    a_norm: (n, n)    the normalised adjacency from normalized_adjacency
    weight: (in, out) shared by all nodes, multiplied from the right
    bias:   (out,) or None, added to every node after the propagation
    Returns (n, out), differentiable with respect to x, weight and bias. No activation.

    DE: Eine GCN-Schicht: a_norm @ x @ weight (+ bias). x (n, in), a_norm (n, n),
    weight (in, out), bias (out,) oder None, nach der Propagation zu jedem Knoten addiert.
    Rückgabe (n, out), differenzierbar nach x, weight und bias. Keine Aktivierung.
    """
    # transform every node (x @ weight), mix with the neighbours (a_norm @ ...), add the bias
    raise NotImplementedError("TODO: gcn_layer")
