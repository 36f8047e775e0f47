"""2-D convolution and max pooling from plain tensor operations, through im2col.

A convolution layer slides one small set of weights over the whole image: every output
pixel is the dot product of the kernel with the patch of input under it. Like PyTorch (and
every deep-learning library) we compute cross-correlation, without flipping the kernel:

    out[n, o, i, j] = bias[o] + sum_{c, u, v} weight[o, c, u, v]
                      * x_pad[n, c, i*stride + u*dilation, j*stride + v*dilation]

im2col turns this into one matrix product: copy every patch into a column of a matrix
(C*kh*kw rows, one column per output position), and the convolution becomes
weight.view(O, C*kh*kw) @ columns. Max pooling takes the same columns and keeps the largest
value of each window instead of a weighted sum.

Output size along one axis (Dumoulin & Visin 2016, relationship 15):

    out = floor((in + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1

Layouts are PyTorch's: x (N, C, H, W), weight (O, C, kh, kw), bias (O,). Gradients come from
autograd through the view, the copy and the matrix product; nothing here writes a backward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IntPair = int | tuple[int, int]


def pair(value: IntPair) -> tuple[int, int]:
    """An int means the same value for height and width."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """How many positions a (dilated) kernel fits along one axis of the padded input."""
    span = dilation * (kernel - 1) + 1  # the width the kernel covers, gaps included
    return (size + 2 * padding - span) // stride + 1


# ---------------------------------------------------------------- im2col


def im2col(
    x: Tensor,
    kernel_size: IntPair,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    pad_value: float = 0.0,
) -> Tensor:
    """Every kernel-sized patch of x as a column: (N, C, H, W) -> (N, C*kh*kw, oh*ow).

    Row c*kh*kw + u*kw + v of column i*ow + j holds x_pad[n, c, i*sh + u*dh, j*sw + v*dw],
    the same layout as torch.nn.functional.unfold (so weight.view(O, -1) lines up with it).
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (kernel_size, stride, padding, dilation))
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    if oh < 1 or ow < 1:
        raise ValueError(
            f"kernel {kh}x{kw} (dilation {dh}x{dw}) does not fit into input {h}x{w} "
            f"padded by {ph}x{pw}"
        )
    # A contiguous padded copy, so that its strides are the plain row-major ones.
    x_pad = F.pad(x, (pw, pw, ph, ph), value=pad_value).contiguous()
    s_n, s_c, s_h, s_w = x_pad.stride()
    # A view with six axes (n, c, u, v, i, j) -> x_pad[n, c, i*sh + u*dh, j*sw + v*dw]:
    # moving one kernel step jumps `dilation` pixels, one output step jumps `stride` pixels.
    # Windows overlap, so the view reads most pixels several times without copying them.
    patches = x_pad.as_strided(
        size=(n, c, kh, kw, oh, ow),
        stride=(s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw),
    )
    return patches.reshape(n, c * kh * kw, oh * ow)  # the copy: one column per window


# ---------------------------------------------------------------- convolution and pooling


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
) -> Tensor:
    """Cross-correlation of x (N, C, H, W) with weight (O, C, kh, kw), plus bias (O,).

    Returns (N, O, oh, ow), equal to torch.nn.functional.conv2d with the same arguments.
    """
    n, c, h, w = x.shape
    out_channels, in_channels, kh, kw = weight.shape
    if c != in_channels:
        raise ValueError(f"input has {c} channels, weight expects {in_channels}")
    (sh, sw), (ph, pw), (dh, dw) = map(pair, (stride, padding, dilation))
    columns = im2col(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw))  # (N, C*kh*kw, L)
    # Weight sharing is this one matrix: the same O x (C*kh*kw) weights meet every column.
    out = weight.reshape(out_channels, -1) @ columns  # (N, O, L)
    if bias is not None:
        out = out + bias.view(1, out_channels, 1)
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    return out.view(n, out_channels, oh, ow)


def max_pool2d(
    x: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> Tensor:
    """The largest value of every window: (N, C, H, W) -> (N, C, oh, ow).

    stride defaults to kernel_size (windows side by side), as in torch. Padding counts as
    -inf, so it never wins a window. The gradient goes to the one maximal element of each
    window, as in torch.nn.functional.max_pool2d.
    """
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    ph, pw = pair(padding)
    if ph > kh // 2 or pw > kw // 2:  # torch's rule: a window must never be all padding
        raise ValueError(f"padding {ph}x{pw} must be at most half of kernel {kh}x{kw}")
    n, c, h, w = x.shape
    # Channels go into the batch axis: pooling never mixes channels.
    columns = im2col(x.reshape(n * c, 1, h, w), (kh, kw), (sh, sw), (ph, pw), pad_value=-torch.inf)
    out = columns.max(dim=1).values  # (N*C, L); .max sends the gradient to one element
    return out.view(n, c, output_size(h, kh, sh, ph), output_size(w, kw, sw, pw))


# ---------------------------------------------------------------- modules


class Conv2d(nn.Module):
    """A convolution layer with torch.nn.Conv2d's parameters, initialisation and layout."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair = 1,
        padding: IntPair = 0,
        dilation: IntPair = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = pair(kernel_size), pair(stride)
        self.padding, self.dilation = pair(padding), pair(dilation)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # torch's default: uniform in +-1/sqrt(fan_in), fan_in = C*kh*kw inputs per output.
        fan_in = self.weight[0].numel()
        bound = fan_in**-0.5
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
            f"bias={self.bias is not None}"
        )

    @torch.no_grad()
    def load_from_torch(self, layer: nn.Conv2d) -> Conv2d:
        """Copy the weights of a torch.nn.Conv2d with the same shape (same layout)."""
        self.weight.copy_(layer.weight)
        if self.bias is not None:
            self.bias.copy_(layer.bias)
        return self


class MaxPool2d(nn.Module):
    def __init__(
        self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
