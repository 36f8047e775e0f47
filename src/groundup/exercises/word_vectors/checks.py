"""Checks for the `word_vectors` exercise.

The loss and gradients are compared with torch autograd on float64 inputs with fixed seeds:
atol 1e-10, rtol 1e-8, room only for rounding. The subsampling and noise distribution are
compared with the formulas of word2vec's C code / gensim (rtol 1e-12).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    assert_true,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg

FUNCTIONS = ["sgns_loss_and_grads", "keep_probabilities", "negative_distribution"]

REFERENCE = """from groundup.text.word2vec import (
    keep_probabilities,
    negative_distribution,
    sgns_loss_and_grads,
)
"""

TOL = {"atol": 1e-10, "rtol": 1e-8}
CASES = [(1, 1, 3), (4, 5, 6), (7, 3, 10)]  # (B, K, D)
COUNTS = np.array([90_000, 12_000, 2_500, 640, 77, 9, 1])


def _inputs(seed: int, b: int, k: int, d: int, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    return (scale * rng.normal(size=(b, d)), scale * rng.normal(size=(b, d)),
            scale * rng.normal(size=(b, k, d)))  # fmt: skip


def _torch_reference(center, context, negatives):
    t = [torch.tensor(a, requires_grad=True) for a in (center, context, negatives)]
    positive = (t[0] * t[1]).sum(-1)
    negative = torch.einsum("bkd,bd->bk", t[2], t[0])
    loss = -(F.logsigmoid(positive).sum() + F.logsigmoid(-negative).sum())
    loss.backward()
    return loss.item(), *(x.grad.numpy() for x in t)


def _learner(module: ModuleType, label: Msg, *inputs):
    fn = require(module, "sgns_loss_and_grads")
    out = call(label, fn, *(np.array(a) for a in inputs))  # copies: inputs stay untouched
    if not isinstance(out, tuple | list) or len(out) != 4:
        raise Mismatch(label, expected="a tuple (loss, d_center, d_context, d_negatives)",
                       got=describe(out))  # fmt: skip
    return out


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_sgns_shapes(module: ModuleType) -> None:
    for seed, (b, k, d) in enumerate(CASES):
        label = Msg(f"sgns_loss_and_grads: shapes for B={b}, K={k}, D={d}",
                    f"sgns_loss_and_grads: Formen für B={b}, K={k}, D={d}")  # fmt: skip
        loss, d_center, d_context, d_negatives = _learner(module, label, *_inputs(seed, b, k, d))
        assert_true(label, np.ndim(loss) == 0, expected="one number (the summed loss)",
                    got=describe(loss))  # fmt: skip
        assert_shape(label, d_center, (b, d))
        assert_shape(label, d_context, (b, d))
        assert_shape(label, d_negatives, (b, k, d))


def check_sgns_loss(module: ModuleType) -> None:
    for seed, (b, k, d) in enumerate(CASES):
        inputs = _inputs(10 + seed, b, k, d)
        label = Msg(f"sgns loss, B={b}, K={k}, D={d}, against torch (F.logsigmoid, summed)",
                    f"SGNS-Verlust, B={b}, K={k}, D={d}, gegen Torch (F.logsigmoid, summiert)")  # fmt: skip
        got = _learner(module, label, *inputs)[0]
        assert_close(label, np.float64(got), _torch_reference(*inputs)[0], **TOL)


def check_sgns_gradients(module: ModuleType) -> None:
    names = ("d_center", "d_context", "d_negatives")
    for seed, (b, k, d) in enumerate(CASES):
        inputs = _inputs(20 + seed, b, k, d)
        expected = _torch_reference(*inputs)[1:]
        label = Msg(f"sgns gradients, B={b}, K={k}, D={d}", f"SGNS-Gradienten, B={b}, K={k}, D={d}")
        got = _learner(module, label, *inputs)[1:]
        for name, g, e in zip(names, got, expected, strict=True):
            assert_close(Msg(f"{name} against torch autograd, B={b}, K={k}, D={d}",
                             f"{name} gegen Torch-Autograd, B={b}, K={k}, D={d}"), g, e, **TOL)  # fmt: skip


def check_sgns_large_scores(module: ModuleType) -> None:
    inputs = _inputs(30, 3, 2, 4, scale=25.0)  # scores of several hundred either way
    expected = _torch_reference(*inputs)
    label = Msg("sgns loss and gradients at scores of +-several hundred (stable?)",
                "SGNS-Verlust und Gradienten bei Werten von +-mehreren Hundert (stabil?)")  # fmt: skip
    with np.errstate(all="ignore"):
        got = _learner(module, label, *inputs)
    for g, e in zip(got, expected, strict=True):
        assert_true(label, bool(np.all(np.isfinite(np.asarray(g, dtype=np.float64)))),
                    expected="finite values", got=describe(g) + " with inf or nan")  # fmt: skip
        assert_close(label, np.asarray(g, dtype=np.float64), e, **TOL)


def _keep_formula(counts: np.ndarray, sample: float) -> np.ndarray:
    t = sample * counts.sum()
    return np.array([min((np.sqrt(c / t) + 1) * t / c, 1.0) for c in counts])


def check_keep_probabilities(module: ModuleType) -> None:
    fn = require(module, "keep_probabilities")
    for sample in (1e-3, 1e-4, 1e-5):
        label = Msg(f"keep_probabilities(counts, sample={sample}) against the C code's formula",
                    f"keep_probabilities(counts, sample={sample}) gegen die Formel des C-Codes")  # fmt: skip
        got = call(label, fn, COUNTS.copy(), sample)
        assert_close(label, got, _keep_formula(COUNTS, sample), atol=0, rtol=1e-12)


def check_keep_probabilities_off(module: ModuleType) -> None:
    fn = require(module, "keep_probabilities")
    label = Msg("keep_probabilities(counts, sample=0): subsampling off, all ones",
                "keep_probabilities(counts, sample=0): Subsampling aus, lauter Einsen")  # fmt: skip
    with np.errstate(all="ignore"):
        got = call(label, fn, COUNTS.copy(), 0.0)
    assert_close(label, got, np.ones(len(COUNTS)), atol=0, rtol=0)


def check_negative_distribution(module: ModuleType) -> None:
    fn = require(module, "negative_distribution")
    for power in (0.75, 0.5, 1.0):
        label = Msg(f"negative_distribution(counts, power={power})",
                    f"negative_distribution(counts, power={power})")  # fmt: skip
        got = call(label, fn, COUNTS.copy(), power)
        expected = COUNTS.astype(np.float64) ** power
        assert_close(label, got, expected / expected.sum(), atol=0, rtol=1e-12)
    label = Msg("negative_distribution(counts): the default power is 0.75",
                "negative_distribution(counts): die Standardpotenz ist 0.75")  # fmt: skip
    expected = COUNTS.astype(np.float64) ** 0.75
    assert_close(
        label, call(label, fn, COUNTS.copy()), expected / expected.sum(), atol=0, rtol=1e-12
    )


CHECKS: list[Check] = [
    check("exists", ("the three functions exist", "die drei Funktionen existieren"),
          ("define sgns_loss_and_grads, keep_probabilities and negative_distribution",
           "definieren Sie sgns_loss_and_grads, keep_probabilities und negative_distribution"),
          check_exists),
    check("sgns_shapes", ("loss is one number, each gradient has its input's shape",
                          "der Verlust ist eine Zahl, jeder Gradient hat die Form seiner Eingabe"),
          ("sum the loss over pairs and noise words; d_negatives is (B, K, D)",
           "summieren Sie den Verlust über Paare und Rauschwörter; d_negatives ist (B, K, D)"),
          check_sgns_shapes),
    check("sgns_loss", ("the loss equals torch's", "der Verlust gleicht dem von Torch"),
          ("true pair: -log sigma(u_o.v); noise: -log sigma(-u_k.v); summed, not averaged",
           "echtes Paar: -log sigma(u_o.v); Rauschen: -log sigma(-u_k.v); summiert, nicht gemittelt"),
          check_sgns_loss),
    check("sgns_gradients", ("the gradients equal torch autograd's",
                             "die Gradienten gleichen denen von Torch-Autograd"),
          ("d/ds of -log sigma(s) is sigma(s) - 1, of -log sigma(-s) it is sigma(s); v gets a "
           "term from the true word and from every noise word",
           "d/ds von -log sigma(s) ist sigma(s) - 1, von -log sigma(-s) ist es sigma(s); v bekommt "
           "einen Beitrag vom echten Wort und von jedem Rauschwort"),
          check_sgns_gradients),
    check("sgns_large_scores", ("stable at scores of several hundred",
                                "stabil bei Werten von mehreren Hundert"),
          ("use np.logaddexp(0, -s) for -log sigma(s), and a sigmoid that does not overflow",
           "nehmen Sie np.logaddexp(0, -s) für -log sigma(s) und ein Sigmoid ohne Überlauf"),
          check_sgns_large_scores),
    check("keep_probabilities", ("subsampling equals the C code / gensim",
                                 "das Subsampling gleicht dem C-Code / gensim"),
          ("t = sample * counts.sum(); (sqrt(c/t) + 1) * t/c; np.minimum(..., 1)",
           "t = sample * counts.sum(); (sqrt(c/t) + 1) * t/c; np.minimum(..., 1)"),
          check_keep_probabilities),
    check("keep_probabilities_off", ("sample = 0 keeps every word",
                                     "sample = 0 behält jedes Wort"),
          ("return np.ones for sample <= 0 before dividing by t",
           "geben Sie bei sample <= 0 np.ones zurück, bevor Sie durch t teilen"),
          check_keep_probabilities_off),
    check("negative_distribution", ("noise distribution counts**power, normalised",
                                    "Rauschverteilung counts**power, normiert"),
          ("raise the counts to `power` (default 0.75), then divide by the sum",
           "Zählungen hoch `power` (Standard 0.75), dann durch die Summe teilen"),
          check_negative_distribution),
]  # fmt: skip
