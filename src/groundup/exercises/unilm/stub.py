"""Exercise unilm: one packed layout and the three self-attention masks of UniLM.

1. segment_layout: token_type_ids and attention_mask for rows [SOS] S1 [EOS] S2 [EOS] [PAD]...
2. attention_masks: the (B, T, T) boolean mask of one objective: "bidirectional",
   "left-to-right" or "seq2seq".

Run `groundup check unilm` to compare your functions with groundup.models.unilm and to run
the leak test: under your mask, changing a token a position may not see must leave that
position's output unchanged, and changing one it may see must change it.

DE: Übung unilm: ein gepacktes Layout und die drei Self-Attention-Masken von UniLM.
(1) segment_layout: token_type_ids und attention_mask für Zeilen [SOS] S1 [EOS] S2 [EOS]
[PAD]... (2) attention_masks: die boolesche (B, T, T)-Maske eines Trainingsziels:
"bidirectional", "left-to-right" oder "seq2seq". `groundup check unilm` vergleicht Ihre
Funktionen mit groundup.models.unilm und führt den Leck-Test aus: Ändert man unter Ihrer
Maske ein Token, das eine Position nicht sehen darf, bleibt ihre Ausgabe gleich; ändert man
eines, das sie sehen darf, ändert sie sich.
"""

from __future__ import annotations

import torch  # noqa: F401  (you will need it)
from torch import Tensor


def segment_layout(
    first_lengths: list[int], second_lengths: list[int], T: int
) -> tuple[Tensor, Tensor]:
    """(token_type_ids, attention_mask), both (B, T) torch.long, B = len(first_lengths).

    Row b holds [SOS] S1 [EOS] S2 [EOS] followed by padding, where S1 has
    first_lengths[b] tokens and S2 second_lengths[b] (special tokens not counted).
    token_type_ids: 0 for [SOS] S1 [EOS], 1 for S2 [EOS], 0 for padding.
    attention_mask: 1 for every real position (specials included), 0 for padding.
    Raise ValueError if a row needs more than T positions.
    Example: first 2, second 1, T 8 -> types [0,0,0,0,1,1,0,0], mask [1,1,1,1,1,1,0,0].

    DE: (token_type_ids, attention_mask), beide (B, T) torch.long. Zeile b enthält
    [SOS] S1 [EOS] S2 [EOS] und danach Padding; S1 hat first_lengths[b] Tokens, S2
    second_lengths[b] (ohne Sondertokens). token_type_ids: 0 für [SOS] S1 [EOS], 1 für
    S2 [EOS], 0 für Padding. attention_mask: 1 an jeder echten Position, 0 für Padding.
    ValueError, wenn eine Zeile mehr als T Positionen braucht.
    """
    raise NotImplementedError("TODO: one row at a time: S1 block, S2 block, padding")


def attention_masks(token_type_ids: Tensor, attention_mask: Tensor, mode: str) -> Tensor:
    """(B, T, T) torch.bool, indexed [row, query i, key j]; True = i may attend to j.

    For a real query i (attention_mask 1):
      "bidirectional": every real key j;
      "left-to-right": the real keys j <= i;
      "seq2seq":       a query in segment 0 sees the real keys of segment 0 ([SOS] S1 [EOS]);
                       a query in segment 1 sees segment 0 and the keys of segment 1 with
                       j <= i (itself included).
    A padding key is never visible. A padding query sees exactly the real keys (its output
    is ignored, but a row with nothing visible would make the softmax 0/0 = NaN).
    Raise ValueError for any other mode.

    DE: (B, T, T) torch.bool, Index [Zeile, Query i, Key j]; True = i darf auf j achten.
    Für eine echte Query i: "bidirectional": jeder echte Key; "left-to-right": die echten
    Keys j <= i; "seq2seq": eine Query in Segment 0 sieht die echten Keys von Segment 0,
    eine Query in Segment 1 sieht Segment 0 und die Keys von Segment 1 mit j <= i (sich
    selbst eingeschlossen). Padding-Keys sind nie sichtbar; eine Padding-Query sieht genau
    die echten Keys (sonst wäre die Zeile leer und die Softmax NaN). ValueError bei einem
    anderen mode.
    """
    raise NotImplementedError("TODO: real keys, a lower triangle, the segments")
