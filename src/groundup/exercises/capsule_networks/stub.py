"""Exercise `capsule_networks`: the three formulas of Sabour, Frosst & Hinton (2017).

Write
- `squash(s, dim=-1, eps=1e-8)`: Eq. 1, the capsule non-linearity,
- `route(u_hat, iterations)`: Procedure 1, dynamic routing by agreement,
- `margin_loss(lengths, targets, m_plus=0.9, m_minus=0.1, lam=0.5)`: Eq. 4.
`groundup check capsule-networks` compares values and gradients with groundup.nn.capsules on
random inputs, in float64. Build them from torch operations (sum, sqrt, softmax, einsum or
broadcasting, relu/clamp); keep everything inside torch so that gradients flow.

DE: Übung `capsule_networks`: die drei Formeln von Sabour, Frosst & Hinton (2017).
Schreiben Sie `squash` (Gl. 1, die Nichtlinearität der Kapseln), `route` (Prozedur 1,
dynamisches Routing durch Übereinstimmung) und `margin_loss` (Gl. 4).
`groundup check capsule-networks` vergleicht Werte und Gradienten mit groundup.nn.capsules
auf Zufallseingaben in float64. Bauen Sie alles aus torch-Operationen (sum, sqrt, softmax,
einsum oder Broadcasting, relu/clamp) und bleiben Sie in torch, damit Gradienten fließen.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.softmax, torch.sqrt, torch.einsum, ...
from torch import Tensor


def squash(s: Tensor, dim: int = -1, eps: float = 1e-8) -> Tensor:
    """Eq. 1: v = |s|^2 / (1 + |s|^2) * s / |s|, for every vector along axis `dim`.

    s: float tensor of any shape; the vectors lie along `dim`. Returns a tensor of the same
    shape: same direction as s, length |s|^2 / (1 + |s|^2), always below 1.
    A zero vector must give a zero vector AND a finite gradient (no NaN): compute the norm
    as sqrt(|s|^2 + eps), never sqrt(|s|^2), whose derivative at 0 is infinite.

    DE: Gl. 1: v = |s|^2 / (1 + |s|^2) * s / |s| für jeden Vektor entlang der Achse `dim`.
    Rückgabe in derselben Form: gleiche Richtung wie s, Länge |s|^2 / (1 + |s|^2), stets
    unter 1. Ein Nullvektor muss einen Nullvektor UND einen endlichen Gradienten (kein NaN)
    liefern: berechnen Sie die Norm als sqrt(|s|^2 + eps), nie als sqrt(|s|^2), deren
    Ableitung bei 0 unendlich ist.
    """
    raise NotImplementedError("TODO: squash")


def route(u_hat: Tensor, iterations: int) -> tuple[Tensor, Tensor]:
    """Procedure 1, routing by agreement.

    u_hat: (N, n_in, n_out, d), u_hat[n, i, j] is the prediction u_hat_{j|i} of child capsule
    i for parent capsule j. iterations: r >= 1. Start with logits b = 0 of shape
    (N, n_in, n_out), then r times:
        c = softmax of b over the PARENTS j (each child i splits itself: sum_j c_ij = 1)
        s_j = sum_i c_ij u_hat_{j|i}                      shape (N, n_out, d)
        v_j = squash(s_j)
        b_ij = b_ij + u_hat_{j|i} . v_j                   (dot product over d)
    Returns (v, c): the outputs v (N, n_out, d) and the coupling coefficients c
    (N, n_in, n_out) used in the last iteration. Do not detach anything: the gradient must
    flow through every iteration, the agreement included.

    DE: Prozedur 1, Routing durch Übereinstimmung. u_hat: (N, n_in, n_out, d), u_hat[n, i, j]
    ist die Vorhersage von Kindkapsel i für Elternkapsel j. Beginnen Sie mit Logits b = 0 der
    Form (N, n_in, n_out), dann r-mal: c = Softmax von b über die ELTERN j (jedes Kind i
    verteilt sich: sum_j c_ij = 1); s_j = sum_i c_ij u_hat_{j|i}; v_j = squash(s_j);
    b_ij += u_hat_{j|i} . v_j (Skalarprodukt über d). Rückgabe (v, c): v (N, n_out, d) und die
    Kopplungskoeffizienten c (N, n_in, n_out) der letzten Iteration. Trennen Sie nichts ab
    (kein detach): der Gradient muss durch jede Iteration fließen, auch durch die
    Übereinstimmung.
    """
    # 1. b = zeros of shape u_hat.shape[:-1]
    # 2. loop `iterations` times: c, s, v as above; update b (the last update is never read)
    raise NotImplementedError("TODO: route")


def margin_loss(
    lengths: Tensor,
    targets: Tensor,
    m_plus: float = 0.9,
    m_minus: float = 0.1,
    lam: float = 0.5,
) -> Tensor:
    """Eq. 4, summed over the classes k and averaged over the examples.

    lengths: (N, K) lengths |v_k| of the class capsules; targets: (N,) int64 class indices.
    With T_k = 1 for the true class and 0 otherwise:
        L_k = T_k max(0, m_plus - |v_k|)^2 + lam (1 - T_k) max(0, |v_k| - m_minus)^2
    Returns a 0-dim tensor: sum over k, mean over the N examples.

    DE: Gl. 4, summiert über die Klassen k und gemittelt über die Beispiele. lengths: (N, K)
    Längen der Klassenkapseln, targets: (N,) Klassenindizes. Mit T_k = 1 für die richtige
    Klasse, sonst 0: L_k = T_k max(0, m_plus - |v_k|)^2 + lam (1 - T_k)
    max(0, |v_k| - m_minus)^2. Rückgabe: 0-dim. Tensor, Summe über k, Mittel über N.
    """
    raise NotImplementedError("TODO: margin_loss")
