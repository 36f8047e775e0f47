"""Exercise electra: the core of replaced-token detection.

1. corrupt: fill the masked positions with tokens *sampled* from the generator's predictions
   and label every real token: 1.0 if it now differs from the original, 0.0 if not.
2. discriminator_loss: binary cross-entropy of the discriminator's logits, averaged over the
   real (non-padding) tokens.
3. electra_loss: the generator's MLM loss plus discriminator_weight times the detection loss.

Run `groundup check electra` to compare your functions with groundup.models.electra.

DE: Übung electra: der Kern der Erkennung ersetzter Tokens. (1) corrupt: die maskierten
Stellen mit Tokens füllen, die aus den Vorhersagen des Generators *gezogen* werden, und jedes
echte Token markieren: 1.0, wenn es jetzt vom Original abweicht, sonst 0.0.
(2) discriminator_loss: binäre Kreuzentropie der Logits des Diskriminators, gemittelt über
die echten Tokens (ohne Padding). (3) electra_loss: der MLM-Verlust des Generators plus
discriminator_weight mal der Erkennungsverlust. `groundup check electra` vergleicht Ihre
Funktionen mit groundup.models.electra.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: F401  (you will want it)
from torch import Tensor

IGNORE = -100  # the label of a position that was not masked


def corrupt(
    masked_ids: Tensor,
    labels: Tensor,
    attention_mask: Tensor,
    generator_logits: Tensor,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """(corrupted_ids (B, T) long, is_replaced (B, T) float) from a masked batch.

    masked_ids, labels (B, T) as BERT's masking makes them: labels hold the original id at
    the masked positions and -100 elsewhere; attention_mask (B, T) is 1 for real tokens and
    0 for padding; generator_logits (B, T, vocab) are the generator's scores.

    - At the masked positions (labels != -100) draw a token from softmax(generator_logits):
      take those rows in row-major order, shape (N, vocab), and make ONE call
      torch.multinomial(probabilities, 1, generator=generator). Sample, do not take the
      argmax. Every other position keeps its id from masked_ids. Do not change the inputs.
    - No gradient may flow through the draw: the generator learns from its MLM loss only.
    - is_replaced is 1.0 where a real token differs from the original text (the label where
      masked, masked_ids elsewhere) and 0.0 everywhere else, padding included. A draw that
      happens to give the original token back counts as original.

    DE: (corrupted_ids, is_replaced) aus einem maskierten Batch. An den maskierten Stellen
    (labels != -100) ein Token aus softmax(generator_logits) ziehen: diese Zeilen in
    Zeilen-Reihenfolge, Form (N, vocab), und EIN Aufruf torch.multinomial(probabilities, 1,
    generator=generator). Ziehen, nicht argmax. Alle anderen Stellen behalten ihre ID aus
    masked_ids; die Eingaben bleiben unverändert. Kein Gradient durch das Ziehen.
    is_replaced ist 1.0, wo ein echtes Token vom Originaltext abweicht (das Label an
    maskierten Stellen, sonst masked_ids), sonst 0.0, auch beim Padding. Zieht der Generator
    zufällig das Original, gilt das Token als original.
    """
    raise NotImplementedError("TODO: sample at the masked positions, then label what differs")


def discriminator_loss(logits: Tensor, is_replaced: Tensor, attention_mask: Tensor) -> Tensor:
    """Scalar: binary cross-entropy between logits (B, T) (> 0 means "replaced") and
    is_replaced (B, T), averaged over the real tokens (attention_mask == 1) only.

    DE: Skalar: binäre Kreuzentropie zwischen logits (B, T) (> 0 heißt "ersetzt") und
    is_replaced (B, T), gemittelt nur über die echten Tokens (attention_mask == 1).
    """
    raise NotImplementedError("TODO: BCE over the real tokens")


def electra_loss(
    generator_logits: Tensor,
    labels: Tensor,
    discriminator_logits: Tensor,
    is_replaced: Tensor,
    attention_mask: Tensor,
    discriminator_weight: float = 50.0,
) -> Tensor:
    """Scalar: MLM loss + discriminator_weight * discriminator_loss.

    The MLM loss is the cross-entropy of generator_logits (B, T, vocab) against labels
    (B, T), averaged over the masked positions (labels != -100) only.

    DE: Skalar: MLM-Verlust + discriminator_weight * discriminator_loss. Der MLM-Verlust ist
    die Kreuzentropie von generator_logits (B, T, vocab) gegen labels (B, T), gemittelt nur
    über die maskierten Stellen (labels != -100).
    """
    raise NotImplementedError("TODO: the weighted sum of the two losses")
