"""Exercise `attention`: scaled dot-product attention from tensor operations.

Write `attention(q, k, v, mask=None)`:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V

`groundup check attention` grades it against PyTorch's
torch.nn.functional.scaled_dot_product_attention: shapes, values, masks and gradients.
Do not call scaled_dot_product_attention or nn.MultiheadAttention yourself; use matrix
products (@), .transpose, .softmax and .masked_fill.

DE: Übung `attention`: skalierte Skalarprodukt-Attention aus Tensor-Operationen.
Schreiben Sie `attention(q, k, v, mask=None)`, also softmax(Q K^T / sqrt(d)) V.
`groundup check attention` vergleicht Ihre Funktion mit PyTorchs
scaled_dot_product_attention: Formen, Werte, Masken und Gradienten. Rufen Sie
scaled_dot_product_attention oder nn.MultiheadAttention nicht selbst auf; nehmen Sie
Matrixprodukte (@), .transpose, .softmax und .masked_fill.
"""

from __future__ import annotations

import math  # noqa: F401 - imported for you: math.sqrt

import torch  # noqa: F401 - imported for you: torch.softmax, torch.finfo, ...
from torch import Tensor


def attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
    """Scaled dot-product attention.

    q: (..., Tq, d)   one query vector per output position
    k: (..., Tk, d)   one key vector per input position
    v: (..., Tk, dv)  one value vector per input position
    mask: None, or a bool tensor broadcastable to (..., Tq, Tk); True means "this query may
          attend to this key", False means the key must get weight exactly 0 for that query.
          Every query will have at least one allowed key.
    "..." is any number of leading batch axes (also none), the same for q, k and v.
    Returns (..., Tq, dv): for each query, the weighted average of the value vectors, with
    weights softmax over the keys of (q . k) / sqrt(d).
    The result must stay differentiable: gradients flow back to q, k and v.

    DE: Skalierte Skalarprodukt-Attention.
    q: (..., Tq, d), k: (..., Tk, d), v: (..., Tk, dv). mask: None oder ein bool-Tensor, der
    sich auf (..., Tq, Tk) broadcasten lässt; True heißt "diese Query darf auf diesen Key
    schauen", False heißt, dass der Key für diese Query das Gewicht exakt 0 bekommt. Jede
    Query hat mindestens einen erlaubten Key. "..." sind beliebig viele Batch-Achsen (auch
    keine). Rückgabe (..., Tq, dv): für jede Query der gewichtete Mittelwert der Value-Vektoren,
    Gewichte = Softmax über die Keys von (q . k) / sqrt(d). Das Ergebnis muss differenzierbar
    bleiben: Gradienten fließen zu q, k und v zurück.
    """
    # 1. scores = q k^T / sqrt(d), shape (..., Tq, Tk)
    # 2. if a mask is given: blocked scores become -inf (masked_fill with ~mask)
    # 3. weights = softmax over the keys (which axis is that?)
    # 4. return weights @ v
    raise NotImplementedError("TODO: attention")
