"""Exercise `transformer`: the decoder's masks and the forward pass of one decoder layer.

Write two functions:

    decoder_masks(tgt_is_real, src_is_real) -> (self_mask, memory_mask)
    decoder_layer(layer, y, memory, self_mask, memory_mask) -> output

`groundup check transformer` copies the weights of a torch.nn.TransformerDecoderLayer into
`layer` and compares your output and its gradients with torch's, for post-LN
(layer.norm_first False, as in the paper) and pre-LN (True). Use the submodules of `layer`;
do not call layer(...) or layer.forward yourself.

DE: Übung `transformer`: die Masken des Decoders und der Vorwärtsdurchlauf einer
Decoder-Schicht. Schreiben Sie decoder_masks und decoder_layer. `groundup check transformer`
übernimmt die Gewichte einer torch.nn.TransformerDecoderLayer in `layer` und vergleicht Ihre
Ausgabe und deren Gradienten mit torch, für Post-LN (layer.norm_first False, wie im Paper)
und Pre-LN (True). Benutzen Sie die Teilmodule von `layer`; rufen Sie layer(...) oder
layer.forward nicht selbst auf.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.ones, .tril, ...
from torch import Tensor

from groundup.models.transformer import DecoderLayer


def decoder_masks(tgt_is_real: Tensor, src_is_real: Tensor) -> tuple[Tensor, Tensor]:
    """The two masks a decoder layer needs. True means "may attend".

    tgt_is_real: (B, T) bool, True where the target holds a real token (False = padding).
    src_is_real: (B, S) bool, the same for the source.
    Returns
      self_mask (B, T, T): target position i may read target position j iff j <= i
                           (nothing from the future) and j is a real token;
      memory_mask (B, 1, S): every target position may read source position j iff it is real.

    DE: Die beiden Masken einer Decoder-Schicht, True heißt "darf lesen". self_mask (B, T, T):
    Position i darf Position j lesen genau dann, wenn j <= i und j ein echtes Token ist.
    memory_mask (B, 1, S): jede Zielposition darf die echten Quellpositionen lesen.
    """
    raise NotImplementedError("TODO: causal mask & target padding, and the source padding")


def decoder_layer(
    layer: DecoderLayer, y: Tensor, memory: Tensor, self_mask: Tensor, memory_mask: Tensor
) -> Tensor:
    """One decoder layer: y (B, T, E), memory (B, S, E) from the encoder -> (B, T, E).

    Submodules of `layer` you need (dropout is 0 in the checks, you may skip it):
      layer.self_attn(q, k, v, mask=...)[0]       multi-head attention (True = may attend)
      layer.multihead_attn(q, k, v, mask=...)[0]  cross-attention: queries from the decoder,
                                                  keys and values from `memory`
      layer.ffn(x)                                the position-wise feed-forward network
      layer.norm1, layer.norm2, layer.norm3       one LayerNorm per sublayer, in this order
      layer.norm_first                            False: post-LN  x = norm(x + f(x))
                                                  True:  pre-LN   x = x + f(norm(x))

    DE: Eine Decoder-Schicht. Reihenfolge: Self-Attention (mit self_mask), Cross-Attention
    auf `memory` (mit memory_mask), Feed-Forward; jede Teilschicht in einer Residualverbindung
    mit ihrer LayerNorm, Post-LN oder Pre-LN je nach layer.norm_first.
    """
    raise NotImplementedError("TODO: self-attention, cross-attention, feed-forward; residuals")
