"""Exercise `cnn`: a 2-D convolution layer's forward pass from tensor operations.

Write `conv2d(x, weight, bias=None, stride=1, padding=0)`. Like every deep-learning library,
compute cross-correlation (the kernel is NOT flipped):

    out[n, o, i, j] = bias[o] + sum over c, u, v of
                      weight[o, c, u, v] * x_pad[n, c, i*stride + u, j*stride + v]

where x_pad is x with `padding` zeros added on all four sides. Output size per axis:
    out = (size + 2*padding - kernel) // stride + 1

`groundup check cnn` grades it against torch.nn.functional.conv2d: shapes, values (one and
several channels, padding, stride, non-square inputs and kernels, bias) and the gradients
with respect to x, weight and bias. Do not call F.conv2d, F.unfold or nn.Conv2d yourself.
Loops over the output positions or over the kernel positions are fine (the checks use
small inputs); im2col plus one matrix product is the fast way.

DE: Übung `cnn`: der Vorwärtsschritt einer 2-D-Faltungsschicht aus Tensor-Operationen.
Schreiben Sie `conv2d(x, weight, bias=None, stride=1, padding=0)`. Wie jede
Deep-Learning-Bibliothek berechnen Sie die Kreuzkorrelation (der Kern wird NICHT
gespiegelt): out[n, o, i, j] = bias[o] + Summe über c, u, v von
weight[o, c, u, v] * x_pad[n, c, i*stride + u, j*stride + v], wobei x_pad das um `padding`
Nullen auf allen vier Seiten erweiterte x ist. Ausgabegröße je Achse:
(Größe + 2*padding - Kern) // stride + 1. `groundup check cnn` vergleicht mit
torch.nn.functional.conv2d: Formen, Werte und Gradienten nach x, weight und bias. Rufen Sie
F.conv2d, F.unfold oder nn.Conv2d nicht selbst auf; Schleifen sind erlaubt, im2col mit einem
Matrixprodukt ist der schnelle Weg.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.stack, torch.zeros, ...
import torch.nn.functional as F  # noqa: F401 - F.pad is allowed (F.conv2d is not)
from torch import Tensor


def conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0
) -> Tensor:
    """2-D cross-correlation with stride and zero padding, as torch.nn.functional.conv2d.

    x:      (N, C, H, W)     a batch of N images with C channels
    weight: (O, C, kh, kw)   O kernels, each spanning all C input channels
    bias:   (O,) or None     one number added to every pixel of output channel o
    stride, padding: ints, the same for height and width
    Returns (N, O, oh, ow) with oh = (H + 2*padding - kh) // stride + 1 (ow likewise).
    H != W and kh != kw happen. The result must stay differentiable: gradients flow back
    to x, weight and bias (stay in torch: no .numpy(), no .detach(), no .item()).

    DE: 2-D-Kreuzkorrelation mit Schrittweite (stride) und Null-Padding wie
    torch.nn.functional.conv2d. x: (N, C, H, W), weight: (O, C, kh, kw), bias: (O,) oder
    None; stride und padding sind ganze Zahlen, gleich für Höhe und Breite. Rückgabe
    (N, O, oh, ow) mit oh = (H + 2*padding - kh) // stride + 1 (ow ebenso). H != W und
    kh != kw kommen vor. Das Ergebnis muss differenzierbar bleiben.
    """
    # 1. pad x with zeros on all four sides: F.pad(x, (padding, padding, padding, padding))
    # 2. compute the output size oh, ow
    # 3. for every output position (i, j): the window of x_pad starting at
    #    (i*stride, j*stride), of size kh x kw, times each kernel, summed over c, u and v
    #    (or: collect all windows as columns, im2col, and do one matrix product)
    # 4. add the bias of each output channel, if there is one
    raise NotImplementedError("TODO: conv2d")
