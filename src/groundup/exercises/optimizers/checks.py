"""Checks for the `optimizers` exercise, against torch.optim.Adam and torch.optim.AdamW.

Everything is float64 with fixed seeds. The trajectories feed both sides the same kind of
gradient, g = (param - target) / 2 + noise_t with noise of varying scale, a stable problem on
which rounding differences do not grow: a correct answer matches torch to about 1e-15, and
the tolerance (atol 1e-9, rtol 1e-7) leaves room for rounding only.
"""

from __future__ import annotations

from types import ModuleType

import torch
from torch import Tensor

from groundup.exercises.checking import Check, Mismatch, assert_close, call, check, require
from groundup.i18n import Msg

FUNCTIONS = ["adam_step"]

REFERENCE = "from groundup.train.optimizers import adam_step\n"

TOL = {"atol": 1e-9, "rtol": 1e-7}
SHAPES = [(5,), (3, 4), (2, 3, 2)]


def _randn(g: torch.Generator, *shape: int) -> Tensor:
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def _torch_optimizer(p: Tensor, lr, beta1, beta2, eps, weight_decay, decoupled):
    kind = torch.optim.AdamW if decoupled else torch.optim.Adam
    return kind([p], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)


def _setting(lr, beta1, beta2, eps, weight_decay=0.0, decoupled=False) -> dict:
    return dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                decoupled=decoupled)  # fmt: skip


def _describe(setting: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in setting.items())


def _learner_step(module: ModuleType, label: Msg, param, grad, m, v, t, setting) -> None:
    adam_step = require(module, "adam_step")
    with torch.no_grad():
        call(label, adam_step, param, grad, m, v, t, **setting)


def _compare_trajectory(module: ModuleType, setting: dict, seed: int, steps: int) -> None:
    """`steps` steps of the learner's adam_step and of torch.optim, for several shapes."""
    g = torch.Generator().manual_seed(seed)
    for shape in SHAPES:
        start, target = _randn(g, *shape), _randn(g, *shape)
        noise = [_randn(g, *shape) * 10.0 ** float(torch.randint(-3, 2, (), generator=g))
                 for _ in range(steps)]  # fmt: skip
        mine = start.clone()
        m, v = torch.zeros_like(mine), torch.zeros_like(mine)
        theirs = start.clone().requires_grad_()
        optimizer = _torch_optimizer(theirs, **setting)
        for t in range(1, steps + 1):
            label = Msg(
                f"parameter of shape {shape} after step {t} ({_describe(setting)})",
                f"Parameter der Form {shape} nach Schritt {t} ({_describe(setting)})",
            )
            grad = (mine - target) / 2 + noise[t - 1]
            _learner_step(module, label, mine, grad, m, v, t, setting)
            theirs.grad = (theirs.detach() - target) / 2 + noise[t - 1]
            optimizer.step()
            assert_close(label, mine, theirs, **TOL)


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    require(module, "adam_step")


def check_first_step(module: ModuleType) -> None:
    g = torch.Generator().manual_seed(1)
    for shape, scale in zip(SHAPES, (1.0, 1e-3, 50.0), strict=True):
        setting = _setting(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
        param, grad = _randn(g, *shape), _randn(g, *shape) * scale
        label = Msg(
            f"param after the first step (t=1, m = v = 0, shape {shape}, gradients of size "
            f"~{scale:g}, {_describe(setting)})",
            f"param nach dem ersten Schritt (t=1, m = v = 0, Form {shape}, Gradienten der "
            f"Größe ~{scale:g}, {_describe(setting)})",
        )
        theirs = param.clone().requires_grad_()
        theirs.grad = grad.clone()
        _torch_optimizer(theirs, **setting).step()
        mine = param.clone()
        _learner_step(module, label, mine, grad.clone(), torch.zeros_like(mine),
                      torch.zeros_like(mine), 1, setting)  # fmt: skip
        assert_close(label, mine, theirs, **TOL)


def check_state_updated(module: ModuleType) -> None:
    g = torch.Generator().manual_seed(2)
    setting = _setting(lr=0.01, beta1=0.8, beta2=0.95, eps=1e-8)
    param = _randn(g, 3, 4)
    mine, m, v = param.clone(), torch.zeros(3, 4, dtype=torch.float64), torch.zeros(3, 4).double()
    theirs = param.clone().requires_grad_()
    optimizer = _torch_optimizer(theirs, **setting)
    for t in (1, 2, 3):
        grad = _randn(g, 3, 4)
        label = Msg(f"adam_step at t={t}", f"adam_step bei t={t}")
        _learner_step(module, label, mine, grad, m, v, t, setting)
        theirs.grad = grad.clone()
        optimizer.step()
        state = optimizer.state[theirs]
        for name, got, expected in (("m", m, state["exp_avg"]), ("v", v, state["exp_avg_sq"])):
            assert_close(
                Msg(
                    f"{name} after step {t}, as the caller sees it ({_describe(setting)})",
                    f"{name} nach Schritt {t}, wie der Aufrufer es sieht ({_describe(setting)})",
                ),
                got,
                expected,
                **TOL,
            )


def check_matches_adam(module: ModuleType) -> None:
    for seed, setting in enumerate([
        _setting(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8),
        _setting(lr=0.003, beta1=0.5, beta2=0.9, eps=1e-3),
        _setting(lr=0.02, beta1=0.95, beta2=0.99, eps=1e-6),
    ]):  # fmt: skip
        _compare_trajectory(module, setting, seed=100 + seed, steps=40)


def check_l2_weight_decay(module: ModuleType) -> None:
    for seed, decay in enumerate((0.1, 1.0)):
        setting = _setting(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=decay)
        _compare_trajectory(module, setting, seed=200 + seed, steps=30)
    # the gradient belongs to the caller (it is param.grad): it must come back unchanged
    g = torch.Generator().manual_seed(3)
    param, grad = _randn(g, 4), _randn(g, 4)
    before = grad.clone()
    label = Msg(
        "grad after adam_step(..., weight_decay=0.5): it must not change",
        "grad nach adam_step(..., weight_decay=0.5): er darf sich nicht ändern",
    )
    _learner_step(module, label, param, grad, torch.zeros(4).double(), torch.zeros(4).double(),
                  1, _setting(0.01, 0.9, 0.999, 1e-8, weight_decay=0.5))  # fmt: skip
    if not torch.equal(grad, before):
        raise Mismatch(label, expected=str(before.tolist()), got=str(grad.tolist()))


def check_matches_adamw(module: ModuleType) -> None:
    for seed, (lr, decay) in enumerate([(0.01, 0.1), (0.02, 0.5), (0.005, 2.0)]):
        setting = _setting(lr=lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=decay,
                           decoupled=True)  # fmt: skip
        _compare_trajectory(module, setting, seed=300 + seed, steps=30)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "a function adam_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay=0.0, "
            "decoupled=False)",
            "eine Funktion adam_step(param, grad, m, v, t, lr, beta1, beta2, eps, "
            "weight_decay=0.0, decoupled=False)",
        ),
        (
            "Define `def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay=0.0, "
            "decoupled=False):` at the top level of your file.",
            "Definieren Sie `def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps, "
            "weight_decay=0.0, decoupled=False):` auf oberster Ebene Ihrer Datei.",
        ),
        check_exists,
    ),
    check(
        "first_step",
        (
            "the first step (t=1) moves param exactly as torch.optim.Adam does",
            "der erste Schritt (t=1) bewegt param genau wie torch.optim.Adam",
        ),
        (
            "At t=1 the bias correction turns m and v into g and g^2, so every coordinate moves "
            "by almost exactly lr against the sign of its gradient. Divide m by (1 - beta1**t) "
            "and v by (1 - beta2**t) with t as given (not t+1), use g*g for v, and change param "
            "in place: param.sub_(...), not param = param - ...",
            "Bei t=1 macht die Bias-Korrektur aus m und v genau g und g^2, also bewegt sich jede "
            "Koordinate fast genau um lr gegen das Vorzeichen ihres Gradienten. Teilen Sie m "
            "durch (1 - beta1**t) und v durch (1 - beta2**t) mit dem übergebenen t (nicht t+1), "
            "nehmen Sie g*g für v und ändern Sie param direkt: param.sub_(...), nicht "
            "param = param - ...",
        ),
        check_first_step,
    ),
    check(
        "state_updated",
        (
            "m and v are updated in place and equal torch's exp_avg and exp_avg_sq",
            "m und v werden direkt geändert und sind gleich exp_avg und exp_avg_sq von torch",
        ),
        (
            "The caller keeps m and v between steps. `m = beta1 * m + (1 - beta1) * grad` makes a "
            "new tensor and leaves the caller's m at zero; write m.mul_(beta1).add_((1 - beta1) "
            "* grad) (and likewise for v) so the change lands in the caller's tensor. Store the "
            "raw averages in m and v, not the bias-corrected m_hat and v_hat.",
            "Der Aufrufer bewahrt m und v zwischen den Schritten auf. `m = beta1 * m + (1 - beta1)"
            " * grad` erzeugt einen neuen Tensor, und das m des Aufrufers bleibt null; schreiben "
            "Sie m.mul_(beta1).add_((1 - beta1) * grad) (und ebenso für v), damit die Änderung im "
            "Tensor des Aufrufers ankommt. Speichern Sie die rohen Mittelwerte in m und v, nicht "
            "die korrigierten m_hat und v_hat.",
        ),
        check_state_updated,
    ),
    check(
        "matches_adam",
        (
            "40 steps equal torch.optim.Adam for several lr, betas and eps",
            "40 Schritte gleich torch.optim.Adam für mehrere lr, betas und eps",
        ),
        (
            "beta1 belongs to m (the mean of g), beta2 to v (the mean of g^2). eps is added "
            "after the square root: sqrt(v_hat) + eps, not sqrt(v_hat + eps); with eps = 1e-3 "
            "the difference shows.",
            "beta1 gehört zu m (dem Mittel von g), beta2 zu v (dem Mittel von g^2). eps wird "
            "nach der Wurzel addiert: sqrt(v_hat) + eps, nicht sqrt(v_hat + eps); bei eps = 1e-3 "
            "wird der Unterschied sichtbar.",
        ),
        check_matches_adam,
    ),
    check(
        "l2_weight_decay",
        (
            "with decoupled=False, weight decay is L2 as in torch.optim.Adam(weight_decay=...)",
            "mit decoupled=False ist Weight Decay L2 wie in torch.optim.Adam(weight_decay=...)",
        ),
        (
            "For Adam, decay means g = grad + weight_decay * param, and this g feeds both m and "
            "v. Make a new tensor for g (grad + ...), do not change grad in place: it is the "
            "caller's param.grad.",
            "Bei Adam heißt Decay g = grad + weight_decay * param, und dieses g geht in m und v "
            "ein. Erzeugen Sie für g einen neuen Tensor (grad + ...) und ändern Sie grad nicht "
            "direkt: es ist das param.grad des Aufrufers.",
        ),
        check_l2_weight_decay,
    ),
    check(
        "matches_adamw",
        (
            "with decoupled=True, 30 steps equal torch.optim.AdamW (decoupled weight decay)",
            "mit decoupled=True sind 30 Schritte gleich torch.optim.AdamW (entkoppelter Decay)",
        ),
        (
            "AdamW leaves the gradient alone and shrinks the parameter before the Adam update: "
            "param.mul_(1 - lr * weight_decay). The factor contains lr; and the decay must not "
            "go into m and v as well.",
            "AdamW lässt den Gradienten in Ruhe und verkleinert den Parameter vor dem Adam-Update:"
            " param.mul_(1 - lr * weight_decay). Der Faktor enthält lr, und der Decay darf nicht "
            "zusätzlich in m und v eingehen.",
        ),
        check_matches_adamw,
    ),
]
