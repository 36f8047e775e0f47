"""Exercise `seq2seq-attention`: the attention of a recurrent encoder-decoder.

Write four functions:

    additive_scores(query, keys, w_query, w_key, v) -> scores     Bahdanau et al. 2015
    dot_scores(query, keys) -> scores                             Luong et al. 2015
    general_scores(query, keys, w) -> scores                      Luong et al. 2015
    attend(scores, keys, mask) -> (context, weights)              masked softmax, weighted sum

`groundup check seq2seq-attention` compares them with groundup.models.seq2seq.Attention
given the same weights, on random float64 inputs: values, gradients, padding masks, and
scores large enough to overflow a careless softmax. Use tensor operations only (@, tanh,
masked_fill, ...); do not call groundup's Attention yourself.

DE: Übung `seq2seq-attention`: die Attention eines rekurrenten Encoder-Decoders. Schreiben
Sie vier Funktionen: den additiven Score nach Bahdanau, den dot- und den general-Score nach
Luong sowie attend, die maskierte Softmax mit gewichteter Summe. `groundup check
seq2seq-attention` vergleicht sie bei gleichen Gewichten mit
groundup.models.seq2seq.Attention, auf zufälligen float64-Eingaben: Werte, Gradienten,
Padding-Masken und Scores, die groß genug sind, um eine unvorsichtige Softmax überlaufen zu
lassen. Nur Tensor-Operationen (@, tanh, masked_fill, ...); rufen Sie groundups Attention
nicht selbst auf.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.tanh, torch.softmax, ...
from torch import Tensor


def additive_scores(
    query: Tensor, keys: Tensor, w_query: Tensor, w_key: Tensor, v: Tensor
) -> Tensor:
    """Bahdanau's additive score for every (query, key) pair: v . tanh(W_q q + W_k k).

    query (B, T, Q): decoder states, one per target step
    keys (B, S, K): encoder annotations, one per source position
    w_query (A, Q), w_key (A, K), v (A,): the weights (no biases), A = attention size
    Returns scores (B, T, S) with scores[b, t, s] = v . tanh(w_query @ q_bt + w_key @ k_bs).
    Tip: project the queries and the keys separately, then broadcast their sum to (B, T, S, A).

    DE: Additiver Score nach Bahdanau für jedes Paar (Query, Key): v . tanh(W_q q + W_k k).
    Rückgabe (B, T, S). Tipp: Queries und Keys getrennt projizieren, dann ihre Summe auf
    (B, T, S, A) broadcasten.
    """
    raise NotImplementedError("TODO: additive_scores")


def dot_scores(query: Tensor, keys: Tensor) -> Tensor:
    """Luong's dot score q . k for every pair: query (B, T, D), keys (B, S, D) -> (B, T, S).
    Unscaled: the Transformer divides by sqrt(D), Luong does not.

    DE: Luongs dot-Score q . k für jedes Paar, (B, T, D) und (B, S, D) -> (B, T, S). Ohne
    Skalierung: der Transformer teilt durch sqrt(D), Luong nicht.
    """
    raise NotImplementedError("TODO: dot_scores")


def general_scores(query: Tensor, keys: Tensor, w: Tensor) -> Tensor:
    """Luong's general score q . (W k): query (B, T, Q), keys (B, S, K), w (Q, K) -> (B, T, S).

    DE: Luongs general-Score q . (W k): query (B, T, Q), keys (B, S, K), w (Q, K) -> (B, T, S).
    """
    raise NotImplementedError("TODO: general_scores")


def attend(scores: Tensor, keys: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Weights by a softmax over the source axis, context as the weighted sum of the keys.

    scores (B, T, S), keys (B, S, K) (the annotations are also the values),
    mask (B, S) bool with True at real source positions and False at padding, or None.
    Padded positions must get a weight of exactly 0, every row of weights sums to 1, and
    the result must stay finite for scores in the thousands.
    Returns (context (B, T, K), weights (B, T, S)).

    DE: Gewichte per Softmax über die Quellachse, Kontext als gewichtete Summe der Keys.
    mask (B, S) bool: True an echten Quellpositionen, False am Padding, oder None. Padding
    bekommt das Gewicht exakt 0, jede Zeile der Gewichte summiert sich zu 1, und das
    Ergebnis bleibt endlich, auch bei Scores in den Tausendern.
    Rückgabe (context (B, T, K), weights (B, T, S)).
    """
    raise NotImplementedError("TODO: attend")
