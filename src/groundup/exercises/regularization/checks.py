"""Checks for the `regularization` exercise, against torch.nn.functional.batch_norm.

All inputs are float64 with fixed seeds, so a correct answer matches PyTorch to about 1e-15;
the tolerance (atol 1e-8, rtol 1e-6) leaves room only for rounding. Channels get different
means and scales, and one case has a variance far below 1, where eps outside the square root
makes a visible difference.
"""

from __future__ import annotations

from types import ModuleType

import torch
import torch.nn.functional as F
from torch import Tensor

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg

FUNCTIONS = ["batch_norm"]

REFERENCE = "from groundup.nn.normalization import batch_norm\n"

TOL = {"atol": 1e-8, "rtol": 1e-6}


def _data(seed: int, shape: tuple[int, ...], scale: float = 1.0) -> dict[str, Tensor]:
    """x with per-channel offsets and scales, gamma, beta and running statistics."""
    g = torch.Generator().manual_seed(seed)
    c = shape[1]
    view = [1, c] + [1] * (len(shape) - 2)
    offsets = torch.randn(c, generator=g, dtype=torch.float64).view(view) * 3
    scales = (torch.rand(c, generator=g, dtype=torch.float64) * 2 + 0.5).view(view)
    x = (torch.randn(shape, generator=g, dtype=torch.float64) * scales + offsets) * scale
    return {
        "x": x,
        "weight": torch.randn(c, generator=g, dtype=torch.float64),
        "bias": torch.randn(c, generator=g, dtype=torch.float64),
        "running_mean": torch.randn(c, generator=g, dtype=torch.float64),
        "running_var": torch.rand(c, generator=g, dtype=torch.float64) + 0.5,
    }


def _call_both(
    module: ModuleType, d: dict[str, Tensor], label: Msg, training: bool, affine: bool = True,
    momentum: float = 0.1, eps: float = 1e-5,
) -> tuple[Tensor, Tensor, list[Tensor], list[Tensor]]:  # fmt: skip
    """(learner's y, torch's y, learner's running stats, torch's running stats) on copies."""
    batch_norm = require(module, "batch_norm")
    mine = [d["running_mean"].clone(), d["running_var"].clone()]
    theirs = [d["running_mean"].clone(), d["running_var"].clone()]
    weight, bias = (d["weight"], d["bias"]) if affine else (None, None)
    got = call(label, batch_norm, d["x"].clone(), *mine, weight, bias, training, momentum, eps)
    expected = F.batch_norm(d["x"], *theirs, weight, bias, training, momentum, eps)
    return got, expected, mine, theirs


GERMAN = {"output": "Ausgabe", "output shape": "Ausgabeform"}


def _label(what: str, x: Tensor, mode: str, extra: str = "") -> Msg:
    """'output of batch_norm(x of shape (5, 3), training=True)', in English and German."""
    call_text = f"batch_norm(x of shape {tuple(x.shape)}, {mode}{extra})"
    de_call = call_text.replace("x of shape", "x der Form").replace("scaled by", "skaliert mit")
    if what.endswith(" after"):  # a running statistic after the call
        name = what.removesuffix(" after")
        return Msg(f"{name} after {call_text}", f"{name} nach {de_call}")
    return Msg(f"{what} of {call_text}", f"{GERMAN[what]} von {de_call}")


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    require(module, "batch_norm")


def check_shapes(module: ModuleType) -> None:
    for seed, shape in enumerate([(5, 3), (4, 2, 6), (2, 3, 4, 5)]):
        d = _data(seed, shape)
        for training in (True, False):
            label = _label("output shape", d["x"], f"training={training}")
            got, _, _, _ = _call_both(module, d, label, training)
            assert_shape(label, got, shape)


def check_train_output(module: ModuleType) -> None:
    cases = [((8, 4), 1.0, 1e-5), ((6, 3), 1.0, 0.1), ((10, 5), 0.01, 1e-5)]
    for seed, (shape, scale, eps) in enumerate(cases):
        d = _data(10 + seed, shape, scale)
        label = _label("output", d["x"], "training=True", f", eps={eps}, x scaled by {scale}")
        got, expected, _, _ = _call_both(module, d, label, True, eps=eps)
        assert_close(label, got, expected, **TOL)


def check_gradients(module: ModuleType) -> None:
    batch_norm = require(module, "batch_norm")
    d = _data(20, (6, 3, 4))
    upstream = torch.randn(
        6, 3, 4, generator=torch.Generator().manual_seed(21), dtype=torch.float64
    )
    names = ("x", "weight", "bias")
    mine = [d[n].clone().requires_grad_() for n in names]
    theirs = [d[n].clone().requires_grad_() for n in names]
    label = Msg(
        "gradients of sum(batch_norm(x of shape (6, 3, 4), training=True) * g) with respect "
        "to x, weight and bias",
        "Gradienten von sum(batch_norm(x der Form (6, 3, 4), training=True) * g) nach x, "
        "weight und bias",
    )
    stats = [d["running_mean"].clone(), d["running_var"].clone()]
    y = call(label, batch_norm, mine[0], *stats, mine[1], mine[2], True, 0.1, 1e-5)
    if not isinstance(y, Tensor) or y.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to x, weight and bias by autograd (it has a grad_fn)",
            got=describe(y) + ("" if not isinstance(y, Tensor) else ", grad_fn None"),
        )
    call(label, (y * upstream).sum().backward)
    stats = [d["running_mean"].clone(), d["running_var"].clone()]
    (F.batch_norm(theirs[0], *stats, theirs[1], theirs[2], True, 0.1, 1e-5) * upstream).sum(
    ).backward()  # fmt: skip
    for name, a, b in zip(names, mine, theirs, strict=True):
        grad_label = Msg(f"{name}.grad", f"{name}.grad")
        if a.grad is None:
            raise Mismatch(
                grad_label,
                expected=f"a gradient for {name} of shape {tuple(b.shape)}",
                got="None: no gradient flowed back (.detach(), numpy, no_grad around y?)",
            )
        assert_close(grad_label, a.grad, b.grad, **TOL)


def _several_steps(module: ModuleType, which: int, what: str) -> None:
    """Three training steps with fresh batches; compare running statistic `which` each time."""
    batch_norm = require(module, "batch_norm")
    for momentum in (0.1, 0.3):
        d = _data(30, (7, 4))
        mine = [d["running_mean"].clone(), d["running_var"].clone()]
        theirs = [d["running_mean"].clone(), d["running_var"].clone()]
        for step in range(3):
            x = _data(31 + step, (7, 4))["x"].requires_grad_()
            label = Msg(
                f"{what} after training step {step + 1} with momentum={momentum} "
                "(the tensor you were given, updated in place)",
                f"{what} nach Trainingsschritt {step + 1} mit momentum={momentum} "
                "(der übergebene Tensor, in place geändert)",
            )
            call(label, batch_norm, x, *mine, d["weight"], d["bias"], True, momentum, 1e-5)
            F.batch_norm(x.detach(), *theirs, d["weight"], d["bias"], True, momentum, 1e-5)
            assert_close(label, mine[which], theirs[which], **TOL)
            if mine[which].requires_grad:
                raise Mismatch(
                    label,
                    expected="running statistics without autograd history (requires_grad False)",
                    got="requires_grad True: update them inside `with torch.no_grad():`",
                )


def check_running_mean(module: ModuleType) -> None:
    _several_steps(module, 0, "running_mean")


def check_running_var(module: ModuleType) -> None:
    _several_steps(module, 1, "running_var")


def check_eval_mode(module: ModuleType) -> None:
    for seed, shape in enumerate([(6, 3), (2, 3, 3, 3)]):
        d = _data(40 + seed, shape)
        label = _label("output", d["x"], "training=False")
        got, expected, mine, _ = _call_both(module, d, label, False)
        assert_close(label, got, expected, **TOL)
        for name, before, after in zip(("running_mean", "running_var"),
                                       (d["running_mean"], d["running_var"]), mine, strict=True):  # fmt: skip
            label = _label(f"{name} after", d["x"], "training=False")
            assert_close(label, after, before, atol=0, rtol=0)


def check_per_channel_4d(module: ModuleType) -> None:
    for seed, shape in enumerate([(4, 3, 5, 5), (2, 2, 3, 6)]):
        d = _data(50 + seed, shape)
        label = _label("output", d["x"], "training=True")
        got, expected, mine, theirs = _call_both(module, d, label, True)
        assert_close(label, got, expected, **TOL)
        for name, a, b in zip(("running_mean", "running_var"), mine, theirs, strict=True):
            assert_close(_label(f"{name} after", d["x"], "training=True"), a, b, **TOL)


def check_no_affine(module: ModuleType) -> None:
    for training in (True, False):
        d = _data(60, (5, 3, 2))
        label = _label("output", d["x"], f"training={training}", ", weight=None, bias=None")
        got, expected, _, _ = _call_both(module, d, label, training, affine=False)
        assert_close(label, got, expected, **TOL)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "a function batch_norm(x, running_mean, running_var, weight, bias, training, ...)",
            "eine Funktion batch_norm(x, running_mean, running_var, weight, bias, training, ...)",
        ),
        (
            "Define `def batch_norm(x, running_mean, running_var, weight, bias, training, "
            "momentum=0.1, eps=1e-5):` at the top level of your file.",
            "Definieren Sie `def batch_norm(x, running_mean, running_var, weight, bias, training, "
            "momentum=0.1, eps=1e-5):` auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "shapes",
        (
            "the output has the shape of x, for (N, C), (N, C, L) and (N, C, H, W)",
            "die Ausgabe hat die Form von x, für (N, C), (N, C, L) und (N, C, H, W)",
        ),
        (
            "Reduce over every axis except 1 and reshape the (C,) statistics to (1, C, 1, ...) "
            "before subtracting, so they broadcast per channel.",
            "Reduzieren Sie über alle Achsen außer 1 und formen Sie die (C,)-Statistiken zu "
            "(1, C, 1, ...) um, bevor Sie subtrahieren, damit sie pro Kanal broadcasten.",
        ),
        check_shapes,
    ),
    check(
        "train_output",
        (
            "training mode: values equal torch's, also with a large eps and a tiny variance",
            "Trainingsmodus: Werte gleich denen von torch, auch mit großem eps und winziger Varianz",
        ),
        (
            "Normalise each channel with the batch mean and the biased variance "
            "(x.var(dim, unbiased=False), divide by n): (x - mean) / torch.sqrt(var + eps). "
            "eps goes inside the square root, and the statistics are per channel (axis 1), "
            "taken over the batch axis 0.",
            "Normalisieren Sie jeden Kanal mit dem Batch-Mittelwert und der verzerrten Varianz "
            "(x.var(dim, unbiased=False), geteilt durch n): (x - mean) / torch.sqrt(var + eps). "
            "eps gehört in die Wurzel, und die Statistiken gelten pro Kanal (Achse 1), "
            "genommen über die Batch-Achse 0.",
        ),
        check_train_output,
    ),
    check(
        "gradients",
        (
            "gradients with respect to x, weight and bias equal torch's",
            "Gradienten nach x, weight und bias gleich denen von torch",
        ),
        (
            "In training mode the mean and variance depend on x, and the gradient flows through "
            "them too: do not .detach() them or compute them under torch.no_grad(). Only the "
            "running-statistics update belongs in torch.no_grad().",
            "Im Trainingsmodus hängen Mittelwert und Varianz von x ab, und der Gradient fließt "
            "auch durch sie: kein .detach() und kein torch.no_grad() bei ihrer Berechnung. Nur die "
            "Aktualisierung der laufenden Statistiken gehört in torch.no_grad().",
        ),
        check_gradients,
    ),
    check(
        "running_mean",
        (
            "running_mean is updated in place: (1 - momentum) * old + momentum * batch mean",
            "running_mean wird in place aktualisiert: (1 - momentum) * alt + momentum * Batch-Mittel",
        ),
        (
            "momentum is the weight of the NEW batch: running_mean.mul_(1 - momentum)"
            ".add_(momentum * mean). Change the given tensor in place (mul_, add_, copy_); "
            "`running_mean = ...` only rebinds a local name. Do it inside torch.no_grad().",
            "momentum ist das Gewicht des NEUEN Batches: running_mean.mul_(1 - momentum)"
            ".add_(momentum * mean). Ändern Sie den übergebenen Tensor in place (mul_, add_, copy_); "
            "`running_mean = ...` bindet nur einen lokalen Namen neu. Tun Sie es in torch.no_grad().",
        ),
        check_running_mean,
    ),
    check(
        "running_var",
        (
            "running_var is updated with the UNBIASED batch variance (divide by n - 1)",
            "running_var wird mit der ERWARTUNGSTREUEN Batch-Varianz aktualisiert (geteilt durch n - 1)",
        ),
        (
            "Normalise with the biased variance, but feed the running variance the unbiased one: "
            "var * n / (n - 1), with n the number of values per channel (N * H * W).",
            "Normalisieren Sie mit der verzerrten Varianz, aber geben Sie der laufenden Varianz die "
            "erwartungstreue: var * n / (n - 1), mit n der Zahl der Werte pro Kanal (N * H * W).",
        ),
        check_running_var,
    ),
    check(
        "eval_mode",
        (
            "eval mode normalises with the running statistics and leaves them unchanged",
            "im Auswertungsmodus wird mit den laufenden Statistiken normalisiert, ohne sie zu ändern",
        ),
        (
            "With training=False use running_mean and running_var in place of the batch "
            "statistics, and do not update them: at inference an example's output must not "
            "depend on the other examples in its batch.",
            "Mit training=False nehmen Sie running_mean und running_var statt der "
            "Batch-Statistiken und aktualisieren sie nicht: bei der Inferenz darf die Ausgabe "
            "eines Beispiels nicht von den anderen Beispielen im Batch abhängen.",
        ),
        check_eval_mode,
    ),
    check(
        "per_channel_4d",
        (
            "(N, C, H, W) images: one mean and variance per channel, over N, H and W",
            "(N, C, H, W)-Bilder: ein Mittelwert und eine Varianz pro Kanal, über N, H und W",
        ),
        (
            "For images, reduce over axes (0, 2, 3), not only over axis 0: every pixel position "
            "of a channel shares the same statistics. n for the unbiased variance is N * H * W.",
            "Bei Bildern reduzieren Sie über die Achsen (0, 2, 3), nicht nur über Achse 0: alle "
            "Pixelpositionen eines Kanals teilen dieselben Statistiken. n für die erwartungstreue "
            "Varianz ist N * H * W.",
        ),
        check_per_channel_4d,
    ),
    check(
        "no_affine",
        (
            "weight=None and bias=None mean no scaling and no shift",
            "weight=None und bias=None bedeuten keine Skalierung und keine Verschiebung",
        ),
        (
            "Multiply by weight only if it is not None, add bias only if it is not None.",
            "Multiplizieren Sie nur mit weight, wenn es nicht None ist, und addieren Sie bias nur, "
            "wenn es nicht None ist.",
        ),
        check_no_affine,
    ),
]
