"""Exercise `efficient_attention`: attention that does not need the whole (T, T) matrix.

Write three functions:

1. `sliding_window_mask(T, window)`: the causal band, query i sees keys i - window + 1 .. i.
2. `sliding_window_attention(q, k, v, window)`: softmax attention restricted to that band.
3. `causal_linear_attention(q, k, v)`: linear attention with phi(x) = elu(x) + 1 and running
   sums, out_i = phi(q_i)^T S_i / phi(q_i)^T z_i with S_i = sum_{j<=i} phi(k_j) v_j^T and
   z_i = sum_{j<=i} phi(k_j).

`groundup check efficient-attention` compares them with torch's scaled_dot_product_attention
under the band mask and with the same kernel attention computed densely as a (T, T) matrix:
values, gradients, shapes, and that no output looks at a key it must not see. Do not import
groundup.nn.efficient_attention.

DE: Übung `efficient_attention`: Attention, die nicht die ganze (T, T)-Matrix braucht.
Schreiben Sie drei Funktionen: `sliding_window_mask(T, window)` (das kausale Band: Query i
sieht die Keys i - window + 1 .. i), `sliding_window_attention(q, k, v, window)` (Softmax-
Attention, auf dieses Band beschränkt) und `causal_linear_attention(q, k, v)` (lineare
Attention mit phi(x) = elu(x) + 1 und laufenden Summen). Geprüft wird gegen torchs
scaled_dot_product_attention mit der Bandmaske und gegen dieselbe Kernel-Attention als dichte
(T, T)-Matrix: Werte, Gradienten, Formen und dass keine Ausgabe einen Key sieht, den sie nicht
sehen darf. Importieren Sie groundup.nn.efficient_attention nicht.
"""

from __future__ import annotations

import math  # noqa: F401 - imported for you: math.sqrt

import torch  # noqa: F401 - imported for you: torch.arange, torch.cumsum, ...
import torch.nn.functional as F  # noqa: F401 - imported for you: F.elu
from torch import Tensor


def sliding_window_mask(T: int, window: int) -> Tensor:
    """(T, T) bool mask; mask[i, j] is True iff i - window < j <= i.

    Row i is query i, column j is key j. Each query sees itself and the window - 1 keys just
    before it (fewer at the start of the sequence), never a key after it.

    DE: (T, T)-bool-Maske; mask[i, j] ist genau dann True, wenn i - window < j <= i. Zeile i
    ist Query i, Spalte j ist Key j. Jede Query sieht sich selbst und die window - 1 Keys
    direkt davor (am Anfang der Sequenz weniger), nie einen Key danach.
    """
    # Compare torch.arange(T) as a column (queries i) with torch.arange(T) as a row (keys j).
    raise NotImplementedError("TODO: sliding_window_mask")


def sliding_window_attention(q: Tensor, k: Tensor, v: Tensor, window: int) -> Tensor:
    """Causal sliding-window attention.

    q, k: (..., T, d), v: (..., T, dv); "..." is any number of batch axes (also none).
    Returns (..., T, dv): out_i = softmax over the keys j with i - window < j <= i of
    q_i . k_j / sqrt(d), applied to the values. A dense (T, T) score matrix with your mask
    is fine here; the library version (nn/efficient_attention.py) shows how to avoid it.
    The result must stay differentiable with respect to q, k and v.

    DE: Kausale Sliding-Window-Attention. q, k: (..., T, d), v: (..., T, dv). Rückgabe
    (..., T, dv): für Query i die Softmax über die Keys j mit i - window < j <= i von
    q_i . k_j / sqrt(d), angewandt auf die Values. Eine dichte (T, T)-Score-Matrix mit Ihrer
    Maske ist hier in Ordnung. Das Ergebnis muss nach q, k und v differenzierbar bleiben.
    """
    # 1. scores = q k^T / sqrt(d), shape (..., T, T)
    # 2. blocked scores become -inf (masked_fill with ~mask)
    # 3. softmax over the keys, then @ v
    raise NotImplementedError("TODO: sliding_window_attention")


def causal_linear_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Causal linear attention with the feature map phi(x) = elu(x) + 1.

    q, k: (..., T, d), v: (..., T, dv). Returns (..., T, dv) with
        out_i = phi(q_i)^T S_i / (phi(q_i)^T z_i),
        S_i = sum_{j <= i} phi(k_j) v_j^T   (a (d, dv) matrix per position)
        z_i = sum_{j <= i} phi(k_j)         (a d vector per position)
    Build S and z as running (prefix) sums with torch.cumsum over the position axis; do not
    form a (T, T) matrix. The result must stay differentiable with respect to q, k and v.

    DE: Kausale lineare Attention mit der Merkmalsabbildung phi(x) = elu(x) + 1.
    q, k: (..., T, d), v: (..., T, dv). Rückgabe (..., T, dv) mit
    out_i = phi(q_i)^T S_i / (phi(q_i)^T z_i), S_i = Summe über j <= i von phi(k_j) v_j^T,
    z_i = Summe über j <= i von phi(k_j). Bilden Sie S und z als laufende Summen (Präfixsummen)
    mit torch.cumsum über die Positionsachse, ohne eine (T, T)-Matrix. Das Ergebnis muss nach
    q, k und v differenzierbar bleiben.
    """
    # 1. phi_q, phi_k = elu(q) + 1, elu(k) + 1                            (..., T, d)
    # 2. outer products phi_k[..., :, None] * v[..., None, :]             (..., T, d, dv)
    # 3. S = cumsum of them over positions; z = cumsum of phi_k           (which axis?)
    # 4. numerator phi_q . S_i, denominator phi_q . z_i, divide
    raise NotImplementedError("TODO: causal_linear_attention")
