"""Exercise `gpt`: choose the next token from a language model's logits.

Write three functions: the top-k filter, the top-p (nucleus) filter, and `sample_next`,
which turns a row of logits into one token id. `groundup check gpt` grades them.

Conventions:
- logits have the vocabulary in the last dimension: shape (..., V), e.g. (B, V).
- A filter returns a NEW tensor of the same shape in which every ruled-out token has the
  logit -inf (softmax then gives it probability exactly 0). Never change the input in place.

DE: Übung `gpt`: das nächste Token aus den Logits eines Sprachmodells wählen.
Schreiben Sie drei Funktionen: den Top-k-Filter, den Top-p-Filter (Nucleus) und
`sample_next`, das eine Zeile Logits in eine Token-ID verwandelt. `groundup check gpt` prüft sie.
Konventionen: Logits haben das Vokabular in der letzten Dimension, Form (..., V). Ein Filter
gibt einen NEUEN Tensor derselben Form zurück, in dem jedes ausgeschlossene Token den Logit
-inf hat. Ändern Sie die Eingabe nie in place.
"""

from __future__ import annotations

import torch
from torch import Tensor


def filter_top_k(logits: Tensor, k: int) -> Tensor:
    """Keep the k largest logits along the last dimension; set all others to -inf.

    logits: (..., V); returns (..., V). Ties: every logit equal to the k-th largest value is
    kept too (so more than k may survive), as Hugging Face's TopKLogitsWarper does. If k >= V,
    nothing is removed. Hint: torch.topk(logits, k, dim=-1).values[..., -1:] is the k-th value.

    DE: Die k größten Logits entlang der letzten Dimension behalten, alle anderen auf -inf
    setzen. Gleichstände mit dem k-t größten Wert bleiben alle erhalten. Ist k >= V, wird
    nichts entfernt.
    """
    raise NotImplementedError("TODO: filter_top_k")


def filter_top_p(logits: Tensor, p: float) -> Tensor:
    """Nucleus filter: keep the smallest set of most likely tokens whose probabilities add up
    to at least p; set all others to -inf.

    logits: (..., V); p in (0, 1]; returns (..., V). Probabilities are softmax(logits) over
    the last dimension. Sort the tokens from most to least likely and keep them until the
    running total reaches p: the token that carries the total across p is KEPT. The most
    likely token is always kept, however small p is; p = 1 keeps every token.

    DE: Nucleus-Filter: die kleinste Menge der wahrscheinlichsten Tokens behalten, deren
    Wahrscheinlichkeiten zusammen mindestens p ergeben; alle anderen auf -inf setzen. Das
    Token, mit dem die laufende Summe p erreicht, bleibt ERHALTEN. Das wahrscheinlichste
    Token bleibt immer erhalten; p = 1 behält alle Tokens.
    """
    raise NotImplementedError("TODO: filter_top_p")


def sample_next(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Pick one token id per row. logits: (B, V); returns a LongTensor of shape (B,).

    1. temperature <= 0: raise ValueError (with a message saying it must be > 0).
    2. greedy=True: return the argmax of each row (no randomness).
    3. Otherwise divide the logits by temperature (T < 1 sharpens the distribution, T > 1
       flattens it), then apply filter_top_k if top_k is given, then filter_top_p if top_p
       is given, take the softmax and draw one token per row. Pass `generator` to
       torch.multinomial so that a seeded generator gives the same draws every time.

    DE: Eine Token-ID pro Zeile wählen. Bei temperature <= 0 einen ValueError auslösen.
    Bei greedy=True das Argmax jeder Zeile zurückgeben. Sonst die Logits durch die Temperatur
    teilen, dann filter_top_k (falls top_k gesetzt) und filter_top_p (falls top_p gesetzt)
    anwenden, Softmax bilden und pro Zeile ein Token ziehen; `generator` an
    torch.multinomial weitergeben, damit die Ziehung reproduzierbar ist.
    """
    raise NotImplementedError("TODO: sample_next")
