"""Exercise `positional_encodings`: three ways to tell attention where a token sits.

Write four functions:

- sinusoidal_table(length, dim): the fixed sine/cosine table of "Attention Is All You Need"
- apply_rope(x, positions): rotary position embedding in the "rotate half" layout of
  Hugging Face's Llama and GPT-NeoX code
- alibi_slopes(num_heads) and alibi_bias(num_heads, length): the linear biases of ALiBi with
  the head slopes of the paper (and of BLOOM)

`groundup check positional-encodings` compares them with groundup.nn.positions (which its
tests compare with transformers' Llama, GPT-NeoX and BLOOM code) on random inputs, and checks
the properties that make each scheme work: RoPE keeps lengths and its scores depend only on
the offset between two positions. Use torch operations only (no numpy), so gradients flow.

DE: Übung `positional_encodings`: drei Wege, der Attention zu sagen, wo ein Token steht.
Schreiben Sie vier Funktionen: sinusoidal_table (die feste Sinus/Kosinus-Tabelle aus
"Attention Is All You Need"), apply_rope (Rotary Position Embedding im "rotate half"-Layout
von Llama und GPT-NeoX in Hugging Face) sowie alibi_slopes und alibi_bias (die linearen
Biases von ALiBi mit den Steigungen aus dem Paper und aus BLOOM). `groundup check
positional-encodings` vergleicht sie auf Zufallseingaben mit groundup.nn.positions und prüft
die Eigenschaften, auf denen jedes Verfahren beruht: RoPE erhält Längen, und seine Scores
hängen nur vom Abstand zweier Positionen ab. Verwenden Sie nur torch-Operationen (kein
numpy), damit Gradienten fließen.
"""

from __future__ import annotations

import math  # noqa: F401 - imported for you: math.log2, math.floor

import torch  # noqa: F401 - imported for you: torch.arange, torch.sin, torch.cat, ...
from torch import Tensor


def sinusoidal_table(length: int, dim: int, base: float = 10000.0) -> Tensor:
    """The (length, dim) table for positions 0 .. length-1; dim is even.

        PE[pos, 2i]     = sin(pos / base^(2i / dim))
        PE[pos, 2i + 1] = cos(pos / base^(2i / dim))

    Sines in the even columns, cosines in the odd ones, pair i sharing one frequency.
    Row 0 is therefore 0, 1, 0, 1, ...

    DE: Die Tabelle (length, dim) für die Positionen 0 .. length-1; dim ist gerade.
    PE[pos, 2i] = sin(pos / base^(2i/dim)), PE[pos, 2i+1] = cos(pos / base^(2i/dim)):
    Sinus in den geraden Spalten, Kosinus in den ungeraden, Paar i mit einer gemeinsamen
    Frequenz. Zeile 0 ist daher 0, 1, 0, 1, ...
    """
    # 1. positions (length, 1) and frequencies base^(-2i/dim) for i = 0 .. dim/2 - 1
    # 2. angles = positions * frequencies, shape (length, dim/2)
    # 3. put sin(angles) in the even columns and cos(angles) in the odd columns
    raise NotImplementedError("TODO: sinusoidal_table")


def apply_rope(x: Tensor, positions: Tensor, theta: float = 10000.0) -> Tensor:
    """Rotate queries or keys x (..., T, d) by their positions (T,); d is even.

    Rotate-half layout (Hugging Face Llama, GPT-NeoX): feature pair i is (x[i], x[i + d/2]),
    for i = 0 .. d/2 - 1, and it turns by the angle a = position * theta^(-2i/d):

        (u, v) -> (u cos a - v sin a,  u sin a + v cos a)

    Written without pairs: x * cos + rotate_half(x) * sin, where rotate_half maps the two
    halves (x1, x2) of the last axis to (-x2, x1) and cos, sin repeat the d/2 angles twice.
    Returns a tensor of x's shape and dtype; gradients must flow back to x.

    DE: Dreht Queries oder Keys x (..., T, d) um ihre Positionen (T,); d ist gerade.
    Rotate-half-Layout (Llama, GPT-NeoX in Hugging Face): Merkmalspaar i ist
    (x[i], x[i + d/2]) und dreht sich um den Winkel a = position * theta^(-2i/d):
    (u, v) -> (u cos a - v sin a, u sin a + v cos a). Ohne Paare geschrieben:
    x * cos + rotate_half(x) * sin, wobei rotate_half die Hälften (x1, x2) der letzten Achse
    auf (-x2, x1) abbildet und cos, sin die d/2 Winkel zweimal hintereinander enthalten.
    Rückgabe mit Form und dtype von x; Gradienten müssen zu x zurückfließen.
    """
    # 1. inverse frequencies theta^(-2i/d), i = 0 .. d/2 - 1, and angles (T, d/2)
    # 2. repeat the angles for both halves: (T, d)
    # 3. return x * cos + rotate_half(x) * sin
    raise NotImplementedError("TODO: apply_rope")


def alibi_slopes(num_heads: int) -> Tensor:
    """(num_heads,) slopes m_1 .. m_n of ALiBi (Press et al., section 3, and BLOOM).

    n a power of two: m_h = 2^(-8h/n) for h = 1 .. n (8 heads: 1/2, 1/4, ..., 1/256).
    Otherwise, with p the largest power of two below n: the p slopes for p heads, followed by
    the slopes at h = 1, 3, 5, ... of the 2p-head sequence, as many as are still missing.

    DE: (num_heads,) Steigungen m_1 .. m_n von ALiBi (Press et al., Abschnitt 3, und BLOOM).
    Ist n eine Zweierpotenz: m_h = 2^(-8h/n) für h = 1 .. n (8 Köpfe: 1/2, 1/4, ..., 1/256).
    Sonst, mit p der größten Zweierpotenz unter n: die p Steigungen für p Köpfe, danach die
    Steigungen bei h = 1, 3, 5, ... der Folge für 2p Köpfe, so viele wie noch fehlen.
    """
    raise NotImplementedError("TODO: alibi_slopes")


def alibi_bias(num_heads: int, length: int) -> Tensor:
    """(num_heads, length, length) bias added to the attention scores of head h:

        bias[h, i, j] = -m_h * (i - j)     for query i and key j

    0 on the diagonal, more negative the further key j lies in the past. (Entries with
    j > i are hidden by the causal mask; the checks only read j <= i.)

    DE: (num_heads, length, length) Bias, der zu den Attention-Scores von Kopf h addiert
    wird: bias[h, i, j] = -m_h * (i - j) für Query i und Key j. Auf der Diagonale 0, umso
    negativer, je weiter Key j in der Vergangenheit liegt. (Einträge mit j > i verdeckt die
    kausale Maske; die Checks lesen nur j <= i.)
    """
    raise NotImplementedError("TODO: alibi_bias")
