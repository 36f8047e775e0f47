"""Batch normalization and layer normalization, from plain tensor operations.

Both layers standardise activations and then let the network rescale them:

    y = (x - mean) / sqrt(var + eps) * weight + bias

They differ in *which* numbers share a mean and a variance.

- Batch norm (Ioffe & Szegedy 2015, algorithm 1): one mean and variance per channel, taken
  over the batch (and over the spatial positions of an image). The statistics depend on the
  other examples in the batch, so at inference time the layer uses running averages that it
  collected during training instead (algorithm 2).
- Layer norm (Ba, Kiros & Hinton 2016, eq. 4): one mean and variance per example, taken over
  its last dimensions (the features). No batch, no running statistics, the same computation
  in training and inference; this is the one Transformers use.

Conventions follow torch.nn.BatchNorm1d/2d and torch.nn.LayerNorm, state-dict names included,
so weights load both ways with `load_state_dict`. As in torch, the variance that normalises
is the biased one (divide by n), while the running variance is updated with the unbiased one
(divide by n - 1), the paper's estimate of the population variance.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

# ---------------------------------------------------------------- batch normalization


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization with the signature of torch.nn.functional.batch_norm.

    x: (N, C) or (N, C, *): statistics per channel C, over the batch and all positions *.
    running_mean, running_var: (C,) or None. In training mode they are updated in place:
        running = (1 - momentum) * running + momentum * batch_statistic
    with the unbiased batch variance. In eval mode they replace the batch statistics.
    weight, bias: (C,) or None (then 1 and 0).
    """
    if x.dim() < 2:
        raise ValueError(f"batch_norm expects (N, C) or (N, C, *), got shape {tuple(x.shape)}")
    channels = x.size(1)
    axes = [0, *range(2, x.dim())]  # every axis but the channel axis
    shape = [1, channels] + [1] * (x.dim() - 2)  # broadcasts a (C,) vector over x

    if training or running_mean is None or running_var is None:
        n = x.numel() // channels
        if training and n <= 1:
            raise ValueError(
                f"batch_norm needs more than one value per channel when training, got {n}"
            )
        mean = x.mean(dim=axes)
        var = x.var(dim=axes, unbiased=False)  # biased: the batch's own spread (alg. 1)
        if training and running_mean is not None and running_var is not None:
            with torch.no_grad():  # running statistics are bookkeeping, not part of the graph
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))  # unbiased
    else:
        mean, var = running_mean, running_var  # inference: fixed statistics (alg. 2)

    y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + eps)
    if weight is not None:
        y = y * weight.view(shape)
    if bias is not None:
        y = y + bias.view(shape)
    return y


class BatchNorm(nn.Module):
    """Batch normalization over the channel axis 1 of (N, C, *) inputs.

    momentum=None averages all batches seen so far equally (a cumulative moving average), as in
    torch. With track_running_stats=False the layer always uses batch statistics.
    """

    expected_dims: tuple[int, ...] = ()  # allowed x.dim() values; empty means any >= 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:  # gamma and beta of the paper: the layer can undo the normalization
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Tensor) -> Tensor:
        if self.expected_dims and x.dim() not in self.expected_dims:
            raise ValueError(
                f"{type(self).__name__} expects {' or '.join(map(str, self.expected_dims))}-D "
                f"input, got shape {tuple(x.shape)}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # the n-th batch gets weight 1/n: a plain average
                momentum = 1.0 / float(self.num_batches_tracked)
        return batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training or not self.track_running_stats,
            momentum=momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(BatchNorm):
    """(N, C) features or (N, C, L) sequences; like torch.nn.BatchNorm1d."""

    expected_dims = (2, 3)


class BatchNorm2d(BatchNorm):
    """(N, C, H, W) images, one mean and variance per channel; like torch.nn.BatchNorm2d."""

    expected_dims = (4,)


# ---------------------------------------------------------------- layer normalization


def layer_norm(
    x: Tensor,
    normalized_shape: tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalization with the signature of torch.nn.functional.layer_norm.

    Statistics per example over the last len(normalized_shape) axes of x, which must have
    exactly that shape; weight and bias (shape normalized_shape) act elementwise.
    """
    normalized_shape = tuple(normalized_shape)
    if tuple(x.shape[x.dim() - len(normalized_shape) :]) != normalized_shape:
        raise ValueError(
            f"layer_norm over {normalized_shape} needs x to end in that shape, got {tuple(x.shape)}"
        )
    axes = tuple(range(-len(normalized_shape), 0))
    mean = x.mean(dim=axes, keepdim=True)
    var = x.var(dim=axes, unbiased=False, keepdim=True)
    y = (x - mean) * torch.rsqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


class LayerNorm(nn.Module):
    """Layer normalization over the last dimensions; like torch.nn.LayerNorm."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:  # one gain and one bias per feature, shared by all examples
            self.weight = nn.Parameter(torch.ones(self.normalized_shape))
            bias_init = nn.Parameter(torch.zeros(self.normalized_shape)) if bias else None
            self.register_parameter("bias", bias_init)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
