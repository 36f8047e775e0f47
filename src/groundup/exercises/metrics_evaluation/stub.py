"""Exercise metrics_evaluation: precision, recall and F1 (micro and macro), and ROC AUC.

Write two functions with NumPy (no scikit-learn, no groundup.metrics). Run
`groundup check metrics-evaluation` to compare them with sklearn.metrics on random
predictions, including classes that are never predicted and scores with ties.

DE: Übung metrics_evaluation: Precision, Recall und F1 (Mikro- und Makro-Mittel) sowie ROC
AUC. Schreiben Sie zwei Funktionen mit NumPy (ohne scikit-learn und groundup.metrics).
`groundup check metrics-evaluation` vergleicht sie auf zufälligen Vorhersagen mit
sklearn.metrics, auch mit Klassen, die nie vorhergesagt werden, und mit gleichen Scores.
"""

from __future__ import annotations

import numpy as np


def precision_recall_f1(
    y_true: np.ndarray, y_pred: np.ndarray, average: str = "macro"
) -> tuple[float, float, float]:
    """Precision, recall and F1 of a multiclass prediction, averaged over the classes.

    y_true, y_pred: (N,) integer class labels. The classes are all labels that occur in
    y_true OR in y_pred (a class may be missing from either). For one class c:
        TP = examples with true c and predicted c
        precision = TP / (number of examples predicted as c)
        recall    = TP / (number of examples whose true class is c)
        F1        = the harmonic mean of that class's precision and recall
                  = 2 TP / (predicted as c + truly c)
    A ratio whose denominator is 0 counts as 0.0 (no exception, no nan); so does F1 when
    precision and recall are both 0.
    average:
        "micro": add up TP, predicted and true counts over all classes first, then divide
        "macro": compute the three scores per class, then take their plain mean
                 (macro F1 is the mean of the per-class F1 values)
    returns: (precision, recall, f1) as three Python floats, like
             sklearn.metrics.precision_recall_fscore_support(..., average=average,
             zero_division=0)[:3]

    DE: Precision, Recall und F1 einer Mehrklassen-Vorhersage, gemittelt über die Klassen.
    Klassen sind alle Labels, die in y_true ODER y_pred vorkommen. Für eine Klasse c:
    precision = TP / (als c vorhergesagt), recall = TP / (wirklich c),
    F1 = 2 TP / (als c vorhergesagt + wirklich c). Ein Bruch mit Nenner 0 zählt als 0.0
    (keine Ausnahme, kein nan). "micro": erst die Zählungen über alle Klassen addieren, dann
    teilen; "macro": die Werte pro Klasse berechnen und dann einfach mitteln (Makro-F1 ist
    der Mittelwert der F1-Werte pro Klasse). Rückgabe: drei Python-Floats.
    """
    # TODO: 1. classes = every label in y_true or y_pred (np.union1d)
    #       2. per class: TP, how often predicted, how often true
    #       3. "micro": sum the counts first; "macro": divide per class, then average
    #       4. divide safely: denominator 0 -> 0.0
    # TODO: 1. Klassen = alle Labels aus y_true oder y_pred (np.union1d)
    #       2. pro Klasse: TP, wie oft vorhergesagt, wie oft wahr
    #       3. "micro": erst Zählungen summieren; "macro": pro Klasse teilen, dann mitteln
    #       4. sicher teilen: Nenner 0 -> 0.0
    raise NotImplementedError("TODO: precision_recall_f1")


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of a two-class problem, as sklearn.metrics.roc_auc_score.

    y_true: (N,) labels 0 (negative) and 1 (positive); both occur at least once.
    scores: (N,) real numbers; higher means "more likely positive". Scores may repeat.
    The AUC is the probability that a randomly chosen positive example gets a higher score
    than a randomly chosen negative one. A tie (equal scores) counts as one half: the
    model cannot tell the two apart, so it orders them correctly half of the time.
    returns: a Python float in [0, 1]

    DE: Fläche unter der ROC-Kurve eines Zwei-Klassen-Problems, wie
    sklearn.metrics.roc_auc_score. y_true: Labels 0 (negativ) und 1 (positiv), beide kommen
    vor. scores: reelle Zahlen, höher heißt "eher positiv"; Werte dürfen sich wiederholen.
    Die AUC ist die Wahrscheinlichkeit, dass ein zufälliges positives Beispiel einen höheren
    Score bekommt als ein zufälliges negatives. Ein Gleichstand zählt als ein halber Treffer.
    Rückgabe: ein Python-Float in [0, 1].
    """
    # TODO: compare every positive score with every negative score (broadcasting:
    #       pos[:, None] vs neg[None, :]), count the wins and half the ties, divide by
    #       the number of pairs
    # TODO: jeden positiven Score mit jedem negativen vergleichen (Broadcasting:
    #       pos[:, None] gegen neg[None, :]), Siege und halbe Gleichstände zählen, durch
    #       die Anzahl der Paare teilen
    raise NotImplementedError("TODO: roc_auc")
