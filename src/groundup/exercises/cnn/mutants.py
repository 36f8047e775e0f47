"""Planted bugs for the `cnn` exercise, each a full learner file that one check must catch.

Two correct answers written the way learners write them, one with im2col and one with
loops over the output positions; each mutant changes one thing in one of them.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

IM2COL = """
import torch
import torch.nn.functional as F


def conv2d(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    x = F.pad(x, (padding, padding, padding, padding))
    oh = (H + 2 * padding - kh) // stride + 1
    ow = (W + 2 * padding - kw) // stride + 1
    patches = []
    for u in range(kh):
        for v in range(kw):
            rows = slice(u, u + stride * (oh - 1) + 1, stride)
            cols = slice(v, v + stride * (ow - 1) + 1, stride)
            patches.append(x[:, :, rows, cols])  # (N, C, oh, ow)
    columns = torch.stack(patches, dim=2).reshape(N, C * kh * kw, oh * ow)
    out = (weight.reshape(O, C * kh * kw) @ columns).reshape(N, O, oh, ow)
    if bias is not None:
        out = out + bias.view(1, O, 1, 1)
    return out
"""

LOOPS = """
import torch
import torch.nn.functional as F


def conv2d(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    x = F.pad(x, (padding, padding, padding, padding))
    oh = (H + 2 * padding - kh) // stride + 1
    ow = (W + 2 * padding - kw) // stride + 1
    out = torch.zeros(N, O, oh, ow, dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, :, i, j] = (window[:, None] * weight[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out = out + bias.view(1, O, 1, 1)
    return out
"""


def _plant(solution: str, *changes: tuple[str, str]) -> str:
    for old, new in changes:
        assert solution.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
        solution = solution.replace(old, new)
    return solution


MUTANTS: list[Mutant] = [
    Mutant(
        "kernel_flipped",
        catches="single_channel",
        source=_plant(
            IM2COL,
            (
                "    O, _, kh, kw = weight.shape\n",
                "    O, _, kh, kw = weight.shape\n"
                "    weight = weight.flip(-2, -1)  # textbook convolution\n",
            ),
        ),  # fmt: skip
        note="true convolution (kernel rotated by 180 degrees); torch does cross-correlation",
    ),
    Mutant(
        "padding_ignored",
        catches="shapes",
        source=_plant(
            IM2COL,
            ("    x = F.pad(x, (padding, padding, padding, padding))\n", ""),
            ("(H + 2 * padding - kh)", "(H - kh)"),
            ("(W + 2 * padding - kw)", "(W - kw)"),
        ),
        note="never pads: the output is 2*padding too small",
    ),
    Mutant(
        "stride_output_size_off_by_one",
        catches="shapes",
        source=_plant(
            IM2COL,
            ("(H + 2 * padding - kh) // stride + 1", "(H + 2 * padding - kh + 1) // stride"),
            ("(W + 2 * padding - kw) // stride + 1", "(W + 2 * padding - kw + 1) // stride"),
        ),
        note="right for stride 1 only: 7 - 3 + 1 = 5 // 2 = 2 positions instead of 3",
    ),
    Mutant(
        "height_and_width_swapped",
        catches="shapes",
        source=_plant(LOOPS, ("    N, C, H, W = x.shape", "    N, C, W, H = x.shape")),
        note="reads the input as (N, C, W, H): only square inputs survive",
    ),
    Mutant(
        "channels_averaged",
        catches="multi_channel",
        source=_plant(
            LOOPS,
            (".sum(dim=(2, 3, 4))", ".sum(dim=(3, 4)).mean(dim=2)"),
        ),
        note="averages over the input channels instead of summing them",
    ),
    Mutant(
        "first_channel_only",
        catches="multi_channel",
        source=_plant(
            LOOPS,
            (
                "(window[:, None] * weight[None]).sum(dim=(2, 3, 4))",
                "(window[:, None, 0] * weight[None, :, 0]).sum(dim=(2, 3))",
            ),
        ),  # fmt: skip
        note="reads only input channel 0, as if images were always grey",
    ),
    Mutant(
        "weight_layout_transposed",
        catches="multi_channel",
        source=_plant(
            IM2COL,
            (
                "    O, _, kh, kw = weight.shape\n",
                "    _, O, kh, kw = weight.shape\n"
                "    weight = weight.transpose(0, 1)  # read as (C, O, kh, kw)\n",
            ),
        ),  # fmt: skip
        note="takes the weight as (C, O, kh, kw): fails as soon as C != O",
    ),
    Mutant(
        "stride_ignored_in_windows",
        catches="stride",
        source=_plant(
            LOOPS,
            (
                "x[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]",
                "x[:, :, i : i + kh, j : j + kw]",
            ),
        ),  # fmt: skip
        note="right output size, but neighbouring windows overlap as if the stride were 1",
    ),
    Mutant(
        "padding_one_side_only",
        catches="shapes",
        source=_plant(
            IM2COL,
            (
                "F.pad(x, (padding, padding, padding, padding))",
                "F.pad(x, (padding, 0, padding, 0))",
            ),
        ),  # fmt: skip
        note="pads left and top only: the windows run out of input",
    ),
    Mutant(
        "padding_with_ones",
        catches="padding",
        source=_plant(
            IM2COL,
            (
                "F.pad(x, (padding, padding, padding, padding))",
                "F.pad(x, (padding, padding, padding, padding), value=1.0)",
            ),
        ),  # fmt: skip
        note="pads with ones: right shapes, wrong border values",
    ),
    Mutant(
        "bias_missing",
        catches="bias",
        source=_plant(IM2COL, ("        out = out + bias.view(1, O, 1, 1)\n", "        pass\n")),
        note="forgets to add the bias",
    ),
    Mutant(
        "bias_per_column",
        catches="bias",
        source=_plant(LOOPS, ("bias.view(1, O, 1, 1)", "bias.view(1, 1, 1, O)[..., :1]")),
        note="adds bias[0] to every channel",
    ),
    Mutant(
        "built_with_numpy",
        catches="gradients",
        source=_plant(
            LOOPS,
            (
                "    x = F.pad(x, (padding, padding, padding, padding))\n",
                "    import numpy as np\n\n"
                "    p = padding\n"
                "    x = torch.from_numpy(np.pad(x.detach().numpy(), ((0, 0), (0, 0), (p, p), (p, p))))\n",
            ),
        ),  # fmt: skip
        note="right values, but autograd cannot follow numpy: x gets no gradient",
    ),
]
