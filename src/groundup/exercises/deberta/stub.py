"""Exercise `deberta`: DeBERTa's disentangled attention.

Write four functions:

- log_bucket_position(relative_pos, bucket_size, max_position): DeBERTa-v2's log buckets
- relative_position(query_size, key_size, bucket_size, max_position): delta(i, j) = i - j
  for every query i and key j, bucketed when both sizes are > 0
- position_scores(q, k, pos_key, pos_query, relative_pos): the content-to-position and
  position-to-content terms, gathered by relative distance
- disentangled_attention(q, k, v, pos_key, pos_query, relative_pos, mask): the three terms
  summed and scaled by sqrt(3d), masked, softmax, times the values

`groundup check deberta` compares them with groundup.models.deberta (whose tests compare it
with Hugging Face's DebertaV2 attention) on random inputs with fixed seeds: values, then
gradients. Use torch operations only, so that gradients flow.

DE: Übung `deberta`: die entkoppelte Attention von DeBERTa. Schreiben Sie vier Funktionen:
log_bucket_position (die logarithmischen Buckets von DeBERTa-v2), relative_position
(delta(i, j) = i - j für jede Query i und jeden Key j, in Buckets, wenn beide Größen > 0
sind), position_scores (die Terme Inhalt-zu-Position und Position-zu-Inhalt, nach relativem
Abstand eingesammelt) und disentangled_attention (die drei Terme summiert, durch sqrt(3d)
geteilt, maskiert, Softmax, mal die Values). `groundup check deberta` vergleicht sie auf
Zufallseingaben mit festen Seeds mit groundup.models.deberta (dessen Tests es mit der
DebertaV2-Attention von Hugging Face vergleichen): erst Werte, dann Gradienten. Verwenden Sie
nur torch-Operationen, damit Gradienten fließen.
"""

from __future__ import annotations

import math  # noqa: F401 - imported for you: math.sqrt

import torch  # noqa: F401 - imported for you: torch.log, torch.ceil, torch.gather, ...
from torch import Tensor


def log_bucket_position(relative_pos: Tensor, bucket_size: int, max_position: int) -> Tensor:
    """Map relative distances (any shape, integer) to bucket ids of the same shape.

    With mid = bucket_size // 2: a distance with |d| <= mid stays d. A farther one becomes

        sign(d) * (mid + ceil(log(|d| / mid) / log((max_position - 1) / mid) * (mid - 1)))

    so that |d| = max_position - 1 lands on bucket_size - 1 and the buckets grow wider with
    distance. Compute the logs on float32 tensors (as transformers does; the result may be a
    float tensor). Careful: log(|d| / mid) must not see |d| = 0 (use torch.where).

    DE: Bildet relative Abstände (beliebige Form, ganzzahlig) auf Bucket-Nummern derselben
    Form ab. Mit mid = bucket_size // 2: ein Abstand mit |d| <= mid bleibt d. Ein weiterer
    wird zu sign(d) * (mid + ceil(log(|d| / mid) / log((max_position - 1) / mid) * (mid - 1))),
    sodass |d| = max_position - 1 auf Bucket bucket_size - 1 fällt und die Buckets mit dem
    Abstand breiter werden. Rechnen Sie die Logarithmen auf float32-Tensoren (wie
    transformers; das Ergebnis darf ein float-Tensor sein). Vorsicht: log(|d| / mid) darf
    |d| = 0 nicht sehen (torch.where hilft).
    """
    raise NotImplementedError("TODO: log_bucket_position")


def relative_position(
    query_size: int, key_size: int, bucket_size: int = -1, max_position: int = -1
) -> Tensor:
    """(query_size, key_size) long tensor: entry [i, j] is delta(i, j) = i - j (query i, key j),
    passed through log_bucket_position when bucket_size > 0 and max_position > 0.

    DE: Long-Tensor (query_size, key_size): Eintrag [i, j] ist delta(i, j) = i - j (Query i,
    Key j), durch log_bucket_position geschickt, wenn bucket_size > 0 und max_position > 0.
    """
    raise NotImplementedError("TODO: relative_position")


def position_scores(
    q: Tensor, k: Tensor, pos_key: Tensor, pos_query: Tensor, relative_pos: Tensor
) -> tuple[Tensor, Tensor]:
    """(c2p, p2c), each (B, heads, T, T), not yet scaled.

    q, k: (B, heads, T, d) content queries and keys. pos_key, pos_query: (heads, 2 * span, d),
    the table of relative embeddings through the key and the query projection; row r stands
    for the distance r - span. relative_pos: (T, T) long from relative_position.

        row(i, j) = clamp(relative_pos[i, j] + span, 0, 2 * span - 1)
        c2p[b, h, i, j] = q[b, h, i] . pos_key[h, row(i, j)]     content of i, position of j
        p2c[b, h, i, j] = k[b, h, j] . pos_query[h, row(i, j)]   content of j, position of i

    Do it like the reference: one matmul of q with every row of pos_key, (B, heads, T, 2 span),
    then torch.gather along the last axis. For p2c, multiply k with pos_query, gather each key
    j at the rows clamp(-relative_pos[j, i] + span), and transpose the last two axes.

    DE: (c2p, p2c), jeweils (B, heads, T, T), noch nicht skaliert. q, k: (B, heads, T, d)
    Inhalts-Queries und -Keys. pos_key, pos_query: (heads, 2 * span, d), die Tabelle der
    relativen Embeddings durch die Key- bzw. Query-Projektion; Zeile r steht für den Abstand
    r - span. relative_pos: (T, T) long aus relative_position. Formeln wie oben: c2p vergleicht
    den Inhalt von i mit der Position von j, p2c den Inhalt von j mit der Position von i.
    Gehen Sie vor wie die Referenz: ein Matmul von q mit allen Zeilen von pos_key, dann
    torch.gather entlang der letzten Achse; für p2c k mit pos_query multiplizieren, für jeden
    Key j die Zeilen clamp(-relative_pos[j, i] + span) einsammeln und die letzten beiden
    Achsen vertauschen.
    """
    # 1. span = pos_key.shape[-2] // 2; rows = (relative_pos + span).clamp(...)
    # 2. c2p: gather(q @ pos_key^T, -1, rows expanded to (B, heads, T, T))
    # 3. p2c: gather(k @ pos_query^T, -1, (-relative_pos + span).clamp(...)), transposed
    raise NotImplementedError("TODO: position_scores")


def disentangled_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    pos_key: Tensor,
    pos_query: Tensor,
    relative_pos: Tensor,
    mask: Tensor,
) -> Tensor:
    """(B, heads, T, d) attention output.

        scores = (q k^T + c2p + p2c) / sqrt(3 d)        d = head size = q.shape[-1]
        probs  = softmax(scores with masked places at torch.finfo(dtype).min) over the keys
        out    = probs @ v

    mask: (B, 1, T, T) bool, True where query i may look at key j. Fill with
    torch.finfo(scores.dtype).min, not -inf: a padding query's row is masked entirely and
    must come out uniform, not NaN (transformers does the same).

    DE: Attention-Ausgabe (B, heads, T, d). scores = (q k^T + c2p + p2c) / sqrt(3 d) mit
    d = Kopfgröße = q.shape[-1]; probs = Softmax über die Keys, maskierte Stellen auf
    torch.finfo(dtype).min; out = probs @ v. mask: (B, 1, T, T) bool, True, wo Query i Key j
    sehen darf. Füllen Sie mit torch.finfo(scores.dtype).min, nicht mit -inf: Die Zeile einer
    Padding-Query ist ganz maskiert und muss gleichverteilt herauskommen, nicht NaN
    (transformers macht es ebenso).
    """
    raise NotImplementedError("TODO: disentangled_attention")
