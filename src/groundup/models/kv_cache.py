"""A key-value cache for decoder-only models, and the mask and positions that go with it.

Generating token t+1 needs the keys and values of tokens 0..t in every layer. Without a cache
the model recomputes all of them at every step (quadratic work); with one it computes them
once and appends: each step then feeds only the newest token.

The contract every cached model here follows (GPT and Llama):

    logits, loss = model(idx, targets=None, attention_mask=None, cache=None)

- `idx` (B, T) holds only the tokens not yet in the cache.
- `attention_mask` (B, past + T), 1 for a real token and 0 for padding, covers the cached
  tokens and the new ones. Batched prompts are padded on the left, so every row's next token
  sits in the last column.
- `cache` collects each layer's keys and values of shape (B, heads, tokens, head_size).
- Optionally, `last_only=True` returns the logits of the last position only, (B, 1, V);
  generation.generate passes it to models whose forward has that keyword.

With left padding a row's first real token is not at column 0, so positions come from the
mask (as in Hugging Face's generate): position = number of real tokens before it.
"""

from __future__ import annotations

import torch
from torch import Tensor


class KVCache:
    """Per-layer keys and values of the tokens seen so far.

    Each layer keeps its keys and values in a buffer with room to spare, so appending a
    token copies only that token (torch.cat would copy the whole history at every step);
    a full buffer is replaced by one twice the size. `keys[layer]` and `values[layer]` are
    views of the filled part, shape (B, heads, tokens, head_size).
    """

    def __init__(self) -> None:
        self.keys: list[Tensor] = []
        self.values: list[Tensor] = []
        self._key_buffers: list[Tensor] = []
        self._value_buffers: list[Tensor] = []

    def __len__(self) -> int:
        """Number of cached positions (0 before the first forward)."""
        return self.keys[0].shape[-2] if self.keys else 0

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append the new keys and values of `layer`; return all of them, old and new.

        Layers are called in order 0, 1, ... within one forward; the first forward creates
        the entries."""
        if layer > len(self.keys):
            raise IndexError(f"layer {layer} updated before layer {len(self.keys)}")
        if layer == len(self.keys):  # the first forward: empty buffers for this layer
            empty = k.new_empty(*k.shape[:-2], 0, k.shape[-1])
            self.keys.append(empty)
            self.values.append(empty)
            self._key_buffers.append(empty)
            self._value_buffers.append(empty)
        self.keys[layer], self._key_buffers[layer] = _append(
            self._key_buffers[layer], self.keys[layer].shape[-2], k
        )
        self.values[layer], self._value_buffers[layer] = _append(
            self._value_buffers[layer], self.values[layer].shape[-2], v
        )
        return self.keys[layer], self.values[layer]

    def reorder(self, rows: Tensor) -> None:
        """Keep the batch rows `rows` (in that order), e.g. the surviving beams."""
        n = len(self)
        self._key_buffers = [b.index_select(0, rows) for b in self._key_buffers]
        self._value_buffers = [b.index_select(0, rows) for b in self._value_buffers]
        self.keys = [b[..., :n, :] for b in self._key_buffers]
        self.values = [b[..., :n, :] for b in self._value_buffers]


def _append(buffer: Tensor, filled: int, new: Tensor) -> tuple[Tensor, Tensor]:
    """Write `new` after the first `filled` tokens of `buffer` (growing it if it is full);
    return the view of everything written so far and the buffer."""
    total = filled + new.shape[-2]
    if total > buffer.shape[-2]:
        grown = new.new_empty(*new.shape[:-2], 2 * total, new.shape[-1])
        grown[..., :filled, :] = buffer[..., :filled, :]
        buffer = grown
    buffer[..., filled:total, :] = new
    return buffer[..., :total, :], buffer


def positions(attention_mask: Tensor | None, past: int, new: int, device: torch.device) -> Tensor:
    """Position ids (B or 1, new) of the `new` tokens that follow `past` cached ones."""
    if attention_mask is None:
        return torch.arange(past, past + new, device=device)[None, :]
    position_ids = attention_mask.long().cumsum(-1) - 1
    return position_ids.clamp(min=0)[:, past : past + new]


def attention_bias(
    attention_mask: Tensor | None, past: int, new: int, device: torch.device
) -> Tensor | None:
    """Boolean mask (B or 1, 1, new, past + new) for scaled_dot_product_attention: True where
    query i (at absolute column past + i) may attend to key j. Keys in the future and padding
    keys are hidden. Returns None when plain causal attention (is_causal=True) suffices."""
    if attention_mask is None and past == 0:
        return None
    total = past + new
    query_columns = torch.arange(past, total, device=device)[:, None]
    key_columns = torch.arange(total, device=device)[None, :]
    causal = key_columns <= query_columns  # (new, total)
    allowed = causal[None, None]
    if attention_mask is not None:
        allowed = allowed & attention_mask.bool()[:, None, None, :]
        # A padding query sees no real key; let it see itself so softmax stays finite.
        itself = key_columns == query_columns
        allowed = allowed | itself[None, None]
    return allowed
