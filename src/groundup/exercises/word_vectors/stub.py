"""Exercise `word_vectors`: the heart of word2vec, written in NumPy.

Write
- `sgns_loss_and_grads(center, context, negatives)`: the skip-gram negative-sampling loss
  of B pairs, summed, and its gradients with respect to all three inputs (by hand: no
  autograd);
- `keep_probabilities(counts, sample)`: the chance that one occurrence of a word survives
  frequent-word subsampling (Mikolov's C code, also used by gensim);
- `negative_distribution(counts, power=0.75)`: the distribution noise words are drawn from.
`groundup check word-vectors` compares them with torch autograd and with the formulas,
also at scores of +-1000, where a naive log(sigmoid(x)) returns inf or nan.

DE: Übung `word_vectors`: der Kern von word2vec in NumPy. Schreiben Sie
`sgns_loss_and_grads(center, context, negatives)` (den über B Paare summierten Verlust des
Skip-Gram mit Negative Sampling und seine Gradienten nach allen drei Eingaben, von Hand,
ohne Autograd), `keep_probabilities(counts, sample)` (die Wahrscheinlichkeit, dass ein
Vorkommen eines Wortes das Subsampling häufiger Wörter übersteht, wie im C-Code von Mikolov
und in gensim) und `negative_distribution(counts, power=0.75)` (die Verteilung, aus der
Rauschwörter gezogen werden). `groundup check word-vectors` vergleicht mit Torch-Autograd
und den Formeln, auch bei Werten von +-1000, wo ein naives log(sigmoid(x)) inf oder nan
liefert.
"""

from __future__ import annotations

import numpy as np


def sgns_loss_and_grads(
    center: np.ndarray, context: np.ndarray, negatives: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Summed negative-sampling loss of B pairs and its gradients.

    center (B, D): input vectors v; context (B, D): output vectors u_o of the true context
    words; negatives (B, K, D): output vectors u_k of K noise words per pair.

        loss = sum over pairs of  -log sigma(u_o . v) - sum_k log sigma(-u_k . v)

    Returns (loss as a float, d loss/d center (B, D), d loss/d context (B, D),
    d loss/d negatives (B, K, D)). Hint: -log sigma(s) = log(1 + e^-s) = np.logaddexp(0, -s).

    DE: Summierter Negative-Sampling-Verlust von B Paaren und seine Gradienten; Formen wie
    oben. Gibt (Verlust als float, dL/dcenter, dL/dcontext, dL/dnegatives) zurück.
    """
    raise NotImplementedError("TODO: scores, loss with logaddexp, then the three gradients")


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping one occurrence of each word (counts: (V,) word counts).

    With t = sample * (total of counts): keep = (sqrt(c / t) + 1) * t / c, at most 1.
    sample = 0 switches subsampling off (every word kept). A count of 0 may give inf
    before capping; the cap makes it 1.

    DE: Wahrscheinlichkeit, ein Vorkommen jedes Wortes zu behalten; t = sample * Summe der
    Zählungen, keep = (sqrt(c / t) + 1) * t / c, höchstens 1; sample = 0 heißt: alles behalten.
    """
    raise NotImplementedError("TODO: the threshold t, the formula, the cap at 1")


def negative_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Noise distribution: counts ** power, normalised to sum to 1. Shape (V,).

    DE: Rauschverteilung: counts ** power, normiert auf Summe 1.
    """
    raise NotImplementedError("TODO: counts to the power, then normalise")
