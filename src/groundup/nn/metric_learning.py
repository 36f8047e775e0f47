"""Metric learning: one shared network maps inputs to points whose distances mean "same or not".

A siamese network (Bromley et al. 1993) is not two networks but one, applied to both inputs
of a pair with the same weights. It is trained so that the distance between the two
embeddings is small when the inputs belong together and large when they do not. A
verifier then needs only a threshold: "same" if d(f(x1), f(x2)) <= t. Because nothing in
this depends on a fixed list of classes, the network can compare inputs of classes it has
never seen (one-shot verification, Koch et al. 2015).

    distance            d(x1, x2) = ||x1 - x2 + eps||_p, row by row  (F.pairwise_distance)
    distance_matrix     D[i, j] = ||x_i - y_j||_p, all pairs          (torch.cdist)
    contrastive_loss    1/2 s d^2 + 1/2 (1 - s) max(0, m - d)^2      (Hadsell et al. 2006)
    triplet_margin_loss max(0, d(a, p) - d(a, n) + m)                  (Schroff et al. 2015)
    batch_hard_...      the same, with the farthest positive and nearest negative of each
                        anchor in the batch                          (Hermans et al. 2017)

Label convention: s = 1 for a pair of the same class, 0 for a different one. Hadsell et al.
write Y = 0 for similar pairs; the formula is the same with the roles of Y and 1 - Y swapped.

The rest of the file: how to draw pairs, triplets and P x K batches from labelled data, the
shared embedding network for 8x8 digits, and verification by a distance threshold.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from groundup.nn.conv import Conv2d, MaxPool2d

REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")


# ---------------------------------------------------------------- distances


def lp_norm(v: Tensor, p: float = 2.0, dim: int = -1) -> Tensor:
    """(sum_i |v_i|^p)^(1/p) along `dim`; the largest |v_i| for p = inf.

    The root has an infinite slope at 0, and autograd would multiply it by the zero
    gradient of |v|^p there: 0 * inf = nan. A distance of a point to itself (the diagonal of
    a distance matrix) hits exactly that, so a zero sum takes the root's other branch, a
    constant 0, and gets gradient 0, as torch.cdist and torch.linalg.vector_norm do.
    """
    if p == math.inf:
        return v.abs().amax(dim=dim)
    if p < 1:
        raise ValueError(f"p must be >= 1 (below 1 it is no distance), got {p}")
    total = (v * v).sum(dim=dim) if p == 2 else (v.abs() ** p).sum(dim=dim)
    safe = total.clamp_min(torch.finfo(total.dtype).tiny)  # where total > 0 this is total
    return torch.where(total > 0, safe ** (1.0 / p), torch.zeros_like(total))


def distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6) -> Tensor:
    """Distance between x1[i] and x2[i] along the last axis, as torch's F.pairwise_distance.

    PyTorch adds eps to the difference before the norm, ||x1 - x2 + eps||_p, so that two
    equal vectors are not at distance exactly 0. With eps = 1e-6 in 16 dimensions that is
    a distance of 4e-6 between equal points; eps = 0 gives the plain distance.
    """
    return lp_norm(x1 - x2 + eps, p)


def distance_matrix(x: Tensor, y: Tensor | None = None, p: float = 2.0) -> Tensor:
    """D[i, j] = ||x[i] - y[j]||_p for x (N, D), y (M, D) (default y = x): (N, M), as torch.cdist.

    Every difference is formed explicitly, N * M * D numbers: exact, and small enough for a
    training batch. The faster form for p = 2, ||x||^2 + ||y||^2 - 2 x.y, is one matrix
    product but loses digits when two points are close, and can even go slightly negative.
    """
    y = x if y is None else y
    return lp_norm(x[:, None, :] - y[None, :, :], p)


# ---------------------------------------------------------------- losses on pairs and triplets


def contrastive_loss(
    x1: Tensor, x2: Tensor, same: Tensor, margin: float = 1.0, reduction: str = "mean"
) -> Tensor:
    """Hadsell, Chopra & LeCun (2006), eq. 4, with s = same (1 for a same-class pair, 0 else):

        L = 1/2 s d^2 + 1/2 (1 - s) max(0, margin - d)^2,    d = ||x1 - x2||_2

    Same pairs are pulled together by a spring of rest length 0. Different pairs are pushed
    apart only while they are closer than the margin: beyond it they cost nothing, so the
    network does not waste effort on pairs that are already told apart.
    """
    d = distance(x1, x2, eps=0.0)
    same = same.to(d.dtype)
    pull = same * d**2
    push = (1 - same) * torch.clamp(margin - d, min=0) ** 2
    return _reduce(0.5 * (pull + push), reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin), as torch.nn.TripletMarginLoss.

    The anchor must be closer to the positive (same class) than to the negative by at least
    the margin. Only the difference of distances matters, not their scale. swap (Balntas et
    al. 2016): use the smaller of d(a, n) and d(p, n), i.e. the harder of the two negatives.
    Distances are torch's, with eps added to each difference.
    """
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    d_positive = distance(anchor, positive, p, eps)
    d_negative = distance(anchor, negative, p, eps)
    if swap:
        d_negative = torch.minimum(d_negative, distance(positive, negative, p, eps))
    return _reduce(torch.clamp(d_positive - d_negative + margin, min=0), reduction)


# ---------------------------------------------------------------- batch-hard mining


@torch.no_grad()
def hardest_triplets(distances: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """For each anchor i of a batch: the farthest point of its class (never i itself) and the
    nearest point of another class. Returns (anchor, positive, negative) index tensors for
    the anchors that have both; an anchor alone in its class has no positive and drops out.

    distances (N, N), labels (N,). Random triplets are mostly easy and give zero loss once
    training has begun; the hardest ones still carry a gradient (Hermans et al. 2017).
    """
    same = labels[:, None] == labels[None, :]
    itself = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    positives, negatives = same & ~itself, ~same
    positive = distances.masked_fill(~positives, -math.inf).argmax(dim=1)
    negative = distances.masked_fill(~negatives, math.inf).argmin(dim=1)
    anchor = torch.nonzero(positives.any(dim=1) & negatives.any(dim=1)).squeeze(1)
    return anchor, positive[anchor], negative[anchor]


def batch_hard_triplet_loss(
    embeddings: Tensor,
    labels: Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    reduction: str = "mean",
) -> Tensor:
    """Batch-hard triplet loss (Hermans, Beyer & Leibe 2017, eq. 5), one term per anchor:

        max(0, margin + max_{p: same class, p != a} D[a, p] - min_{n: other class} D[a, n])

    on plain distances (no eps). Mean over the anchors that have a positive and a negative;
    0 (still attached to the graph) if there are none. The selection is not differentiated;
    the gradient flows through the two chosen distances, as it does through max and min.
    """
    distances = distance_matrix(embeddings, p=p)
    anchor, positive, negative = hardest_triplets(distances.detach(), labels)
    if len(anchor) == 0:
        return embeddings.sum() * 0.0
    loss = torch.clamp(distances[anchor, positive] - distances[anchor, negative] + margin, min=0)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- drawing pairs and triplets


def _class_layout(labels: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Indices sorted by class, and for each example the start and size of its class's block
    in that order and its own position in it. A same-class partner is then a random other
    slot of the block, a different-class partner a random slot outside it."""
    order = torch.argsort(labels, stable=True)
    classes, counts = torch.unique(labels, return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    block = torch.searchsorted(classes, labels)
    position = torch.empty_like(order)
    position[order] = torch.arange(len(labels))
    return order, starts[block], counts[block], position


def _partners(labels: Tensor, first: Tensor, same: bool, generator: torch.Generator) -> Tensor:
    """One uniformly drawn partner for each index in `first`: of the same class (never the
    index itself) or of another class."""
    order, start, size, position = _class_layout(labels)
    start, size, position = start[first], size[first], position[first]
    u = torch.rand(len(first), generator=generator)
    if same:  # another slot of the own block: shift the own slot by 1 .. size - 1
        shift = 1 + torch.minimum((u * (size - 1)).long(), size - 2)
        slot = start + (position - start + shift) % size
    else:  # one of the N - size slots after the block, wrapping around
        outside = len(labels) - size
        slot = (start + size + torch.minimum((u * outside).long(), outside - 1)) % len(labels)
    return order[slot]


def _anchors(labels: Tensor, count: int, generator: torch.Generator) -> Tensor:
    """`count` random indices whose class has another example (so a positive exists)."""
    _, counts = torch.unique(labels, return_counts=True)
    if len(counts) < 2 or counts.max() < 2:
        raise ValueError("need at least two classes, and two examples in at least one of them")
    _, _, size, _ = _class_layout(labels)
    candidates = torch.nonzero(size >= 2).squeeze(1)
    return candidates[torch.randint(len(candidates), (count,), generator=generator)]


def sample_pairs(
    labels: Tensor, count: int, generator: torch.Generator, positive_fraction: float = 0.5
) -> tuple[Tensor, Tensor, Tensor]:
    """`count` random pairs (first, second, same) of indices, round(count * positive_fraction)
    of them of the same class (same = 1.0), the others of different classes (same = 0.0).

    Drawn uniformly, nine in ten pairs of a ten-class data set would be different; balancing
    them gives both terms of the contrastive loss work and makes accuracy mean something.
    """
    labels = labels.cpu()
    positives = round(count * positive_fraction)
    first_pos = _anchors(labels, positives, generator)
    first_neg = torch.randint(len(labels), (count - positives,), generator=generator)
    second_pos = _partners(labels, first_pos, True, generator)
    second_neg = _partners(labels, first_neg, False, generator)
    same = torch.cat([torch.ones(positives), torch.zeros(count - positives)])
    return torch.cat([first_pos, first_neg]), torch.cat([second_pos, second_neg]), same


def sample_triplets(
    labels: Tensor, count: int, generator: torch.Generator
) -> tuple[Tensor, Tensor, Tensor]:
    """`count` random triplets (anchor, positive, negative) of indices: the positive shares
    the anchor's class and is another example, the negative has a different class."""
    labels = labels.cpu()
    anchor = _anchors(labels, count, generator)
    positive = _partners(labels, anchor, True, generator)
    negative = _partners(labels, anchor, False, generator)
    return anchor, positive, negative


def sample_pk_batch(
    labels: Tensor, classes: int, per_class: int, generator: torch.Generator
) -> Tensor:
    """Indices of a P x K batch (Hermans et al.): `classes` random classes, `per_class`
    different examples of each (all of them if a class has fewer). Every anchor then has
    K - 1 positives and (P - 1) K negatives to mine from."""
    labels = labels.cpu()
    present = torch.unique(labels)
    chosen = present[torch.randperm(len(present), generator=generator)[:classes]]
    batch = []
    for c in chosen:
        members = torch.nonzero(labels == c).squeeze(1)
        batch.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(batch)


# ---------------------------------------------------------------- the shared network


class EmbeddingNet(nn.Module):
    """The one network of a siamese pair: a grey image (N, 1, size, size) -> (N, dim).

    Two LeNet-style stages (3x3 convolution, ReLU, 2x2 max pooling), then two linear layers.
    normalize: put every embedding on the unit sphere, as FaceNet does. Distances then lie
    in [0, 2], so a margin means the same for every network, and the loss cannot be lowered
    by blowing all embeddings up (for the contrastive loss) or shrinking them.
    """

    def __init__(
        self,
        dim: int = 16,
        channels: int = 16,
        hidden: int = 64,
        size: int = 8,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        self.conv1 = Conv2d(1, channels, 3, padding=1)
        self.conv2 = Conv2d(channels, 2 * channels, 3, padding=1)
        self.pool = MaxPool2d(2)
        self.fc1 = nn.Linear(2 * channels * (size // 4) ** 2, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.normalize = normalize

    def forward(self, x: Tensor) -> Tensor:
        h = self.pool(torch.relu(self.conv1(x)))
        h = self.pool(torch.relu(self.conv2(h)))
        z = self.fc2(torch.relu(self.fc1(h.flatten(1))))
        if self.normalize:
            z = z / lp_norm(z).clamp_min(1e-12)[:, None]
        return z


# ---------------------------------------------------------------- verification


def verification_accuracy(distances: np.ndarray, same: np.ndarray, threshold: float) -> float:
    """Share of pairs decided right by "same if distance <= threshold"."""
    decided_same = np.asarray(distances) <= threshold
    return float(np.mean(decided_same == np.asarray(same).astype(bool)))


def best_threshold(distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """(threshold, accuracy): the threshold with the highest verification accuracy on these
    pairs, placed midway between two neighbouring distances (or below / above all of them).

    Choose it on validation pairs and use it unchanged on test pairs; chosen on the test
    pairs themselves, the accuracy would be flattered.
    """
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(same).astype(bool)
    order = np.argsort(d, kind="stable")
    d, s = d[order], s[order]
    # Deciding "same" for the k closest pairs (k = 0 .. n) gets right the same pairs among
    # them and the different pairs among the rest.
    right = np.r_[0, np.cumsum(s)] + (~s).sum() - np.r_[0, np.cumsum(~s)]
    possible = np.r_[True, d[1:] > d[:-1], True]  # tied distances fall on one side together
    k = int(np.argmax(np.where(possible, right, -1)))
    if k == 0:
        threshold = d[0] - 1.0
    elif k == len(d):
        threshold = d[-1] + 1.0
    else:
        threshold = (d[k - 1] + d[k]) / 2
    return float(threshold), float(right[k] / len(d))
