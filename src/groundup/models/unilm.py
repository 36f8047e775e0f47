"""UniLM (Dong et al. 2019): one Transformer encoder, three language models, chosen by the mask.

The input is one packed sequence  [SOS] S1 [EOS] S2 [EOS] [PAD]...  with segment ids 0 for
[SOS] S1 [EOS] and 1 for S2 [EOS]. The weights are the same for every objective; only which
positions a token may attend to changes (True = visible):

    bidirectional     every token sees every real token             (BERT's MLM)
    left-to-right     token i sees the real tokens j <= i            (GPT's causal LM)
    seq2seq           an S1 token sees all of S1; an S2 token sees all of S1 and the S2
                      tokens up to itself                            (encoder-decoder in one)

Padding is never visible. A padding row itself sees the real tokens, so that no row is
empty (an all-masked softmax is NaN); what it computes is ignored anyway.

The masks are (B, T, T) booleans, query by key; `encode` runs a groundup.models.bert encoder
under such a mask (Bert.forward only takes a padding mask).
"""

from __future__ import annotations

import torch
from torch import Tensor

from groundup.models.bert import Bert

MODES = ("bidirectional", "left-to-right", "seq2seq")


def segment_layout(
    first_lengths: list[int], second_lengths: list[int], T: int
) -> tuple[Tensor, Tensor]:
    """token_type_ids and attention_mask (B, T) for rows [SOS] S1 [EOS] S2 [EOS] [PAD]...
    where S1 and S2 have the given numbers of tokens (without the special ones)."""
    B = len(first_lengths)
    token_type_ids = torch.zeros(B, T, dtype=torch.long)
    attention_mask = torch.zeros(B, T, dtype=torch.long)
    for row, (n1, n2) in enumerate(zip(first_lengths, second_lengths, strict=True)):
        first_end, total = n1 + 2, n1 + n2 + 3  # [SOS] S1 [EOS] | S2 [EOS]
        if total > T:
            raise ValueError(f"row {row} needs {total} positions, only {T} given")
        token_type_ids[row, first_end:total] = 1
        attention_mask[row, :total] = 1
    return token_type_ids, attention_mask


def attention_masks(token_type_ids: Tensor, attention_mask: Tensor, mode: str) -> Tensor:
    """(B, T) segment ids and padding mask (1 = real) -> (B, T, T) bool, [query, key]."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    T = token_type_ids.shape[1]
    real_key = attention_mask.bool()[:, None, :]  # (B, 1, T)
    # earlier[i, j]: key j is not after query i
    earlier = torch.ones(T, T, dtype=torch.bool, device=token_type_ids.device).tril()
    if mode == "bidirectional":
        visible = real_key.expand(-1, T, -1)
    elif mode == "left-to-right":
        visible = real_key & earlier
    else:
        source_key = (token_type_ids == 0)[:, None, :]  # S1 is visible to everyone ...
        target_query = (token_type_ids == 1)[:, :, None]  # ... S2 only to S2, leftwards
        visible = real_key & (source_key | (target_query & earlier))
    padding_query = ~attention_mask.bool()[:, :, None]
    return torch.where(padding_query, real_key, visible)


def encode(
    bert: Bert,
    input_ids: Tensor,
    token_type_ids: Tensor,
    mask: Tensor,
    position_ids: Tensor | None = None,
) -> Tensor:
    """The encoder's last hidden states (B, T, H) under a (B, T, T) bool mask (True = may
    attend), built from Bert's own embeddings and layers."""
    B, T = input_ids.shape
    if position_ids is None:
        position_ids = torch.arange(T, device=input_ids.device).expand(B, T)
    x = bert.embeddings(input_ids, token_type_ids, position_ids)
    if bert.embedding_projection is not None:
        x = bert.embedding_projection(x)
    heads_mask = mask[:, None]  # (B, 1, T, T): the same mask for every head
    for i in range(bert.config.num_hidden_layers):
        x = bert.layers[i % len(bert.layers)](x, heads_mask)
    return x
