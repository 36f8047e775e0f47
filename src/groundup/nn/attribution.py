"""Attribution: which input features made a network give its answer.

Every method here explains one number, the output of the target class f_c(x) (a logit, before
the softmax), by a map with the shape of the input x:

- saliency (Simonyan et al. 2013): |df_c/dx|, how sensitive the output is to each feature;
- gradient x input: x * df_c/dx, the first-order Taylor share of each feature;
- SmoothGrad (Smilkov et al. 2017): the saliency averaged over noisy copies of x;
- integrated gradients (Sundararajan et al. 2017): the gradient averaged along the straight
  path from a baseline x0 to x, times (x - x0):

      IG_i(x) = (x_i - x0_i) * integral_0^1 df_c/dx_i (x0 + a (x - x0)) da

  By the fundamental theorem of calculus for path integrals the attributions add up to
  f_c(x) - f_c(x0) (completeness). The integral is a quadrature sum over `steps` points, so
  the sum misses by a completeness gap that shrinks as the steps grow.

The conventions follow Captum's Saliency, InputXGradient, NoiseTunnel and IntegratedGradients,
against which the tests compare. The model must treat the examples of a batch independently
(eval mode: no batch-norm statistics, no dropout), because one backward pass through the sum
of the target outputs then gives every example its own gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

Model = Callable[[Tensor], Tensor]  # (N, ...) -> (N, classes)
Target = int | Tensor  # one class for the whole batch, or one per example (N,)

METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")
BASELINES = ("black", "blur", "noise")


# ---------------------------------------------------------------- gradients


def target_output(model: Model, x: Tensor, target: Target) -> Tensor:
    """f_c(x): the model's output for the target class of every example, shape (N,)."""
    out = model(x)
    if isinstance(target, int):
        return out[:, target]
    return out.gather(1, target.to(out.device).view(-1, 1)).squeeze(1)


def gradient(model: Model, x: Tensor, target: Target) -> Tensor:
    """df_c/dx for every example, shape of x; x itself is left untouched."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(target_output(model, x, target).sum(), x)
    return grad


def saliency(model: Model, x: Tensor, target: Target, absolute: bool = True) -> Tensor:
    """Vanilla gradient saliency: |df_c/dx| (or the signed gradient), shape of x."""
    grad = gradient(model, x, target)
    return grad.abs() if absolute else grad


def saliency_map(attributions: Tensor) -> Tensor:
    """(N, C, H, W) -> (N, H, W): the largest magnitude over the channels, as Simonyan et al."""
    return attributions.abs().amax(dim=1)


def input_x_gradient(model: Model, x: Tensor, target: Target) -> Tensor:
    """x * df_c/dx: what a linear model's prediction owes to each feature, shape of x."""
    return x * gradient(model, x, target)


def smoothgrad(
    model: Model,
    x: Tensor,
    target: Target,
    samples: int = 25,
    sigma: float = 0.15,
    absolute: bool = True,
    generator: torch.Generator | None = None,
    noise: Tensor | None = None,
) -> Tensor:
    """The saliency averaged over `samples` copies of x with Gaussian noise of std `sigma`.

    noise: optional (N * samples, ...) draws to use instead (the `samples` copies of example
    n are rows n*samples ... n*samples + samples - 1), so a test can feed the reference the
    same noise.
    """
    n = len(x)
    if noise is None:
        shape = (n * samples, *x.shape[1:])
        noise = torch.randn(shape, generator=generator, dtype=x.dtype).to(x.device) * sigma
    noisy = x.repeat_interleave(samples, dim=0) + noise
    targets = target if isinstance(target, int) else target.repeat_interleave(samples)
    maps = saliency(model, noisy, targets, absolute)
    return maps.view(n, samples, *x.shape[1:]).mean(dim=1)


# ---------------------------------------------------------------- integrated gradients


def make_baseline(
    x: Tensor,
    kind: str = "black",
    blur_sigma: float = 1.5,
    low: float = 0.0,
    high: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The reference input x0 that IG measures from, shape of x (N, C, H, W).

    black: all zeros, "no signal" for images scaled to [0, 1]. blur: x under a Gaussian blur
    of std blur_sigma pixels, which keeps the overall brightness and removes the strokes.
    noise: uniform in [low, high], drawn independently for every pixel.
    """
    if kind == "black":
        return torch.zeros_like(x)
    if kind == "noise":
        draws = torch.rand(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        return low + (high - low) * draws
    if kind == "blur":
        return gaussian_blur(x, blur_sigma)
    raise ValueError(f"baseline must be one of {BASELINES}, got {kind!r}")


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of every channel; the edge pixels are repeated outwards."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    rows = kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1)  # one kernel per channel (groups=c)
    padded = F.pad(x, (radius, radius, 0, 0), mode="replicate")
    x = F.conv2d(padded, rows, groups=c)
    padded = F.pad(x, (0, 0, radius, radius), mode="replicate")
    return F.conv2d(padded, rows.transpose(2, 3), groups=c)


def integration_points(steps: int, method: str = "gausslegendre") -> tuple[Tensor, Tensor]:
    """Points a in [0, 1] and weights w with sum_k w_k g(a_k) ~ integral_0^1 g(a) da (float64).

    Riemann sums use `steps` equal slices of width 1/steps and evaluate g at the left edge,
    the right edge or the middle of each; the trapezoid rule evaluates at `steps` points from
    0 to 1 (both ends), steps - 1 slices, and halves the weight of the two ends. Gauss-Legendre puts the points
    where a polynomial of degree 2*steps - 1 is integrated exactly.
    """
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)  # on [-1, 1]
        alphas, weights = torch.from_numpy((nodes + 1) / 2), torch.from_numpy(weights / 2)
        return alphas, weights
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if steps < 2:
        raise ValueError(f"the Riemann methods need at least 2 steps, got {steps}")
    k = torch.arange(steps, dtype=torch.float64)
    weights = torch.full((steps,), 1 / steps, dtype=torch.float64)
    if method == "riemann_left":
        return k / steps, weights
    if method == "riemann_right":
        return (k + 1) / steps, weights
    if method == "riemann_middle":
        return (k + 0.5) / steps, weights
    # trapezoid: steps points from 0 to 1 cut [0, 1] into steps - 1 slices, the ends count
    # half. (Captum keeps the width 1/steps here, so its weights add up to 1 - 1/steps.)
    weights = torch.full((steps,), 1 / (steps - 1), dtype=torch.float64)
    weights[0] /= 2
    weights[-1] /= 2
    return k / (steps - 1), weights


def integrated_gradients(
    model: Model,
    x: Tensor,
    target: Target,
    baseline: Tensor | None = None,
    steps: int = 50,
    method: str = "gausslegendre",
    batch_size: int | None = None,
) -> Tensor:
    """IG attributions, shape of x; baseline defaults to black (zeros), shape of x.

    All steps * N points on the paths go through the model together, `batch_size` of them per
    forward and backward pass (None: all at once).
    """
    x0 = torch.zeros_like(x) if baseline is None else baseline.to(x)
    alphas, weights = (t.to(x) for t in integration_points(steps, method))
    n, shape = len(x), x.shape[1:]
    # (steps, N, ...): the point at alpha_k on the path of example n is row k * N + n
    alpha = alphas.view(-1, 1, *([1] * len(shape)))
    points = (x0 + alpha * (x - x0)).reshape(steps * n, *shape)
    targets = target if isinstance(target, int) else target.repeat(steps)
    chunk = batch_size or len(points)
    grads = torch.cat(
        [
            gradient(model, points[i : i + chunk], _rows(targets, i, chunk))
            for i in range(0, len(points), chunk)
        ]
    )
    weight = weights.view(-1, 1, *([1] * len(shape)))
    average_grad = (weight * grads.view(steps, n, *shape)).sum(dim=0)
    return (x - x0) * average_grad


def _rows(target: Target, start: int, size: int) -> Target:
    return target if isinstance(target, int) else target[start : start + size]


@torch.no_grad()
def completeness_gap(
    model: Model, x: Tensor, baseline: Tensor, target: Target, attributions: Tensor
) -> Tensor:
    """sum_i IG_i - (f_c(x) - f_c(x0)) for every example, shape (N,); zero for exact IG.

    The same number as Captum's convergence delta.
    """
    total = attributions.flatten(1).sum(dim=1)
    change = target_output(model, x, target) - target_output(model, baseline.to(x), target)
    return total - change
