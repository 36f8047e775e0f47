"""Batch-1 decoding at the speed of memory: one-row matrix products compiled into one pass.

A decode step at batch 1 multiplies one row vector by every weight matrix, so it costs what
reading the weights costs (GPT-2 small: 500 MB of float32 per token), and the kernel's read
speed sets the tokens per second. PyTorch's one-row `linear` (BLAS's matrix-vector product)
reads about 12 GB/s on the two-core test machine; `(row * weight).sum(-1)` compiled by
torch.compile becomes one loop over the weight that reads 25-30 GB/s. The GPT lesson has the
measurements.

`speed_up_decoding(model)` gives every nn.Linear of a model that path for exactly this case:
an input of one row with no gradient wanted (generation runs under `torch.inference_mode`).
Prompts, batches and training keep `F.linear`. The results equal `F.linear` up to the order
of the additions (float32 rounding).

The compiled functions treat the matrix sizes as variables (`dynamic=True`, with the weights
passed as plain tensors: torch.compile fixes the sizes of Parameters), so one compiled kernel
serves every layer of every model; a kernel per weight shape would run into torch.compile's
limit of recompilations and then silently fall back to a slow eager multiply-and-sum.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _matvec(row: Tensor, weight: Tensor) -> Tensor:
    """row (1, in) times weight (out, in) transposed -> (out,): a multiply and a sum per
    output, which the compiler fuses into one loop over the weight (nothing of size out x in
    is made)."""
    return (row * weight).sum(-1)


def _matvec_bias(row: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    return (row * weight).sum(-1) + bias


_compiled_matvec = torch.compile(_matvec, dynamic=True)
_compiled_matvec_bias = torch.compile(_matvec_bias, dynamic=True)


# Smaller weights stay in the CPU's caches, where the BLAS kernel is quick and the compiled
# call's fixed cost (tens of microseconds) would outweigh what it saves.
MIN_WEIGHT_ELEMENTS = 1 << 18  # 1 MB of float32


class MatVecLinear(nn.Linear):
    """nn.Linear whose one-row, gradient-free calls run the compiled matrix-vector product
    (for weights of at least MIN_WEIGHT_ELEMENTS)."""

    def forward(self, x: Tensor) -> Tensor:
        one_row = x.shape[:-1].numel() == 1
        if not one_row or torch.is_grad_enabled() or self.weight.numel() < MIN_WEIGHT_ELEMENTS:
            return F.linear(x, self.weight, self.bias)
        row, weight = x.reshape(1, -1), self.weight.detach()
        if self.bias is None:
            y = _compiled_matvec(row, weight)
        else:
            y = _compiled_matvec_bias(row, weight, self.bias.detach())
        return y.view(*x.shape[:-1], self.out_features)


def speed_up_decoding(model: nn.Module) -> nn.Module:
    """Switch every nn.Linear in `model` to MatVecLinear, in place (parameters, state_dict and
    everything else stay as they are), compile the kernels now and return the model.

    Compiling needs a C++ compiler (torch.compile's CPU backend); without one this raises
    RuntimeError here rather than at the first generated token."""
    for module in model.modules():
        if type(module) is nn.Linear:
            module.__class__ = MatVecLinear
    warm_up_kernels()
    return model


def warm_up_kernels() -> float:
    """Compile both kernels on an example (the compiled code then serves all sizes); returns
    the seconds it took, which is far less once torch.compile's disk cache is warm."""
    start = time.perf_counter()
    try:
        # The compiler plans the loops for the example's sizes even though the code accepts
        # any: a small example gives a kernel that runs on one core only.
        layer = nn.Linear(1024, 4096)
        with torch.inference_mode():  # as in generation: an inference tensor, detached weights
            row, weight, bias = torch.randn(1, 1024), layer.weight.detach(), layer.bias.detach()
            matvec = _compiled_matvec(row, weight)
            matvec_bias = _compiled_matvec_bias(row, weight, bias)
    except Exception as error:  # the compiler's own errors have many types
        raise RuntimeError(
            "torch.compile could not build the decoding kernels (it needs a working C++ "
            f"compiler such as g++): {type(error).__name__}: {error}"
        ) from error
    expected = weight @ row[0]
    if not (
        torch.allclose(matvec, expected, atol=1e-5)
        and torch.allclose(matvec_bias, expected + bias, atol=1e-5)
    ):
        raise RuntimeError("the compiled decoding kernels disagree with a plain matrix product")
    return time.perf_counter() - start
