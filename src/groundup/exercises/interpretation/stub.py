"""Exercise `interpretation`: explain a classifier's output with gradients.

Write two attribution methods. Both explain f_c(x) = model(x)[n, target[n]], the output
(logit) of the target class of every example n, by a map with the shape of x.

1. `saliency(model, x, target, absolute=True)`: the gradient df_c/dx (Simonyan et al. 2013),
   its absolute value when `absolute` is true.

2. `integrated_gradients(model, x, target, baseline, steps, method)` (Sundararajan et al.
   2017): the gradient averaged along the straight path from the baseline x0 to x, times
   (x - x0):

       IG_i = (x_i - x0_i) * sum_k w_k * df_c/dx_i (x0 + a_k * (x - x0))

   with the points a_k and weights w_k of a Riemann sum over [0, 1]:
       riemann_left:      a_k = k / steps,          k = 0 .. steps-1, w_k = 1 / steps
       riemann_right:     a_k = (k + 1) / steps,    k = 0 .. steps-1, w_k = 1 / steps
       riemann_middle:    a_k = (k + 0.5) / steps,  k = 0 .. steps-1, w_k = 1 / steps
       riemann_trapezoid: a_k = k / (steps - 1),    k = 0 .. steps-1,
                          w_k = 1 / (steps - 1), halved for the first and the last point
   The attributions then add up to about f_c(x) - f_c(x0) (completeness).

`groundup check interpretation` grades both against groundup.nn.attribution on small random
CNNs and MLPs in float64, with per-example targets, and checks completeness. Use
torch.autograd.grad (or .backward on a copy of the input); do not call Captum.

DE: Übung `interpretation`: die Ausgabe eines Klassifikators mit Gradienten erklären.
Schreiben Sie zwei Attributionsmethoden. Beide erklären f_c(x) = model(x)[n, target[n]], die
Ausgabe (den Logit) der Zielklasse jedes Beispiels n, durch eine Karte in der Form von x.
1. `saliency`: der Gradient df_c/dx, sein Betrag, wenn `absolute` wahr ist.
2. `integrated_gradients`: der über den geraden Pfad von der Baseline x0 zu x gemittelte
   Gradient mal (x - x0), mit den Punkten a_k und Gewichten w_k der Riemann-Summe wie oben.
Die Attributionen summieren sich dann ungefähr zu f_c(x) - f_c(x0) (Vollständigkeit).
`groundup check interpretation` vergleicht beide mit groundup.nn.attribution auf kleinen
zufälligen CNNs und MLPs in float64, mit Zielklassen je Beispiel, und prüft die
Vollständigkeit. Verwenden Sie torch.autograd.grad; rufen Sie Captum nicht auf.
"""

from __future__ import annotations

from collections.abc import Callable

import torch  # noqa: F401 - imported for you: torch.autograd.grad, torch.zeros_like, ...
from torch import Tensor


def saliency(
    model: Callable[[Tensor], Tensor], x: Tensor, target: Tensor, absolute: bool = True
) -> Tensor:
    """Gradient saliency: d model(x)[n, target[n]] / dx, shape of x.

    model:  maps x (N, ...) to outputs (N, classes); the examples do not interact
    x:      (N, ...) inputs, e.g. images (N, C, H, W); do not change x itself
    target: (N,) integer class of every example (not necessarily the predicted one)
    absolute: return |gradient| when True, the signed gradient when False

    DE: Gradienten-Saliency: d model(x)[n, target[n]] / dx in der Form von x. target: (N,)
    Klasse je Beispiel (nicht unbedingt die vorhergesagte); absolute: Betrag oder Vorzeichen.
    """
    # 1. a copy of x that requires grad: x.detach().requires_grad_(True)
    # 2. the target outputs: model(copy).gather(1, target.view(-1, 1)), one per example
    # 3. their SUM's gradient with respect to the copy gives every example its own gradient
    raise NotImplementedError("TODO: saliency")


def integrated_gradients(
    model: Callable[[Tensor], Tensor],
    x: Tensor,
    target: Tensor,
    baseline: Tensor,
    steps: int = 50,
    method: str = "riemann_middle",
) -> Tensor:
    """Integrated gradients of model(x)[n, target[n]] from `baseline` to x, shape of x.

    baseline: same shape as x, the reference input x0 (e.g. a black image)
    steps:    number of points a_k on the path (at least 2)
    method:   riemann_left, riemann_right, riemann_middle or riemann_trapezoid (see above)

    DE: Integrated Gradients von model(x)[n, target[n]] von `baseline` bis x, Form von x.
    baseline: gleiche Form wie x; steps: Anzahl der Punkte a_k (mindestens 2); method: eine
    der vier Riemann-Regeln oben.
    """
    # 1. the points a_k and weights w_k of `method`
    # 2. for every k: the (signed) gradient at baseline + a_k * (x - baseline), times w_k,
    #    summed over k (your saliency with absolute=False does the gradient)
    # 3. multiply the averaged gradient by (x - baseline)
    raise NotImplementedError("TODO: integrated_gradients")
