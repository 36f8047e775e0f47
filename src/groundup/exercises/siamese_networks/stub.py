"""Exercise `siamese_networks`: the losses that teach a siamese network what "same" means.

Write
- `contrastive_loss(x1, x2, same, margin=1.0)`: Hadsell, Chopra & LeCun (2006),
- `triplet_loss(anchor, positive, negative, margin=1.0)`: FaceNet's triplet loss, and
- `batch_hard_triplet_loss(embeddings, labels, margin=1.0)`: the triplet loss of the hardest
  positive and hardest negative of every anchor in a batch (Hermans et al. 2017).
Distances are plain Euclidean distances d(u, v) = ||u - v||_2, without an eps. `groundup check
siamese_networks` compares values and gradients with torch.nn.functional.triplet_margin_loss
(eps=0), with a contrastive loss built from torch ops, and with a brute-force search over all
triplets. Use torch operations only (sqrt, sum, clamp, masked_fill, amax, amin, ...), so that
gradients flow; torch.cdist and F.triplet_margin_loss themselves are not allowed.

DE: Übung `siamese_networks`: die Verluste, die einem siamesischen Netz beibringen, was
"gleich" heißt. Schreiben Sie `contrastive_loss` (Hadsell, Chopra & LeCun 2006),
`triplet_loss` (der Triplet-Verlust von FaceNet) und `batch_hard_triplet_loss` (der
Triplet-Verlust mit dem schwersten positiven und dem schwersten negativen Beispiel jedes
Ankers im Batch, Hermans et al. 2017). Abstände sind gewöhnliche euklidische Abstände
||u - v||_2 ohne eps. `groundup check siamese_networks` vergleicht Werte und Gradienten mit
triplet_margin_loss aus torch.nn.functional (eps=0), mit einem aus torch-Operationen gebauten
kontrastiven Verlust und mit einer Brute-Force-Suche über alle Triplets. Verwenden Sie nur
torch-Operationen, damit Gradienten fließen; torch.cdist und F.triplet_margin_loss selbst
sind nicht erlaubt.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.sqrt, torch.clamp, torch.eye, ...
from torch import Tensor


def contrastive_loss(x1: Tensor, x2: Tensor, same: Tensor, margin: float = 1.0) -> Tensor:
    """Mean contrastive loss of N pairs of embeddings.

    x1, x2: (N, D) float tensors, the embeddings of the two inputs of each pair.
    same:   (N,) float tensor, 1.0 if pair i shows the same class, 0.0 if not.
    With d_i = ||x1[i] - x2[i]||_2, the loss of pair i is
        1/2 * same_i * d_i^2  +  1/2 * (1 - same_i) * max(0, margin - d_i)^2
    (same pairs are pulled together; different pairs are pushed apart until they are
    margin apart, and cost nothing beyond). Returns a 0-dim tensor: the mean over the N pairs.
    Careful: Hadsell et al. write Y = 0 for a similar pair; here same = 1 means similar.

    DE: Gemittelter kontrastiver Verlust von N Paaren. x1, x2: (N, D), die Einbettungen der
    beiden Eingaben jedes Paars. same: (N,), 1.0 wenn Paar i dieselbe Klasse zeigt, sonst
    0.0. Mit d_i = ||x1[i] - x2[i]||_2 ist der Verlust von Paar i
    1/2 * same_i * d_i^2 + 1/2 * (1 - same_i) * max(0, margin - d_i)^2 (gleiche Paare werden
    zusammengezogen, verschiedene auseinandergedrückt, bis sie margin voneinander entfernt
    sind; darüber hinaus kosten sie nichts). Rückgabe: 0-dimensionaler Tensor, Mittelwert über
    die N Paare. Achtung: Hadsell et al. schreiben Y = 0 für ein ähnliches Paar; hier heißt
    same = 1 ähnlich.
    """
    raise NotImplementedError("TODO: contrastive_loss")


def triplet_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0) -> Tensor:
    """Mean triplet loss of N triplets of embeddings, each (N, D).

    positive[i] has the class of anchor[i], negative[i] another class. The loss of triplet i is
        max(0, ||anchor[i] - positive[i]||_2 - ||anchor[i] - negative[i]||_2 + margin):
    zero once the negative is farther from the anchor than the positive by at least margin.
    Returns a 0-dim tensor: the mean over the N triplets (torch's
    F.triplet_margin_loss(anchor, positive, negative, margin, eps=0)).

    DE: Gemittelter Triplet-Verlust von N Triplets, jeweils (N, D). positive[i] hat die Klasse
    von anchor[i], negative[i] eine andere. Verlust von Triplet i:
    max(0, ||anchor[i] - positive[i]||_2 - ||anchor[i] - negative[i]||_2 + margin), also null,
    sobald das negative Beispiel um mindestens margin weiter vom Anker entfernt ist als das
    positive. Rückgabe: 0-dimensionaler Tensor, der Mittelwert über die N Triplets.
    """
    raise NotImplementedError("TODO: triplet_loss")


def batch_hard_triplet_loss(embeddings: Tensor, labels: Tensor, margin: float = 1.0) -> Tensor:
    """Batch-hard triplet loss of a batch of N embeddings (N, D) with int64 labels (N,).

    Every example a is an anchor. Its hardest positive is the FARTHEST other example of the
    same class (never a itself); its hardest negative is the NEAREST example of a different
    class. Its loss is
        max(0, d(a, hardest positive) - d(a, hardest negative) + margin).
    An anchor that is alone in its class has no positive: leave it out. Return the mean over
    the remaining anchors (a 0-dim tensor); the checks always leave at least one.
    Tip: build the (N, N) matrix of all distances and mask it. The diagonal is 0, and the
    slope of sqrt at 0 is infinite: autograd turns it into nan even for entries you masked
    out. Take the square root of the squared distances clamped at a tiny value, e.g.
    sqrt(clamp(sq, min=1e-12)).

    DE: Batch-Hard-Triplet-Verlust eines Batches von N Einbettungen (N, D) mit int64-Labels
    (N,). Jedes Beispiel a ist ein Anker. Sein schwerstes positives Beispiel ist das
    ENTFERNTESTE andere Beispiel derselben Klasse (nie a selbst), sein schwerstes negatives das
    NÄCHSTE Beispiel einer anderen Klasse. Verlust: max(0, d(a, schwerstes positives) -
    d(a, schwerstes negatives) + margin). Ein Anker, der allein in seiner Klasse ist, hat kein
    positives Beispiel: lassen Sie ihn weg. Rückgabe: Mittelwert über die übrigen Anker
    (0-dimensionaler Tensor); die Checks lassen immer mindestens einen übrig. Tipp: Bauen Sie
    die (N, N)-Matrix aller Abstände und maskieren Sie sie. Die Diagonale ist 0, und sqrt hat
    bei 0 eine unendliche Steigung: Autograd macht daraus nan, auch für ausmaskierte Einträge.
    Ziehen Sie die Wurzel aus den bei einem winzigen Wert begrenzten quadrierten Abständen,
    etwa sqrt(clamp(sq, min=1e-12)).
    """
    # 1. d = (N, N) distances; same = labels[:, None] == labels[None, :]
    # 2. positives: same and not the diagonal; negatives: not same
    # 3. hardest positive per row: max of d over positives (masked_fill the rest with -inf)
    #    hardest negative per row: min of d over negatives (masked_fill the rest with +inf)
    # 4. keep the rows that have a positive and a negative, clamp at 0, average
    raise NotImplementedError("TODO: batch_hard_triplet_loss")
