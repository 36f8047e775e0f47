"""Exercise `mlp`: the three pieces every MLP is made of, from tensor operations.

Write
- `linear(x, weight, bias=None)`: the affine map of a fully connected layer,
  y = x @ weight.T + bias, with PyTorch's layout weight (out, in), bias (out,);
- `gelu(x)`: the EXACT GELU, x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))), not the tanh
  approximation;
- `kaiming_normal_(tensor, generator=None)`: fill a weight (out, in) IN PLACE with draws
  from N(0, std^2), std = sqrt(2 / fan_in) (He et al. 2015, for ReLU networks; fan_in = in,
  the number of inputs of each unit) and return it.

`groundup check mlp` compares them with torch.nn.functional.linear, torch.nn.functional.gelu
and torch.nn.init.kaiming_normal_: shapes, values, gradients, the standard deviation of a
large initialised matrix (within 2 % of sqrt(2 / fan_in)), and, with the same generator,
the very numbers torch draws. Do not call F.linear, F.gelu, torch.nn.init or nn.Linear.

DE: Übung `mlp`: die drei Bausteine jedes MLP aus Tensor-Operationen. Schreiben Sie
`linear(x, weight, bias=None)`: die affine Abbildung einer vollständig verbundenen Schicht,
y = x @ weight.T + bias, mit PyTorchs Layout weight (out, in), bias (out,); `gelu(x)`: die
EXAKTE GELU, 0.5 * x * (1 + erf(x / sqrt(2))), nicht die tanh-Näherung;
`kaiming_normal_(tensor, generator=None)`: füllt ein Gewicht (out, in) AN ORT UND STELLE mit
Ziehungen aus N(0, std^2), std = sqrt(2 / fan_in) (fan_in = in, die Zahl der Eingänge jeder
Einheit), und gibt es zurück. `groundup check mlp` vergleicht mit F.linear, F.gelu und
torch.nn.init.kaiming_normal_: Formen, Werte, Gradienten, Standardabweichung einer großen
Matrix (auf 2 % genau sqrt(2 / fan_in)) und, mit demselben Generator, genau die Zahlen, die
torch zieht. Rufen Sie F.linear, F.gelu, torch.nn.init oder nn.Linear nicht selbst auf.
"""

from __future__ import annotations

import math  # noqa: F401 - math.sqrt, math.pi

import torch  # noqa: F401 - torch.erf, torch.no_grad, ...
from torch import Tensor


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x @ weight.T + bias.

    x:      (..., in)   any number of leading batch axes
    weight: (out, in)   one row per output unit (PyTorch's layout: transpose it!)
    bias:   (out,) or None
    Returns (..., out). Stay in torch so gradients reach x, weight and bias.

    DE: y = x @ weight.T + bias. x (..., in), weight (out, in) -- eine Zeile pro
    Ausgabeeinheit, also transponieren --, bias (out,) oder None. Ergebnis (..., out);
    bleiben Sie in torch, damit Gradienten x, weight und bias erreichen.
    """
    raise NotImplementedError("TODO: the affine map x @ weight.T + bias")


def gelu(x: Tensor) -> Tensor:
    """The exact GELU, elementwise: 0.5 * x * (1 + erf(x / sqrt(2))). Same shape as x.

    DE: Die exakte GELU, elementweise: 0.5 * x * (1 + erf(x / sqrt(2))). Gleiche Form wie x.
    """
    raise NotImplementedError("TODO: x times the standard normal CDF of x, via torch.erf")


def kaiming_normal_(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Fill tensor (out, in) in place from N(0, 2 / fan_in), fan_in = tensor.shape[1];
    return the same tensor. Draw with tensor.normal_(mean, std, generator=generator) (inside
    torch.no_grad() if the tensor requires grad), so the same generator seed gives the same
    numbers as torch.nn.init.kaiming_normal_(tensor, nonlinearity="relu").

    DE: Füllt tensor (out, in) an Ort und Stelle aus N(0, 2 / fan_in), fan_in =
    tensor.shape[1], und gibt denselben Tensor zurück. Ziehen Sie mit
    tensor.normal_(mean, std, generator=generator) (in torch.no_grad(), falls der Tensor
    Gradienten verlangt), damit derselbe Generator-Seed dieselben Zahlen liefert wie
    torch.nn.init.kaiming_normal_(tensor, nonlinearity="relu").
    """
    raise NotImplementedError("TODO: std = sqrt(2 / fan_in), then tensor.normal_(...)")
