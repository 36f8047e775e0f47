"""Exercise `losses`: two cross-entropies from tensor operations, stable for any logit.

Write
- `bce_with_logits(logits, targets)`: binary cross-entropy of sigmoid(logits), and
- `cross_entropy(logits, targets, label_smoothing=0.0)`: cross-entropy of softmax(logits),
both with mean reduction. `groundup check losses` compares values and gradients with
torch.nn.functional.binary_cross_entropy_with_logits and torch.nn.functional.cross_entropy,
also at logits of +-100 and beyond, where a naive formula returns inf or nan.
Do not call those functions (nor F.log_softmax, torch.logsumexp, F.softplus,
F.logsigmoid, F.nll_loss); build them from exp, log, log1p, max, sum and gather.

DE: Übung `losses`: zwei Kreuzentropien aus Tensor-Operationen, stabil für jeden Logit.
Schreiben Sie `bce_with_logits(logits, targets)` (binäre Kreuzentropie von sigmoid(logits))
und `cross_entropy(logits, targets, label_smoothing=0.0)` (Kreuzentropie von
softmax(logits)), beide gemittelt. `groundup check losses` vergleicht Werte und Gradienten
mit binary_cross_entropy_with_logits und cross_entropy aus torch.nn.functional, auch bei
Logits von +-100 und mehr, wo eine naive Formel inf oder nan liefert. Rufen Sie diese
Funktionen (und F.log_softmax, torch.logsumexp, F.softplus, F.logsigmoid, F.nll_loss) nicht
auf; bauen Sie alles aus exp, log, log1p, max, sum und gather.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.exp, torch.log1p, torch.where, ...
from torch import Tensor


def bce_with_logits(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean binary cross-entropy, computed from logits.

    logits:  float tensor of any shape; p = sigmoid(logits) is the predicted P(y = 1).
    targets: float tensor of the same shape with values in [0, 1] (0/1 labels, or soft ones).
    Returns a 0-dim tensor: the mean over ALL elements of
        -[y log p + (1 - y) log(1 - p)].
    Must be finite and exact for any logit, e.g. +-100 or +-1000 in float64: never compute
    sigmoid first and then log. Use log sigmoid(x) = -softplus(-x),
    log(1 - sigmoid(x)) = -softplus(x), and softplus(x) = max(x, 0) + log1p(exp(-|x|)).
    Gradients must flow back to `logits`.

    DE: Gemittelte binäre Kreuzentropie aus Logits. logits: Float-Tensor beliebiger Form,
    p = sigmoid(logits) ist die vorhergesagte Wahrscheinlichkeit für y = 1. targets: gleiche
    Form, Werte in [0, 1]. Rückgabe: ein 0-dimensionaler Tensor, der Mittelwert über ALLE
    Elemente von -[y log p + (1 - y) log(1 - p)]. Muss für jeden Logit endlich und genau sein
    (auch +-100, +-1000 in float64): nie erst sigmoid und dann log. Nutzen Sie
    log sigmoid(x) = -softplus(-x), log(1 - sigmoid(x)) = -softplus(x) und
    softplus(x) = max(x, 0) + log1p(exp(-|x|)). Gradienten müssen zu `logits` zurückfließen.
    """
    raise NotImplementedError("TODO: bce_with_logits")


def cross_entropy(logits: Tensor, targets: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """Mean cross-entropy of softmax(logits) against integer class labels.

    logits:  (N, C) float tensor, one row of C class scores per example.
    targets: (N,) int64 tensor of class indices in 0 .. C-1.
    label_smoothing eps in [0, 1]: the target distribution of example i is
        q_c = (1 - eps) * [c == targets[i]] + eps / C
    (eps / C goes to EVERY class, the true one included; all q_c sum to 1).
    Returns a 0-dim tensor: the mean over the N examples of  -sum_c q_c log p_c,
    where log p = log_softmax(logits) along the class axis (dim=1).
    log_softmax(x) = x - logsumexp(x), and logsumexp(x) = m + log(sum(exp(x - m))) with
    m the row maximum: without the shift, exp overflows (float32 at logits ~89).
    Gradients must flow back to `logits`.

    DE: Gemittelte Kreuzentropie von softmax(logits) gegen ganzzahlige Klassen-Labels.
    logits: (N, C), targets: (N,) int64 mit Klassen 0 .. C-1. Label Smoothing eps in [0, 1]:
    die Zielverteilung von Beispiel i ist q_c = (1 - eps) * [c == targets[i]] + eps / C
    (eps / C geht an JEDE Klasse, auch an die richtige; alle q_c summieren sich zu 1).
    Rückgabe: 0-dimensionaler Tensor, Mittelwert über die N Beispiele von -sum_c q_c log p_c
    mit log p = log_softmax(logits) entlang der Klassenachse (dim=1). Dabei ist
    log_softmax(x) = x - logsumexp(x) und logsumexp(x) = m + log(sum(exp(x - m))) mit dem
    Zeilenmaximum m: ohne die Verschiebung läuft exp über (float32 ab Logits um 89).
    Gradienten müssen zu `logits` zurückfließen.
    """
    # 1. m = the maximum of each row (keepdim=True), log_p = logits - m - log(sum(exp(logits - m)))
    # 2. the loss of the true class: -log_p[i, targets[i]]  (gather, or indexing)
    # 3. the loss against the uniform distribution: -mean over c of log_p[i, c]
    # 4. mix them with (1 - eps) and eps, then average over the examples
    raise NotImplementedError("TODO: cross_entropy")
