"""Checks for the `interpretation` exercise, against groundup.nn.attribution.

The library's saliency and integrated gradients equal Captum's (tests/nn/test_attribution.py);
the checks compare with the library so that grading needs no Captum. All models and inputs
are float64 with fixed seeds, so a correct answer matches to about 1e-14; the tolerance
(atol 1e-9, rtol 1e-7) leaves room only for summing in another order. Targets differ from
example to example and are never the predicted class, so a gradient of the wrong output or
of the wrong example's class cannot pass.
"""

from __future__ import annotations

from types import ModuleType

import torch
from torch import Tensor, nn

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    call,
    check,
    require,
)
from groundup.i18n import Msg
from groundup.nn import attribution

FUNCTIONS = ["saliency", "integrated_gradients"]

REFERENCE = "from groundup.nn.attribution import integrated_gradients, saliency\n"

TOL = {"atol": 1e-9, "rtol": 1e-7}
RIEMANN = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


def _model(kind: str, seed: int, channels: int = 1, size: int = 5, classes: int = 4) -> nn.Module:
    """A small random float64 network: a CNN (tanh, smooth), an MLP (ReLU) or a linear map."""
    torch.manual_seed(seed)
    if kind == "cnn":
        layers: list[nn.Module] = [
            nn.Conv2d(channels, 3, 3, padding=1),
            nn.Tanh(),
            nn.Flatten(),
            nn.Linear(3 * size * size, classes),
        ]
    elif kind == "mlp":
        layers = [
            nn.Flatten(),
            nn.Linear(channels * size * size, 10),
            nn.ReLU(),
            nn.Linear(10, classes),
        ]
    else:
        layers = [nn.Flatten(), nn.Linear(channels * size * size, classes)]
    return nn.Sequential(*layers).double().eval()


def _inputs(
    model: nn.Module, seed: int, n: int = 3, channels: int = 1, size: int = 5
) -> tuple[Tensor, Tensor, Tensor]:
    """Inputs x, a random baseline and targets that are never the predicted class."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, channels, size, size, generator=g, dtype=torch.float64) * 2
    baseline = torch.rand(n, channels, size, size, generator=g, dtype=torch.float64) * 0.5
    with torch.no_grad():
        logits = model(x)
    shift = torch.randint(1, logits.shape[1], (n,), generator=g)
    return x, baseline, (logits.argmax(1) + shift) % logits.shape[1]


def _label(name: str, what: str) -> Msg:
    return Msg(f"{name}({what})", f"{name}({what})")


# ---------------------------------------------------------------- saliency


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_saliency_shape(module: ModuleType) -> None:
    saliency = require(module, "saliency")
    for seed, (kind, channels, size) in enumerate([("cnn", 1, 5), ("mlp", 3, 4), ("cnn", 2, 6)]):
        model = _model(kind, seed, channels, size)
        x, _, target = _inputs(model, seed, n=2 + seed, channels=channels, size=size)
        label = _label("saliency", f"{kind}, x {tuple(x.shape)}, target {target.tolist()}")
        assert_shape(label, call(label, saliency, model, x, target), tuple(x.shape))


def _compare_saliency(module: ModuleType, absolute: bool) -> None:
    saliency = require(module, "saliency")
    for seed, (kind, channels) in enumerate([("cnn", 1), ("mlp", 2), ("cnn", 3)]):
        model = _model(kind, 10 + seed, channels)
        x, _, target = _inputs(model, 10 + seed, n=4, channels=channels)
        label = _label(
            "saliency",
            f"{kind}, x {tuple(x.shape)}, target {target.tolist()}, absolute={absolute}",
        )
        got = call(label, saliency, model, x.clone(), target.clone(), absolute=absolute)
        expected = attribution.saliency(model, x, target, absolute=absolute)
        assert_close(label, got, expected, **TOL)
        if x.requires_grad or x.grad is not None:
            raise Mismatch(label, expected="x left as it was", got="x.requires_grad or x.grad set")


def check_saliency_absolute(module: ModuleType) -> None:
    _compare_saliency(module, absolute=True)


def check_saliency_signed(module: ModuleType) -> None:
    _compare_saliency(module, absolute=False)


# ---------------------------------------------------------------- integrated gradients


def check_ig_shape(module: ModuleType) -> None:
    integrated_gradients = require(module, "integrated_gradients")
    model = _model("cnn", 20, channels=2)
    x, baseline, target = _inputs(model, 20, n=3, channels=2)
    label = _label("integrated_gradients", f"cnn, x {tuple(x.shape)}, steps=4")
    got = call(
        label, integrated_gradients, model, x, target, baseline, steps=4, method="riemann_middle"
    )
    assert_shape(label, got, tuple(x.shape))


def check_ig_linear(module: ModuleType) -> None:
    """A linear model has the constant gradient w: IG = (x - x0) * w for every rule and steps."""
    integrated_gradients = require(module, "integrated_gradients")
    model = _model("linear", 30, channels=2, size=4)
    x, baseline, target = _inputs(model, 30, n=3, channels=2, size=4)
    weight = model[1].weight.detach()[target].view_as(x)
    for method, steps in [("riemann_middle", 5), ("riemann_left", 3), ("riemann_trapezoid", 4)]:
        label = _label(
            "integrated_gradients",
            f"linear model, target {target.tolist()}, steps={steps}, method={method!r}",
        )
        got = call(
            label, integrated_gradients, model, x.clone(), target, baseline, steps, method=method
        )
        assert_close(label, got, (x - baseline) * weight, **TOL)


def check_ig_rules(module: ModuleType) -> None:
    integrated_gradients = require(module, "integrated_gradients")
    for seed, method in enumerate(RIEMANN):
        for kind, steps in [("cnn", 3), ("mlp", 7)]:
            model = _model(kind, 40 + seed, channels=2)
            x, baseline, target = _inputs(model, 40 + seed, n=3, channels=2)
            label = _label(
                "integrated_gradients",
                f"{kind}, target {target.tolist()}, steps={steps}, method={method!r}",
            )
            got = call(
                label, integrated_gradients, model, x.clone(), target, baseline, steps, method
            )
            expected = attribution.integrated_gradients(model, x, target, baseline, steps, method)
            assert_close(label, got, expected, **TOL)


def check_ig_completeness(module: ModuleType) -> None:
    """With many steps the attributions add up to f(x) - f(x0) (a smooth model: 1e-3)."""
    integrated_gradients = require(module, "integrated_gradients")
    model = _model("cnn", 50, channels=1, size=6)
    x, baseline, target = _inputs(model, 50, n=3, size=6)
    label = Msg(
        "sum of integrated_gradients(cnn, steps=200, method='riemann_middle') per example "
        "against model(x)[target] - model(baseline)[target]",
        "Summe von integrated_gradients(cnn, steps=200, method='riemann_middle') je Beispiel "
        "gegen model(x)[target] - model(baseline)[target]",
    )
    got = call(label, integrated_gradients, model, x, target, baseline, 200, "riemann_middle")
    assert_shape(label, got, tuple(x.shape))
    with torch.no_grad():
        change = (model(x) - model(baseline)).gather(1, target.view(-1, 1)).squeeze(1)
    assert_close(label, got.detach().flatten(1).sum(1), change, atol=1e-3, rtol=0)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions saliency and integrated_gradients",
            "Funktionen saliency und integrated_gradients",
        ),
        (
            "Define both at the top level of your file, with the signatures of the stub.",
            "Definieren Sie beide auf oberster Ebene Ihrer Datei, mit den Signaturen der Vorlage.",
        ),
        check_exists,
    ),
    check(
        "saliency_shape",
        ("saliency has the shape of x", "saliency hat die Form von x"),
        (
            "Return the gradient with respect to the input x (one value per input feature), "
            "not the gradient of the weights and not the model output.",
            "Geben Sie den Gradienten nach der Eingabe x zurück (ein Wert je Merkmal), nicht "
            "den der Gewichte und nicht die Modellausgabe.",
        ),
        check_saliency_shape,
    ),
    check(
        "saliency_absolute",
        (
            "saliency(absolute=True) equals |d model(x)[n, target[n]] / dx|",
            "saliency(absolute=True) gleich |d model(x)[n, target[n]] / dx|",
        ),
        (
            "Differentiate the output of the TARGET class of every example (not the predicted "
            "class, not target[0] for all): model(x).gather(1, target.view(-1, 1)).sum(). "
            "Then take the absolute value.",
            "Leiten Sie die Ausgabe der ZIELKLASSE jedes Beispiels ab (nicht der "
            "vorhergesagten Klasse, nicht target[0] für alle): "
            "model(x).gather(1, target.view(-1, 1)).sum(). Dann den Betrag nehmen.",
        ),
        check_saliency_absolute,
    ),
    check(
        "saliency_signed",
        (
            "saliency(absolute=False) is the signed gradient",
            "saliency(absolute=False) ist der Gradient mit Vorzeichen",
        ),
        (
            "With absolute=False return the gradient as it is, negative entries included.",
            "Bei absolute=False geben Sie den Gradienten unverändert zurück, auch die "
            "negativen Einträge.",
        ),
        check_saliency_signed,
    ),
    check(
        "ig_shape",
        ("integrated_gradients has the shape of x", "integrated_gradients hat die Form von x"),
        (
            "Sum the weighted gradients over the steps (one map per example), then multiply "
            "by (x - baseline).",
            "Summieren Sie die gewichteten Gradienten über die Schritte (eine Karte je "
            "Beispiel) und multiplizieren Sie dann mit (x - baseline).",
        ),
        check_ig_shape,
    ),
    check(
        "ig_linear",
        (
            "on a linear model IG equals (x - baseline) * w exactly",
            "auf einem linearen Modell ist IG genau (x - baseline) * w",
        ),
        (
            "The gradient of a linear model is its weight row w of the target class at every "
            "point, so the weighted average over the steps must be w itself (the weights w_k "
            "add up to 1: divide by steps). Then multiply by (x - baseline), with the baseline "
            "you were given, and keep the signs.",
            "Der Gradient eines linearen Modells ist überall die Gewichtszeile w der Zielklasse, "
            "also muss der gewichtete Mittelwert über die Schritte w selbst sein (die Gewichte "
            "w_k summieren sich zu 1: durch steps teilen). Dann mit (x - baseline) "
            "multiplizieren, mit der übergebenen Baseline, und die Vorzeichen behalten.",
        ),
        check_ig_linear,
    ),
    check(
        "ig_rules",
        (
            "IG equals the reference for every Riemann rule on CNNs and MLPs",
            "IG gleich der Referenz für jede Riemann-Regel auf CNNs und MLPs",
        ),
        (
            "Check the points: left k/steps (0 included, 1 not), right (k+1)/steps (1 "
            "included, 0 not), middle (k+0.5)/steps, trapezoid k/(steps-1) (both ends, weights "
            "1/(steps-1), halved at the ends). torch.linspace(0, 1, steps) is only right for "
            "the trapezoid.",
            "Prüfen Sie die Punkte: links k/steps (0 dabei, 1 nicht), rechts (k+1)/steps "
            "(1 dabei, 0 nicht), Mitte (k+0.5)/steps, Trapez k/(steps-1) (beide Enden, "
            "Gewichte 1/(steps-1), an den Enden halbiert). torch.linspace(0, 1, steps) "
            "stimmt nur für das Trapez.",
        ),
        check_ig_rules,
    ),
    check(
        "ig_completeness",
        (
            "with 200 steps the attributions add up to f(x) - f(baseline)",
            "mit 200 Schritten summieren sich die Attributionen zu f(x) - f(baseline)",
        ),
        (
            "Completeness: sum_i IG_i = f(x) - f(x0) up to the quadrature error. If the sum is "
            "off, look at the weights (they must add up to 1) and at the factor (x - baseline).",
            "Vollständigkeit: Summe_i IG_i = f(x) - f(x0) bis auf den Quadraturfehler. Stimmt "
            "die Summe nicht, prüfen Sie die Gewichte (sie müssen sich zu 1 summieren) und den "
            "Faktor (x - baseline).",
        ),
        check_ig_completeness,
    ),
]
