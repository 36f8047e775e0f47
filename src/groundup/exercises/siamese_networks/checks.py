"""Checks for the `siamese_networks` exercise.

Oracles: the contrastive loss written with torch.nn.functional ops (pairwise_distance with
eps=0, relu), torch.nn.functional.triplet_margin_loss with eps=0, and groundup's
batch_hard_triplet_loss, which tests/nn/test_metric_learning.py proves equal to a brute-force
search over every triplet. Inputs are float64 with fixed seeds, so a right answer agrees to
about 1e-15; the tolerance (atol 1e-10, rtol 1e-8) leaves room only for rounding.
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
    assert_true,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg
from groundup.nn.metric_learning import batch_hard_triplet_loss

FUNCTIONS = ["contrastive_loss", "triplet_loss", "batch_hard_triplet_loss"]

REFERENCE = """from groundup.nn.metric_learning import batch_hard_triplet_loss as _batch_hard
from groundup.nn.metric_learning import contrastive_loss as _contrastive
from groundup.nn.metric_learning import triplet_margin_loss


def contrastive_loss(x1, x2, same, margin=1.0):
    return _contrastive(x1, x2, same, margin)


def triplet_loss(anchor, positive, negative, margin=1.0):
    return triplet_margin_loss(anchor, positive, negative, margin, eps=0.0)


def batch_hard_triplet_loss(embeddings, labels, margin=1.0):
    return _batch_hard(embeddings, labels, margin)
"""

TOL = {"atol": 1e-10, "rtol": 1e-8}


def _randn(seed: int, *shape: int, scale: float = 1.0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


def _same(seed: int, n: int) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (n,), generator=g).double()


def oracle_contrastive(x1: Tensor, x2: Tensor, same: Tensor, margin: float) -> Tensor:
    d = F.pairwise_distance(x1, x2, eps=0.0)
    return (0.5 * (same * d.pow(2) + (1 - same) * F.relu(margin - d).pow(2))).mean()


def oracle_triplet(a: Tensor, p: Tensor, n: Tensor, margin: float) -> Tensor:
    return F.triplet_margin_loss(a, p, n, margin=margin, eps=0.0)


def _scalar(label: Msg, fn, *args, **kwargs) -> Tensor:
    out = call(label, fn, *args, **kwargs)
    if not isinstance(out, Tensor):
        raise Mismatch(label, expected="a torch tensor", got=describe(out))
    assert_shape(label, out, ())
    return out


def _value_and_grads(
    label: Msg, fn, tensors: tuple[Tensor, ...], *rest, **kwargs
) -> tuple[Tensor, tuple[Tensor | None, ...]]:
    """The learner's value, and its gradients with respect to `tensors`."""
    leaves = tuple(t.clone().requires_grad_() for t in tensors)
    out = _scalar(label, fn, *leaves, *rest, **kwargs)
    if out.grad_fn is None:
        raise Mismatch(
            label,
            expected="a tensor connected to the embeddings by autograd (it has a grad_fn)",
            got=describe(out) + ", grad_fn None",
        )
    call(label, out.backward)
    return out.detach(), tuple(leaf.grad for leaf in leaves)


def _oracle_grads(oracle, tensors: tuple[Tensor, ...], *rest) -> tuple[Tensor, ...]:
    leaves = tuple(t.clone().requires_grad_() for t in tensors)
    return torch.autograd.grad(oracle(*leaves, *rest), leaves)


def _compare_grads(label: Msg, names: list[str], got, expected) -> None:
    for name, g, e in zip(names, got, expected, strict=True):
        grad_label = Msg(f"{label.en}: gradient for {name}", f"{label.de}: Gradient für {name}")
        if g is None:
            raise Mismatch(
                grad_label,
                expected=f"a gradient of shape {tuple(e.shape)}",
                got="None: no gradient flowed back (.detach(), .item(), numpy?)",
            )
        assert_true(
            grad_label,
            bool(torch.isfinite(g).all()),
            expected="finite numbers",
            got=f"{int((~torch.isfinite(g)).sum())} entries nan or inf (sqrt at 0?)",
        )
        assert_close(grad_label, g, e, **TOL)


# ---------------------------------------------------------------- contrastive loss


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_contrastive_shape(module: ModuleType) -> None:
    fn = require(module, "contrastive_loss")
    for n, d in [(5, 3), (1, 4), (8, 2)]:
        label = Msg(
            f"contrastive_loss(x1 ({n}, {d}), x2 ({n}, {d}), same ({n},)).shape: the mean",
            f"contrastive_loss(x1 ({n}, {d}), x2 ({n}, {d}), same ({n},)).shape: der Mittelwert",
        )
        _scalar(label, fn, _randn(n, n, d), _randn(n + 1, n, d), _same(n, n))


def check_contrastive_same_pairs(module: ModuleType) -> None:
    fn = require(module, "contrastive_loss")
    for seed, (n, d) in enumerate([(6, 3), (4, 5)]):
        x1, x2, same = _randn(10 + seed, n, d), _randn(20 + seed, n, d), torch.ones(n).double()
        label = Msg(
            f"contrastive_loss, all {n} pairs of the same class (same = 1): mean of d^2 / 2",
            f"contrastive_loss, alle {n} Paare derselben Klasse (same = 1): Mittel von d^2 / 2",
        )
        got = _scalar(label, fn, x1, x2, same, margin=1.0)
        assert_close(label, got, oracle_contrastive(x1, x2, same, 1.0), **TOL)


def check_contrastive_different_pairs(module: ModuleType) -> None:
    fn = require(module, "contrastive_loss")
    # Distances of about 0.3 to 4.5: some pairs inside the margin of 2, some beyond it.
    for seed, (n, d) in enumerate([(10, 3), (7, 2)]):
        x1, x2, same = _randn(30 + seed, n, d), _randn(40 + seed, n, d, scale=1.5), torch.zeros(n)
        label = Msg(
            f"contrastive_loss, all {n} pairs of different classes (same = 0), margin 2: "
            "mean of max(0, 2 - d)^2 / 2",
            f"contrastive_loss, alle {n} Paare verschiedener Klassen (same = 0), margin 2: "
            "Mittel von max(0, 2 - d)^2 / 2",
        )
        got = _scalar(label, fn, x1, x2, same.double(), margin=2.0)
        assert_close(label, got, oracle_contrastive(x1, x2, same.double(), 2.0), **TOL)


def check_contrastive_values(module: ModuleType) -> None:
    fn = require(module, "contrastive_loss")
    for seed, (n, d, margin) in enumerate([(12, 4, 1.0), (9, 3, 2.5), (16, 6, 0.5)]):
        x1, x2, same = _randn(50 + seed, n, d), _randn(60 + seed, n, d), _same(70 + seed, n)
        label = Msg(
            f"contrastive_loss, {n} mixed pairs in {d} dimensions, margin {margin}",
            f"contrastive_loss, {n} gemischte Paare in {d} Dimensionen, margin {margin}",
        )
        got = _scalar(label, fn, x1, x2, same, margin=margin)
        assert_close(label, got, oracle_contrastive(x1, x2, same, margin), **TOL)


def check_contrastive_gradients(module: ModuleType) -> None:
    fn = require(module, "contrastive_loss")
    for seed, (n, d, margin) in enumerate([(10, 3, 2.0), (6, 5, 3.0)]):
        x1, x2, same = _randn(80 + seed, n, d), _randn(90 + seed, n, d), _same(95 + seed, n)
        label = Msg(
            f"gradients of contrastive_loss, {n} mixed pairs, margin {margin}",
            f"Gradienten von contrastive_loss, {n} gemischte Paare, margin {margin}",
        )
        _, grads = _value_and_grads(label, fn, (x1, x2), same, margin=margin)
        expected = _oracle_grads(oracle_contrastive, (x1, x2), same, margin)
        _compare_grads(label, ["x1", "x2"], grads, expected)


# ---------------------------------------------------------------- triplet loss


def _triplets(seed: int, n: int, d: int) -> tuple[Tensor, Tensor, Tensor]:
    return _randn(seed, n, d), _randn(seed + 1, n, d), _randn(seed + 2, n, d)


def check_triplet_shape(module: ModuleType) -> None:
    fn = require(module, "triplet_loss")
    for n, d in [(5, 3), (1, 2)]:
        label = Msg(
            f"triplet_loss(anchor, positive, negative, each ({n}, {d})).shape: the mean",
            f"triplet_loss(anchor, positive, negative, je ({n}, {d})).shape: der Mittelwert",
        )
        _scalar(label, fn, *_triplets(n, n, d))


def check_triplet_values(module: ModuleType) -> None:
    fn = require(module, "triplet_loss")
    for seed, (n, d, margin) in enumerate([(12, 4, 1.0), (9, 2, 0.3), (15, 6, 2.0)]):
        a, p, neg = _triplets(100 + 3 * seed, n, d)
        label = Msg(
            f"triplet_loss, {n} random triplets in {d} dimensions, margin {margin}, against "
            "F.triplet_margin_loss(eps=0)",
            f"triplet_loss, {n} zufällige Triplets in {d} Dimensionen, margin {margin}, "
            "verglichen mit F.triplet_margin_loss(eps=0)",
        )
        got = _scalar(label, fn, a, p, neg, margin=margin)
        assert_close(label, got, oracle_triplet(a, p, neg, margin), **TOL)


def check_triplet_easy_triplets(module: ModuleType) -> None:
    fn = require(module, "triplet_loss")
    a = _randn(120, 6, 3)
    p = a + 0.1 * _randn(121, 6, 3)
    n = a + 10.0 * _randn(122, 6, 3).sign()  # far away: every triplet is satisfied
    label = Msg(
        "triplet_loss of easy triplets (negative much farther than the positive): exactly 0",
        "triplet_loss leichter Triplets (negatives Beispiel viel weiter weg als das "
        "positive): genau 0",
    )
    got = _scalar(label, fn, a, p, n, margin=1.0)
    assert_close(label, got, torch.zeros((), dtype=torch.float64), **TOL)


def check_triplet_gradients(module: ModuleType) -> None:
    fn = require(module, "triplet_loss")
    for seed, (n, d, margin) in enumerate([(10, 3, 1.0), (7, 5, 2.0)]):
        tensors = _triplets(130 + 3 * seed, n, d)
        label = Msg(
            f"gradients of triplet_loss, {n} triplets, margin {margin}",
            f"Gradienten von triplet_loss, {n} Triplets, margin {margin}",
        )
        _, grads = _value_and_grads(label, fn, tensors, margin=margin)
        expected = _oracle_grads(oracle_triplet, tensors, margin)
        _compare_grads(label, ["anchor", "positive", "negative"], grads, expected)


# ---------------------------------------------------------------- batch-hard mining


def _batch(seed: int, labels: list[int], d: int = 3) -> tuple[Tensor, Tensor]:
    return _randn(seed, len(labels), d), torch.tensor(labels)


def _oracle_batch_hard(x: Tensor, labels: Tensor, margin: float) -> Tensor:
    return batch_hard_triplet_loss(x, labels, margin)


def check_batch_hard_shape(module: ModuleType) -> None:
    fn = require(module, "batch_hard_triplet_loss")
    x, labels = _batch(140, [0, 0, 1, 1, 2, 2])
    label = Msg(
        "batch_hard_triplet_loss(embeddings (6, 3), labels (6,)).shape: the mean",
        "batch_hard_triplet_loss(embeddings (6, 3), labels (6,)).shape: der Mittelwert",
    )
    _scalar(label, fn, x, labels)


def check_batch_hard_values(module: ModuleType) -> None:
    fn = require(module, "batch_hard_triplet_loss")
    cases = [
        ([0, 0, 0, 1, 1, 1, 2, 2, 2], 1.0),
        ([1, 0, 1, 0, 1, 0, 0, 1], 2.0),
        ([3, 3, 5, 5, 3, 5, 7, 7, 7, 3], 0.5),
    ]
    for seed, (labels, margin) in enumerate(cases):
        x, y = _batch(150 + seed, labels)
        label = Msg(
            f"batch_hard_triplet_loss, labels {labels}, margin {margin}, against a search over "
            "every triplet",
            f"batch_hard_triplet_loss, Labels {labels}, margin {margin}, verglichen mit einer "
            "Suche über alle Triplets",
        )
        got = _scalar(label, fn, x, y, margin=margin)
        assert_close(label, got, _oracle_batch_hard(x, y, margin), **TOL)


def check_batch_hard_singletons(module: ModuleType) -> None:
    fn = require(module, "batch_hard_triplet_loss")
    # Examples 2 and 5 are alone in their class: as anchors they have no positive.
    labels = [0, 0, 1, 2, 2, 3, 0]
    x, y = _batch(160, labels)
    label = Msg(
        f"batch_hard_triplet_loss, labels {labels} (classes 1 and 3 have one example), "
        "margin 5: the lone examples are no anchors",
        f"batch_hard_triplet_loss, Labels {labels} (Klassen 1 und 3 haben ein Beispiel), "
        "margin 5: die allein stehenden Beispiele sind keine Anker",
    )
    got = _scalar(label, fn, x, y, margin=5.0)
    assert_close(label, got, _oracle_batch_hard(x, y, 5.0), **TOL)


def check_batch_hard_gradients(module: ModuleType) -> None:
    fn = require(module, "batch_hard_triplet_loss")
    for seed, (labels, margin) in enumerate([([0, 0, 1, 1, 2, 2, 2], 3.0), ([0, 1] * 5, 2.0)]):
        x, y = _batch(170 + seed, labels, d=4)
        label = Msg(
            f"gradients of batch_hard_triplet_loss, labels {labels}, margin {margin}",
            f"Gradienten von batch_hard_triplet_loss, Labels {labels}, margin {margin}",
        )
        _, grads = _value_and_grads(label, fn, (x,), y, margin=margin)
        expected = _oracle_grads(_oracle_batch_hard, (x,), y, margin)
        _compare_grads(label, ["embeddings"], grads, expected)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "contrastive_loss, triplet_loss and batch_hard_triplet_loss are defined",
            "contrastive_loss, triplet_loss und batch_hard_triplet_loss sind definiert",
        ),
        (
            "Keep the three function names of the stub.",
            "Behalten Sie die drei Funktionsnamen aus der Vorlage bei.",
        ),
        check_exists,
    ),
    check(
        "contrastive_shape",
        (
            "contrastive_loss returns one number, the mean over the pairs",
            "contrastive_loss gibt eine Zahl zurück, den Mittelwert über die Paare",
        ),
        (
            "Compute one loss per pair, shape (N,), then .mean(); sum over the D coordinates "
            "only inside the distance.",
            "Berechnen Sie einen Verlust pro Paar, Form (N,), dann .mean(); über die D Koordinaten "
            "wird nur im Abstand summiert.",
        ),
        check_contrastive_shape,
    ),
    check(
        "contrastive_same_pairs",
        ("pairs of the same class cost d^2 / 2", "Paare derselben Klasse kosten d^2 / 2"),
        (
            "same = 1 marks a pair of the same class: its term is 1/2 * d^2, the squared distance. "
            "Is the label convention the other way round (Hadsell writes Y = 0 for similar)?",
            "same = 1 kennzeichnet ein Paar derselben Klasse: sein Term ist 1/2 * d^2, der "
            "quadrierte Abstand. Ist die Label-Konvention vertauscht (Hadsell schreibt Y = 0 für "
            "ähnlich)?",
        ),
        check_contrastive_same_pairs,
    ),
    check(
        "contrastive_different_pairs",
        (
            "pairs of different classes cost max(0, margin - d)^2 / 2",
            "Paare verschiedener Klassen kosten max(0, margin - d)^2 / 2",
        ),
        (
            "Pairs farther apart than the margin must cost exactly 0 (clamp at 0 BEFORE squaring), "
            "closer ones (margin - d)^2 / 2: margin minus distance, squared.",
            "Paare, die weiter als margin auseinanderliegen, kosten genau 0 (bei 0 begrenzen, BEVOR "
            "quadriert wird), nähere (margin - d)^2 / 2: margin minus Abstand, quadriert.",
        ),
        check_contrastive_different_pairs,
    ),
    check(
        "contrastive_values",
        (
            "contrastive_loss equals the reference on mixed pairs and several margins",
            "contrastive_loss stimmt bei gemischten Paaren und mehreren Margins mit der Referenz "
            "überein",
        ),
        (
            "Both terms carry the factor 1/2, d is the Euclidean distance (the square root of the "
            "sum of squared differences), and the result is the mean, not the sum.",
            "Beide Terme haben den Faktor 1/2, d ist der euklidische Abstand (die Wurzel der Summe "
            "der quadrierten Differenzen), und das Ergebnis ist der Mittelwert, nicht die Summe.",
        ),
        check_contrastive_values,
    ),
    check(
        "contrastive_gradients",
        (
            "gradients of contrastive_loss reach x1 and x2 and equal the reference",
            "Gradienten von contrastive_loss erreichen x1 und x2 und stimmen mit der Referenz "
            "überein",
        ),
        (
            "Stay with torch operations on x1 and x2: no .detach(), .item() or numpy.",
            "Bleiben Sie bei torch-Operationen auf x1 und x2: kein .detach(), .item() oder numpy.",
        ),
        check_contrastive_gradients,
    ),
    check(
        "triplet_shape",
        (
            "triplet_loss returns one number, the mean over the triplets",
            "triplet_loss gibt eine Zahl zurück, den Mittelwert über die Triplets",
        ),
        (
            "One loss per triplet, shape (N,), then .mean().",
            "Ein Verlust pro Triplet, Form (N,), dann .mean().",
        ),
        check_triplet_shape,
    ),
    check(
        "triplet_values",
        (
            "triplet_loss equals F.triplet_margin_loss(eps=0)",
            "triplet_loss stimmt mit F.triplet_margin_loss(eps=0) überein",
        ),
        (
            "max(0, d(a, p) - d(a, n) + margin) with plain (not squared) Euclidean distances: the "
            "margin is ADDED, the negative distance subtracted.",
            "max(0, d(a, p) - d(a, n) + margin) mit gewöhnlichen (nicht quadrierten) euklidischen "
            "Abständen: margin wird ADDIERT, der negative Abstand abgezogen.",
        ),
        check_triplet_values,
    ),
    check(
        "triplet_easy_triplets",
        (
            "triplets that already satisfy the margin cost exactly 0",
            "Triplets, die die Margin schon erfüllen, kosten genau 0",
        ),
        (
            "Clamp each triplet's loss at 0 before averaging: a very easy triplet must not earn a "
            "negative loss that hides the hard ones.",
            "Begrenzen Sie den Verlust jedes Triplets vor dem Mitteln bei 0: ein sehr leichtes "
            "Triplet darf keinen negativen Verlust bekommen, der die schweren verdeckt.",
        ),
        check_triplet_easy_triplets,
    ),
    check(
        "triplet_gradients",
        (
            "gradients of triplet_loss reach anchor, positive and negative",
            "Gradienten von triplet_loss erreichen anchor, positive und negative",
        ),
        (
            "Stay with torch operations: no .detach(), .item() or numpy.",
            "Bleiben Sie bei torch-Operationen: kein .detach(), .item() oder numpy.",
        ),
        check_triplet_gradients,
    ),
    check(
        "batch_hard_shape",
        (
            "batch_hard_triplet_loss returns one number",
            "batch_hard_triplet_loss gibt eine Zahl zurück",
        ),
        (
            "One loss per valid anchor, then the mean.",
            "Ein Verlust pro gültigem Anker, dann der Mittelwert.",
        ),
        check_batch_hard_shape,
    ),
    check(
        "batch_hard_values",
        (
            "batch_hard_triplet_loss uses the farthest positive and the nearest negative",
            "batch_hard_triplet_loss nimmt das entfernteste positive und das nächste negative "
            "Beispiel",
        ),
        (
            "Hardest means worst for the anchor: the positive with the LARGEST distance (max over "
            "the same class) and the negative with the SMALLEST distance (min over other classes).",
            "Am schwersten heißt am schlechtesten für den Anker: das positive Beispiel mit dem "
            "GRÖSSTEN Abstand (Maximum über die eigene Klasse) und das negative mit dem KLEINSTEN "
            "(Minimum über die anderen Klassen).",
        ),
        check_batch_hard_values,
    ),
    check(
        "batch_hard_singletons",
        (
            "an example alone in its class is no anchor; no anchor is its own positive",
            "ein Beispiel allein in seiner Klasse ist kein Anker; kein Anker ist sein eigenes "
            "positives Beispiel",
        ),
        (
            "Remove the diagonal from the positives (labels equal AND index different), and "
            "average only over anchors that have a positive.",
            "Entfernen Sie die Diagonale aus den positiven Beispielen (Labels gleich UND Index "
            "verschieden), und mitteln Sie nur über Anker, die ein positives Beispiel haben.",
        ),
        check_batch_hard_singletons,
    ),
    check(
        "batch_hard_gradients",
        (
            "gradients of batch_hard_triplet_loss are finite and equal the reference",
            "Gradienten von batch_hard_triplet_loss sind endlich und stimmen mit der Referenz "
            "überein",
        ),
        (
            "nan gradients come from sqrt at the zero diagonal: take sqrt(clamp(squared, "
            "min=1e-12)). Select with masked_fill or torch.where, not by multiplying with a mask.",
            "nan-Gradienten kommen von sqrt auf der Null-Diagonalen: nehmen Sie sqrt(clamp(quadriert, "
            "min=1e-12)). Wählen Sie mit masked_fill oder torch.where aus, nicht durch "
            "Multiplikation mit einer Maske.",
        ),
        check_batch_hard_gradients,
    ),
]
