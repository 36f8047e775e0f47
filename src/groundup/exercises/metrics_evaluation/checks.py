"""Checks for the metrics_evaluation exercise, against sklearn.metrics.

Precision, recall and F1 are compared with precision_recall_fscore_support(zero_division=0)
and ROC AUC with roc_auc_score, on labels and scores drawn with fixed seeds. Both sides
compute exact ratios of counts, so the tolerance (atol 1e-9) only absorbs rounding.
The cases are built so that precision != recall, micro != macro and macro F1 != the
harmonic mean of macro precision and recall: each classic slip changes the result.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_fscore_support, roc_auc_score

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    call,
    check,
    describe,
    excerpt,
    require,
)
from groundup.i18n import Msg

FUNCTIONS = ["precision_recall_f1", "roc_auc"]

REFERENCE = """from groundup.metrics.classification import precision_recall_f1 as _library
from groundup.metrics.classification import roc_auc


def precision_recall_f1(y_true, y_pred, average="macro"):
    return _library(y_true, y_pred, average=average)[:3]
"""

TOL = {"atol": 1e-9, "rtol": 0.0}
PR = ("precision", "recall")  # the averaging checks leave F1 to its own check


# ---------------------------------------------------------------- comparisons


def _short(values: np.ndarray) -> str:
    return excerpt(values.tolist(), 90)


def compare_prf(
    module: ModuleType,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    average: str,
    scores: tuple[str, ...] = ("precision", "recall", "f1"),
) -> None:
    """Compare the named entries of the learner's (precision, recall, f1) with sklearn's."""
    fn = require(module, "precision_recall_f1")
    text = (
        f"precision_recall_f1(y_true={_short(y_true)}, y_pred={_short(y_pred)}, "
        f"average={average!r})"
    )
    compared = Msg(text, text)
    got = call(compared, fn, y_true.copy(), y_pred.copy(), average)
    _require_triple(compared, got)
    expected = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
    for name, value, want in zip(("precision", "recall", "f1"), got, expected[:3], strict=True):
        if name not in scores:
            continue
        which = Msg(f"{text}: {name}", f"{text}: {name}")
        if isinstance(value, float | np.floating) and math.isnan(value):
            raise Mismatch(which, expected=f"{want:.6g}", got="nan: a 0/0 that should count as 0")
        assert_close(which, value, want, **TOL)


def _require_triple(compared: Msg, got: Any) -> None:
    ok = isinstance(got, tuple | list) and len(got) == 3
    ok = ok and all(isinstance(v, int | float | np.integer | np.floating) for v in got)
    if not ok:
        raise Mismatch(compared, expected="a tuple of three floats (precision, recall, f1)",
                       got=describe(got))  # fmt: skip


def compare_auc(module: ModuleType, y_true: np.ndarray, scores: np.ndarray, note: str) -> None:
    fn = require(module, "roc_auc")
    text = f"roc_auc(y_true, scores) for {len(y_true)} examples, {note}"
    compared = Msg(text, text)
    got = call(compared, fn, y_true.copy(), scores.copy())
    if not isinstance(got, int | float | np.integer | np.floating):
        raise Mismatch(compared, expected="a float", got=describe(got))
    assert_close(compared, got, roc_auc_score(y_true, scores), **TOL)


def random_labels(seed: int, n: int, classes: int, right: float) -> tuple[np.ndarray, np.ndarray]:
    """Unbalanced true labels; a prediction that is right with probability `right`."""
    rng = np.random.default_rng(seed)
    shares = np.arange(1, classes + 1, dtype=float)
    y_true = rng.choice(classes, size=n, p=shares / shares.sum())
    guess = rng.choice(classes, size=n)
    return y_true, np.where(rng.random(n) < right, y_true, guess)


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def perfect_prediction(module: ModuleType) -> None:
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    for average in ("micro", "macro"):
        compare_prf(module, y, y, average)
    compare_auc(module, np.array([0, 0, 1, 1, 0, 1]), np.array([0.1, 0.3, 0.7, 0.8, 0.2, 0.9]),
                "perfectly separated (AUC 1)")  # fmt: skip


def precision_and_recall(module: ModuleType) -> None:
    # class 1 is predicted 3 times and right twice (precision 2/3) and is true 4 times
    # (recall 1/2); class 0 gets precision 3/5 and recall 3/4
    y_true = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    y_pred = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    compare_prf(module, y_true, y_pred, "macro", PR)
    compare_prf(module, *random_labels(1, 40, 3, right=0.6), "macro", PR)


def micro_average(module: ModuleType) -> None:
    for seed, (n, classes) in enumerate([(30, 3), (60, 5), (17, 4)]):
        compare_prf(module, *random_labels(10 + seed, n, classes, right=0.5), "micro", PR)


def macro_average(module: ModuleType) -> None:
    for seed, (n, classes) in enumerate([(30, 3), (60, 5), (25, 4)]):
        compare_prf(module, *random_labels(20 + seed, n, classes, right=0.5), "macro", PR)


def f1_per_class(module: ModuleType) -> None:
    # all three scores now, F1 included; per class precision and recall far apart: harmonic != arithmetic mean, and the mean
    # of per-class F1 != the harmonic mean of macro precision and macro recall
    y_true = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2, 1, 1, 2, 0])
    compare_prf(module, y_true, y_pred, "macro")
    compare_prf(module, *random_labels(30, 50, 4, right=0.4), "macro")
    compare_prf(module, *random_labels(31, 50, 4, right=0.4), "micro")


def zero_division(module: ModuleType) -> None:
    # class 2 is never predicted (precision 0/0), class 3 is never true (recall 0/0)
    y_true = np.array([0, 1, 2, 2, 0, 1, 1])
    y_pred = np.array([0, 1, 1, 3, 0, 0, 1])
    for average in ("macro", "micro"):
        compare_prf(module, y_true, y_pred, average)
    # a class that is never right: precision = recall = 0, so F1's 2PR/(P+R) is 0/0
    compare_prf(module, np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0]), "macro")


def auc_matches_sklearn(module: ModuleType) -> None:
    rng = np.random.default_rng(40)
    for n in (8, 50, 200):
        y = rng.permutation(np.r_[0, 1, rng.integers(0, 2, n - 2)])
        scores = rng.standard_normal(n) + 0.8 * y
        compare_auc(module, y, scores, "distinct random scores")
    y = rng.integers(0, 2, 30)
    y[:2] = (0, 1)
    compare_auc(module, y, rng.standard_normal(30) - 1.0 * y, "a model worse than chance")


def auc_ties(module: ModuleType) -> None:
    rng = np.random.default_rng(50)
    compare_auc(module, np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.5, 0.5]),
                "all four scores equal (AUC 0.5)")  # fmt: skip
    for n in (12, 80):
        y = rng.permutation(np.r_[0, 1, rng.integers(0, 2, n - 2)])
        scores = np.round(rng.random(n) + 0.3 * y, 1)  # about 14 distinct values
        compare_auc(module, y, scores, "scores rounded to one decimal (many ties)")


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions precision_recall_f1(y_true, y_pred, average) and roc_auc(y_true, scores)",
            "Funktionen precision_recall_f1(y_true, y_pred, average) und roc_auc(y_true, scores)",
        ),
        (
            "Define both functions at the top level of your file, with these names.",
            "Definieren Sie beide Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        defines_functions,
    ),
    check(
        "perfect_prediction",
        (
            "a perfect prediction scores 1.0 everywhere; a tuple of three floats comes back",
            "eine perfekte Vorhersage ergibt überall 1.0; zurück kommt ein Tupel aus drei Floats",
        ),
        (
            "Return (precision, recall, f1) as a tuple. For roc_auc, count the pairs (positive, "
            "negative) in which the positive example has the higher score.",
            "Geben Sie (precision, recall, f1) als Tupel zurück. Zählen Sie für roc_auc die "
            "Paare (positiv, negativ), in denen das positive Beispiel den höheren Score hat.",
        ),
        perfect_prediction,
    ),
    check(
        "precision_and_recall",
        (
            "precision divides by the predictions, recall by the true labels",
            "Precision teilt durch die Vorhersagen, Recall durch die wahren Labels",
        ),
        (
            "Precision of class c: of all examples PREDICTED as c, the share that really is c "
            "(TP / (TP + FP)). Recall: of all examples that really ARE c, the share predicted "
            "as c (TP / (TP + FN)). Swapping the two is the classic slip. This check uses "
            "average='macro', which divides per class before averaging.",
            "Precision der Klasse c: unter allen als c VORHERGESAGTEN Beispielen der Anteil, "
            "der wirklich c ist (TP / (TP + FP)). Recall: unter allen Beispielen, die wirklich "
            "c SIND, der Anteil, der als c vorhergesagt wurde (TP / (TP + FN)). Die beiden zu "
            "vertauschen ist der klassische Fehler. Diese Prüfung verwendet average='macro', "
            "das pro Klasse teilt und erst dann mittelt.",
        ),
        precision_and_recall,
    ),
    check(
        "micro_average",
        (
            "average='micro': precision and recall equal sklearn",
            "average='micro': Precision und Recall stimmen mit sklearn überein",
        ),
        (
            "Micro averaging pools the counts: sum TP, the prediction counts and the true "
            "counts over all classes, then divide once. In single-label multiclass problems "
            "micro precision = micro recall = micro F1 = accuracy.",
            "Das Mikro-Mittel fasst die Zählungen zusammen: TP, Vorhersage- und Wahr-Zählungen "
            "über alle Klassen summieren, dann einmal teilen. Bei Mehrklassen-Problemen mit "
            "einem Label pro Beispiel gilt Mikro-Precision = Mikro-Recall = Mikro-F1 = Accuracy.",
        ),
        micro_average,
    ),
    check(
        "macro_average",
        (
            "average='macro': precision and recall equal sklearn",
            "average='macro': Precision und Recall stimmen mit sklearn überein",
        ),
        (
            "Macro averaging computes precision, recall and F1 for every class on its own and "
            "then takes the plain mean, so a rare class counts as much as a frequent one. The "
            "classes are all labels in y_true or y_pred.",
            "Das Makro-Mittel berechnet Precision, Recall und F1 für jede Klasse einzeln und "
            "mittelt dann einfach, sodass eine seltene Klasse so viel zählt wie eine häufige. "
            "Die Klassen sind alle Labels aus y_true oder y_pred.",
        ),
        macro_average,
    ),
    check(
        "f1_per_class",
        (
            "F1 (micro and macro): the mean of the per-class harmonic means",
            "F1 (Mikro und Makro): der Mittelwert der harmonischen Mittel pro Klasse",
        ),
        (
            "F1 of a class is the harmonic mean 2PR / (P + R) = 2 TP / (predicted + true), not "
            "(P + R) / 2. For macro F1 compute F1 per class first and average those; the "
            "harmonic mean of macro precision and macro recall is a different number.",
            "F1 einer Klasse ist das harmonische Mittel 2PR / (P + R) = 2 TP / (vorhergesagt + "
            "wahr), nicht (P + R) / 2. Für Makro-F1 berechnen Sie zuerst F1 pro Klasse und "
            "mitteln dann; das harmonische Mittel aus Makro-Precision und Makro-Recall ist eine "
            "andere Zahl.",
        ),
        f1_per_class,
    ),
    check(
        "zero_division",
        (
            "classes never predicted or never true: 0/0 counts as 0, no crash, no nan",
            "nie vorhergesagte oder nie wahre Klassen: 0/0 zählt als 0, kein Absturz, kein nan",
        ),
        (
            "A class nobody predicted has no precision (0 / 0); sklearn with zero_division=0 "
            "counts it as 0.0. Divide only where the denominator is positive, e.g. "
            "np.where(d > 0, n / np.where(d > 0, d, 1), 0.0), and compute F1 as "
            "2 TP / (predicted + true) so that P = R = 0 gives 0 instead of 0/0.",
            "Eine Klasse, die nie vorhergesagt wurde, hat keine Precision (0 / 0); sklearn mit "
            "zero_division=0 zählt sie als 0.0. Teilen Sie nur, wo der Nenner positiv ist, z. B. "
            "np.where(d > 0, n / np.where(d > 0, d, 1), 0.0), und berechnen Sie F1 als "
            "2 TP / (vorhergesagt + wahr), damit P = R = 0 den Wert 0 statt 0/0 ergibt.",
        ),
        zero_division,
    ),
    check(
        "auc_matches_sklearn",
        (
            "roc_auc equals sklearn's roc_auc_score on distinct random scores",
            "roc_auc stimmt auf verschiedenen Zufalls-Scores mit sklearns roc_auc_score überein",
        ),
        (
            "AUC = (number of pairs in which the positive example scores higher) / (number of "
            "positives * number of negatives). Higher scores mean 'positive': a model that "
            "ranks every positive first has AUC 1, one that ranks them last has AUC 0.",
            "AUC = (Anzahl der Paare, in denen das positive Beispiel höher liegt) / (Anzahl "
            "Positive * Anzahl Negative). Höhere Scores heißen 'positiv': Ein Modell, das alle "
            "Positiven nach vorn sortiert, hat AUC 1, eines, das sie ans Ende sortiert, AUC 0.",
        ),
        auc_matches_sklearn,
    ),
    check(
        "auc_ties",
        (
            "roc_auc with tied scores: a tie counts one half",
            "roc_auc mit gleichen Scores: ein Gleichstand zählt halb",
        ),
        (
            "When a positive and a negative example have the same score, the model cannot "
            "order them: count the pair as 0.5, not 0 and not 1. If you walk a sorted list "
            "instead, move through a whole group of equal scores at once (a diagonal step of "
            "the ROC curve).",
            "Haben ein positives und ein negatives Beispiel denselben Score, kann das Modell "
            "sie nicht ordnen: Zählen Sie das Paar als 0.5, weder als 0 noch als 1. Wenn Sie "
            "eine sortierte Liste durchlaufen, gehen Sie eine ganze Gruppe gleicher Scores auf "
            "einmal weiter (ein diagonaler Schritt der ROC-Kurve).",
        ),
        auc_ties,
    ),
]
