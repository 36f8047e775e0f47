"""Capsule networks with dynamic routing (Sabour, Frosst & Hinton 2017), in plain torch.

A capsule is a group of neurons whose output is a vector: its length is the probability that
the entity it stands for is present, its direction describes how (pose, stroke thickness,
skew). Equation numbers are the paper's.

    squash (Eq. 1):        v_j = |s_j|^2 / (1 + |s_j|^2) * s_j / |s_j|
    predictions (Eq. 2):   u_hat_{j|i} = W_ij u_i,          s_j = sum_i c_ij u_hat_{j|i}
    coupling (Eq. 3):      c_ij = exp(b_ij) / sum_k exp(b_ik)   (softmax over the parents j)
    agreement:             b_ij <- b_ij + u_hat_{j|i} . v_j
    margin loss (Eq. 4):   L_k = T_k max(0, m+ - |v_k|)^2 + lambda (1 - T_k) max(0, |v_k| - m-)^2

Routing by agreement (Procedure 1) starts from b = 0 and repeats "couple, sum, squash, agree"
r times. Gradients flow through every iteration, as in the paper's equations and the
authors' published code; `detach_agreement=True` gives the variant many re-implementations
use, where the agreement of the inner iterations is computed from u_hat.detach(), so the
gradient reaches u_hat only through the last weighted sum (the coupling coefficients are then
treated as constants by backprop).

Layouts: capsule vectors along the last axis. Primary capsules (N, n_in, d_in); predictions
u_hat (N, n_in, n_out, d_out); coupling coefficients (N, n_in, n_out); output capsules
(N, n_out, d_out).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from groundup.nn.conv import Conv2d

SQUASH_EPS = 1e-8


def squash(s: Tensor, dim: int = -1, eps: float = SQUASH_EPS) -> Tensor:
    """Eq. 1: keep the direction of s, map its length |s| to |s|^2 / (1 + |s|^2) in [0, 1).

    Written as s * |s|^2 / ((1 + |s|^2) sqrt(|s|^2 + eps)). Without eps, s = 0 gives 0/0 in
    the value and, worse, sqrt'(0) = inf in the gradient: a single all-zero capsule (a dead
    ReLU patch) turns every gradient of the batch into NaN. With eps the value at 0 is 0 and
    so is its gradient, which is also the true derivative there (|v| grows like |s|^2).
    """
    squared_norm = (s * s).sum(dim=dim, keepdim=True)
    scale = squared_norm / (1.0 + squared_norm) / torch.sqrt(squared_norm + eps)
    return s * scale


def route(
    u_hat: Tensor, iterations: int = 3, detach_agreement: bool = False
) -> tuple[Tensor, Tensor]:
    """Procedure 1, routing by agreement: (N, n_in, n_out, d) -> v (N, n_out, d), c (N, n_in, n_out).

    Returns the output capsules v and the coupling coefficients c of the last iteration. With
    iterations=1 every child sends its prediction to all parents with the same weight 1/n_out.
    The paper also updates b after the last squash; that update is never read, so we skip it.
    """
    if iterations < 1:
        raise ValueError(f"routing needs at least one iteration, got {iterations}")
    # The inner iterations may see a detached copy: then only the final sum below carries
    # gradient to u_hat (the "stop gradient" variant).
    u_agree = u_hat.detach() if detach_agreement else u_hat
    b = u_hat.new_zeros(u_hat.shape[:-1])  # routing logits b_ij = 0
    for _ in range(iterations - 1):
        c = torch.softmax(b, dim=2)  # Eq. 3: each child i spreads 1 over the parents j
        v = squash(torch.einsum("nij,nijd->njd", c, u_agree))  # s_j = sum_i c_ij u_hat_j|i
        b = b + torch.einsum("nijd,njd->nij", u_agree, v)  # agreement u_hat_{j|i} . v_j
    c = torch.softmax(b, dim=2)
    v = squash(torch.einsum("nij,nijd->njd", c, u_hat))
    return v, c


def margin_loss(
    lengths: Tensor,
    targets: Tensor,
    m_plus: float = 0.9,
    m_minus: float = 0.1,
    lam: float = 0.5,
) -> Tensor:
    """Eq. 4, summed over the classes and averaged over the batch.

    lengths (N, K): |v_k| of the class capsules; targets (N,): class indices. The present
    class is pushed above m_plus, every absent class below m_minus; lam down-weights the
    absent classes so that early in training all lengths are not pushed to zero.
    """
    present = torch.nn.functional.one_hot(targets, lengths.shape[-1]).to(lengths.dtype)
    loss_present = present * torch.relu(m_plus - lengths) ** 2
    loss_absent = lam * (1.0 - present) * torch.relu(lengths - m_minus) ** 2
    return (loss_present + loss_absent).sum(dim=-1).mean()


def reconstruction_loss(images: Tensor, reconstructions: Tensor) -> Tensor:
    """Sum of squared pixel differences per image, averaged over the batch (weighted later)."""
    return ((reconstructions - images.flatten(1)) ** 2).sum(dim=-1).mean()


# ---------------------------------------------------------------- layers


class PrimaryCapsules(nn.Module):
    """A convolution whose channels are cut into capsules: `types` capsules of `dim` numbers
    at every output position, each squashed. (N, C, H, W) -> (N, types * h * w, dim)."""

    def __init__(
        self, in_channels: int, types: int, dim: int, kernel_size: int, stride: int = 1
    ) -> None:
        super().__init__()
        self.types, self.dim = types, dim
        self.conv = Conv2d(in_channels, types * dim, kernel_size, stride=stride)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)  # (N, types * dim, h, w)
        n, _, h, w = out.shape
        # channel t * dim + d is component d of capsule type t; one capsule per (t, y, x)
        u = out.view(n, self.types, self.dim, h, w).permute(0, 1, 3, 4, 2)
        return squash(u.reshape(n, self.types * h * w, self.dim))


class RoutingCapsules(nn.Module):
    """One parent capsule per class: u_hat_{j|i} = W_ij u_i for every pair, then routing.

    W holds a separate (d_out, d_in) matrix for each (child i, parent j) pair, as in the paper
    (no sharing across positions), so this layer holds most of the parameters.
    """

    def __init__(
        self,
        n_in: int,
        d_in: int,
        n_out: int,
        d_out: int,
        iterations: int = 3,
        detach_agreement: bool = False,
    ) -> None:
        super().__init__()
        self.iterations, self.detach_agreement = iterations, detach_agreement
        # small random matrices: every class capsule starts short, none is favoured
        self.weight = nn.Parameter(0.05 * torch.randn(n_in, n_out, d_out, d_in))

    def predictions(self, u: Tensor) -> Tensor:
        """Eq. 2, u (N, n_in, d_in) -> u_hat (N, n_in, n_out, d_out)."""
        return torch.einsum("ijdk,nik->nijd", self.weight, u)

    def forward(self, u: Tensor) -> tuple[Tensor, Tensor]:
        return route(self.predictions(u), self.iterations, self.detach_agreement)


class Decoder(nn.Module):
    """Reconstructs the image from one class capsule; the others are masked to zero.

    Training masks with the true label, evaluation with the longest capsule (Section 4.1).
    """

    def __init__(self, n_classes: int, dim: int, pixels: int, hidden: tuple[int, int]) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_classes * dim, hidden[0]),
            nn.ReLU(),
            nn.Linear(hidden[0], hidden[1]),
            nn.ReLU(),
            nn.Linear(hidden[1], pixels),
            nn.Sigmoid(),  # pixel intensities in [0, 1]
        )

    def forward(self, v: Tensor, labels: Tensor) -> Tensor:
        mask = torch.nn.functional.one_hot(labels, v.shape[1]).to(v.dtype).unsqueeze(-1)
        return self.net((v * mask).flatten(1))


# ---------------------------------------------------------------- the network


class CapsNet(nn.Module):
    """conv + ReLU -> primary capsules -> class capsules (routing) [-> decoder].

    The paper's network for 28x28 MNIST, scaled to small images: conv1 with `channels`
    kernels of 3x3, primary capsules from a 3x3 convolution, one `class_dim`-D capsule per
    class. `forward` returns the class capsules v (N, classes, class_dim); their lengths are
    the class scores.
    """

    def __init__(
        self,
        size: int = 8,
        channels: int = 64,
        primary_types: int = 8,
        primary_dim: int = 8,
        classes: int = 10,
        class_dim: int = 16,
        iterations: int = 3,
        detach_agreement: bool = False,
        decoder: bool = True,
        decoder_hidden: tuple[int, int] = (128, 256),
    ) -> None:
        super().__init__()
        self.conv1 = Conv2d(1, channels, 3)  # size -> size - 2
        self.primary = PrimaryCapsules(channels, primary_types, primary_dim, 3)  # -> size - 4
        n_primary = primary_types * (size - 4) ** 2
        self.classes = RoutingCapsules(
            n_primary, primary_dim, classes, class_dim, iterations, detach_agreement
        )
        self.decoder = Decoder(classes, class_dim, size * size, decoder_hidden) if decoder else None

    def capsules(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Class capsules v (N, classes, class_dim) and coupling coefficients c."""
        return self.classes(self.primary(torch.relu(self.conv1(x))))

    def forward(self, x: Tensor) -> Tensor:
        return self.capsules(x)[0]

    def reconstruct(self, v: Tensor, labels: Tensor | None = None) -> Tensor:
        """Images (N, pixels) decoded from the capsule of `labels` (default: the longest)."""
        if self.decoder is None:
            raise ValueError("this CapsNet was built without a decoder")
        if labels is None:
            labels = v.norm(dim=-1).argmax(dim=-1)
        return self.decoder(v, labels)
