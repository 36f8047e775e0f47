"""Exercise `optimizers`: one step of Adam, and of AdamW, on a single parameter tensor.

Write `adam_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay=0.0,
decoupled=False)`. It changes `param`, `m` and `v` IN PLACE and returns nothing, the way
torch.optim does. The equations (Kingma & Ba, Algorithm 1; Loshchilov & Hutter for AdamW):

    m     <- beta1 * m + (1 - beta1) * g
    v     <- beta2 * v + (1 - beta2) * g^2
    m_hat  = m / (1 - beta1^t)
    v_hat  = v / (1 - beta2^t)
    param <- param - lr * m_hat / (sqrt(v_hat) + eps)

`groundup check optimizers` runs your function for many steps and compares every parameter
with torch.optim.Adam and torch.optim.AdamW on the same gradients. Do not call torch.optim.

DE: Übung `optimizers`: ein Schritt von Adam bzw. AdamW für einen Parametertensor.
Schreiben Sie `adam_step(...)` wie oben. Die Funktion ändert `param`, `m` und `v` direkt
(in place) und gibt nichts zurück, so wie torch.optim. `groundup check optimizers` ruft sie
über viele Schritte auf und vergleicht jeden Parameter mit torch.optim.Adam und
torch.optim.AdamW bei gleichen Gradienten. Rufen Sie torch.optim nicht selbst auf.
"""

from __future__ import annotations

import math  # noqa: F401 - imported for you

import torch  # noqa: F401 - imported for you: torch.sqrt, tensor.mul_, tensor.add_, ...
from torch import Tensor


def adam_step(
    param: Tensor,
    grad: Tensor,
    m: Tensor,
    v: Tensor,
    t: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> None:
    """One Adam step (decoupled=False) or AdamW step (decoupled=True) for one tensor.

    param: the parameter, any shape; update it in place (param.sub_(...), param.mul_(...)).
    grad:  its gradient, same shape. Do not change it.
    m, v:  the first and second moment estimates, same shape; zeros before the first step.
           Update them in place too: the caller keeps them for the next step.
           Careful: `m = beta1 * m + ...` only rebinds your local name; use m.mul_(...).add_(...).
    t:     the number of this step, 1 for the first call, 2 for the second, ...
    lr, beta1, beta2, eps: as in torch.optim.Adam(lr=lr, betas=(beta1, beta2), eps=eps).
    weight_decay, decoupled:
        decoupled=False (Adam): L2 regularisation, g = grad + weight_decay * param, used
            everywhere below instead of grad.
        decoupled=True (AdamW): first shrink the parameter, param <- param * (1 - lr *
            weight_decay); the gradient stays as it is.
    The caller wraps the call in torch.no_grad(); no autograd is needed inside.

    DE: Ein Adam-Schritt (decoupled=False) bzw. AdamW-Schritt (decoupled=True).
    param: beliebige Form, direkt ändern (param.sub_(...), param.mul_(...)). grad: gleiche
    Form, nicht verändern. m, v: erstes und zweites Moment, vor dem ersten Schritt Nullen;
    ebenfalls direkt ändern, denn der Aufrufer bewahrt sie für den nächsten Schritt auf
    (`m = beta1 * m + ...` bindet nur Ihren lokalen Namen neu). t: Nummer dieses Schritts,
    beginnend bei 1. decoupled=False (Adam): L2, g = grad + weight_decay * param.
    decoupled=True (AdamW): zuerst param <- param * (1 - lr * weight_decay), der Gradient
    bleibt unverändert. Der Aufruf geschieht unter torch.no_grad().
    """
    # 1. weight decay: AdamW shrinks param; Adam adds weight_decay * param to the gradient
    # 2. update m and v in place (the moving averages of g and g^2)
    # 3. bias correction with t: m_hat and v_hat
    # 4. param <- param - lr * m_hat / (sqrt(v_hat) + eps), in place
    raise NotImplementedError("TODO: adam_step")
