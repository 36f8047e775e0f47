"""Loss functions from plain tensor operations, each equal to its torch.nn.functional twin.

Every loss here is a negative log-likelihood (Goodfellow, Bengio & Courville, "Deep
Learning", section 6.2.1): pick a distribution for the target given the model's output, then
minimise -log p(target).

    Gaussian with fixed variance     ->  mean squared error        mse_loss
    Laplace                          ->  mean absolute error       l1_loss
    Bernoulli with p = sigmoid(x)    ->  binary cross-entropy      binary_cross_entropy*
    categorical with p = softmax(x)  ->  cross-entropy             cross_entropy

Huber is the odd one out: quadratic near zero like MSE, linear far out like L1, a compromise
for data with outliers.

Reductions follow torch: "none" keeps one loss per element, "sum" adds them, "mean" divides
by the number of elements (for cross-entropy with class weights: by the total weight).
"""

from __future__ import annotations

import torch
from torch import Tensor

REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")


# ---------------------------------------------------------------- regression


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(input - target)^2: -log of a Gaussian with variance 1/2, up to a constant."""
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|input - target|: -log of a Laplace density, up to a constant; its minimiser is a median."""
    return _reduce((input - target).abs(), reduction)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    """0.5 r^2 for |r| <= delta, delta (|r| - 0.5 delta) beyond: the two pieces meet with the
    same value and slope at |r| = delta, so the gradient is r near zero and +-delta far out."""
    if delta <= 0:
        raise ValueError(f"delta must be > 0, got {delta}")
    r = (input - target).abs()
    loss = torch.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- two classes: Bernoulli


def softplus(x: Tensor) -> Tensor:
    """log(1 + e^x) without overflow: max(x, 0) + log(1 + e^-|x|).

    e^-|x| lies in (0, 1], so nothing overflows, and log1p keeps the tiny values accurate.
    Both pieces are written with `where` on the same test (x > 0) so that at exactly x = 0
    the slope is the true derivative sigmoid(0) = 1/2; with clamp and abs, autograd would
    pick a one-sided slope there.
    """
    positive = x > 0
    minus_abs = torch.where(positive, -x, x)  # -|x|
    return torch.where(positive, x, torch.zeros_like(x)) + torch.log1p(torch.exp(minus_abs))


def binary_cross_entropy(
    probs: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] for probabilities p in [0, 1] and targets y in [0, 1].

    Like torch, each log is clamped at -100, so p = 0 or 1 gives a large finite loss instead
    of inf. Prefer `binary_cross_entropy_with_logits`: a sigmoid that has already rounded to
    exactly 1.0 has lost the information the loss needs.
    """
    log_p = torch.log(probs).clamp(min=-100.0)
    log_not_p = torch.log(1.0 - probs).clamp(min=-100.0)
    loss = -(target * log_p + (1.0 - target) * log_not_p)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of p = sigmoid(logits), computed from the logits directly.

    log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x), so
        loss = pos_weight * y * softplus(-x) + (1 - y) * softplus(x)
    is exact and finite for any logit. pos_weight (broadcast along the last axis, one value
    per class) scales the positive term: > 1 trades precision for recall.
    """
    positive_term = softplus(-logits)  # -log sigmoid(x): the cost of saying "no" to a 1
    if pos_weight is not None:
        positive_term = pos_weight * positive_term
    loss = target * positive_term + (1.0 - target) * softplus(logits)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- many classes: categorical


def logsumexp(x: Tensor, dim: int = -1, keepdim: bool = False) -> Tensor:
    """log sum_i e^{x_i} = m + log sum_i e^{x_i - m} with m = max_i x_i.

    After the shift the largest term is e^0 = 1, so the sum lies in [1, n]: no overflow, and
    no log(0) from underflow. m is detached because the result does not depend on it: the
    gradient through m would be zero, up to rounding.
    """
    m = x.amax(dim=dim, keepdim=True).detach()
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))  # a row of -inf stays -inf
    out = m + torch.log(torch.exp(x - m).sum(dim=dim, keepdim=True))
    return out if keepdim else out.squeeze(dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log softmax(x)_i = x_i - logsumexp(x): log-probabilities that sum (after exp) to 1."""
    return x - logsumexp(x, dim=dim, keepdim=True)


def cross_entropy(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """-log softmax(logits)[target], with torch's conventions.

    logits: (N, C) or (N, C, d1, d2, ...) with the classes on axis 1, or (C,) for one example;
    target: integer class indices of shape (N,) or (N, d1, d2, ...) (or () for (C,) logits).
    Positions whose target equals ignore_index contribute 0 and are not counted.
    weight: (C,) class weights. label_smoothing eps mixes the one-hot target with the uniform
    distribution over all C classes: q = (1 - eps) onehot(y) + eps / C. Per position,

        loss = (1 - eps) w[y] (-log p_y) + (eps / C) sum_c w[c] (-log p_c)

    "mean" divides the sum by sum_i w[y_i] over the counted positions (their number without
    weights), exactly as torch does; the smoothing term uses the same divisor.
    """
    if target.is_floating_point():
        raise TypeError("cross_entropy takes integer class indices as target (int64)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
    if logits.dim() == 1:  # a single example: (C,) logits, () target
        logits, target = logits.unsqueeze(0), target.unsqueeze(0)
        reduction_shape: tuple[int, ...] = ()
    else:
        reduction_shape = tuple(target.shape)
    log_p = log_softmax(logits.movedim(1, -1), dim=-1)  # (N, d1, ..., C)
    n_classes = log_p.size(-1)

    counted = target != ignore_index
    safe_target = target.masked_fill(~counted, 0)  # any valid index; these positions are zeroed
    nll = -log_p.gather(-1, safe_target.unsqueeze(-1)).squeeze(-1)  # -log p_y
    w = torch.ones(n_classes, dtype=log_p.dtype, device=log_p.device) if weight is None else weight
    w_target = w[safe_target] * counted  # w[y_i], 0 where ignored
    loss = w_target * nll
    if label_smoothing > 0.0:
        uniform_part = -(log_p * w).sum(dim=-1) * counted  # sum_c w[c] (-log p_c)
        loss = (1.0 - label_smoothing) * loss + (label_smoothing / n_classes) * uniform_part

    if reduction == "none":
        return loss.reshape(reduction_shape)
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / w_target.sum()  # 0/0 = nan when every position is ignored, as torch
    raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")
