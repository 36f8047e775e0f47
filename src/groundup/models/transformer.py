"""The Transformer encoder-decoder of Vaswani et al. 2017, "Attention Is All You Need".

    encoder layer:  x -> x + SelfAttn(x)            -> x + FFN(x)
    decoder layer:  y -> y + CausalSelfAttn(y)      -> y + CrossAttn(y, memory) -> y + FFN(y)

Every sublayer sits in a residual connection with a LayerNorm. The paper normalises after the
sum ("post-LN": x = LN(x + f(x))); most later models normalise the sublayer's input instead
("pre-LN": x = x + f(LN(x))), which keeps an untouched identity path from the loss to the
embeddings and trains without a careful warm-up (Xiong et al. 2020). `norm_first` picks one.

Module and parameter names follow torch.nn.Transformer (self_attn, multihead_attn, linear1,
linear2, norm1..3, encoder.norm, decoder.norm), so `load_torch_state` copies its weights; the
only difference is that our attention keeps W^Q, W^K, W^V as three Linear layers where torch
stacks them into one in_proj_weight. Like torch, the encoder and decoder stacks end with one
more LayerNorm of their own.

Masks are boolean with True = "may attend" (the convention of groundup.nn.attention);
torch.nn.Transformer's masks use True = "blocked".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.nn.attention import MultiHeadAttention, causal_mask
from groundup.nn.normalization import LayerNorm

ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}

# ---------------------------------------------------------------- positions


def sinusoidal_positions(max_len: int, d_model: int) -> Tensor:
    """(max_len, d_model) table of section 3.5:

    PE[pos, 2i] = sin(pos / 10000^(2i/d)),  PE[pos, 2i+1] = cos(pos / 10000^(2i/d)).

    Each pair of columns is a clock with its own wavelength (2 pi up to 10000 * 2 pi), so every
    position gets a distinct pattern, and PE[pos + k] is a fixed rotation of PE[pos].
    """
    position = torch.arange(max_len, dtype=torch.float64)[:, None]
    rate = torch.exp(
        -math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float64) / d_model
    )
    table = torch.zeros(max_len, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: d_model // 2])  # odd d_model: one cos fewer
    return table.float()


# ---------------------------------------------------------------- masks


def key_mask(is_real: Tensor) -> Tensor:
    """(B, T) bool, True = a real token, to a mask (B, 1, T) that broadcasts over the queries."""
    return is_real[:, None, :]


def decoder_self_mask(tgt_is_real: Tensor | None, T: int, device: torch.device) -> Tensor:
    """The decoder's self-attention mask: no peeking at later positions, nor at padding."""
    mask = causal_mask(T, device=device)  # (T, T)
    return mask if tgt_is_real is None else mask & key_mask(tgt_is_real)  # (B, T, T)


# ---------------------------------------------------------------- layers


class FeedForward(nn.Module):
    """FFN(x) = W2 act(W1 x + b1) + b2, the same small MLP at every position (eq. 2)."""

    def __init__(self, d_model: int, dim_feedforward: int, dropout: float, activation: str):
        super().__init__()
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.activation = ACTIVATIONS[activation]

    def forward(self, x: Tensor) -> Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class EncoderLayer(nn.Module):
    """Self-attention over the source, then the FFN; each in a residual with LayerNorm."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        norm_first: bool = False,
    ) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout=dropout)
        self.ffn = FeedForward(d_model, dim_feedforward, dropout, activation)
        self.norm1, self.norm2 = LayerNorm(d_model), LayerNorm(d_model)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """x (B, S, E); mask bool broadcastable to (B, S, S), True = may attend."""
        if self.norm_first:  # pre-LN: x + f(LN(x))
            x = x + self._self_attention(self.norm1(x), mask)
            return x + self.dropout2(self.ffn(self.norm2(x)))
        x = self.norm1(x + self._self_attention(x, mask))  # post-LN: LN(x + f(x))
        return self.norm2(x + self.dropout2(self.ffn(x)))

    def _self_attention(self, x: Tensor, mask: Tensor | None) -> Tensor:
        return self.dropout1(self.self_attn(x, x, x, mask=mask)[0])


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention to the encoder's memory, then the FFN."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        norm_first: bool = False,
    ) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout=dropout)
        self.multihead_attn = MultiHeadAttention(d_model, nhead, dropout=dropout)
        self.ffn = FeedForward(d_model, dim_feedforward, dropout, activation)
        self.norm1, self.norm2, self.norm3 = (LayerNorm(d_model) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))
        self.norm_first = norm_first
        self.cross_weights: Tensor | None = None  # (B, h, T, S) of the last call, if recorded
        self.record_weights = False

    def forward(
        self,
        y: Tensor,
        memory: Tensor,
        self_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
    ) -> Tensor:
        """y (B, T, E), memory (B, S, E): the encoder's output.

        self_mask: broadcastable to (B, T, T), normally causal & target padding;
        memory_mask: broadcastable to (B, T, S), normally the source padding. True = may attend.
        """
        if self.norm_first:
            y = y + self._self_attention(self.norm1(y), self_mask)
            y = y + self._cross_attention(self.norm2(y), memory, memory_mask)
            return y + self.dropout3(self.ffn(self.norm3(y)))
        y = self.norm1(y + self._self_attention(y, self_mask))
        y = self.norm2(y + self._cross_attention(y, memory, memory_mask))
        return self.norm3(y + self.dropout3(self.ffn(y)))

    def _self_attention(self, y: Tensor, mask: Tensor | None) -> Tensor:
        return self.dropout1(self.self_attn(y, y, y, mask=mask)[0])

    def _cross_attention(self, y: Tensor, memory: Tensor, mask: Tensor | None) -> Tensor:
        # Queries come from the decoder, keys and values from the encoder: each target
        # position looks up the source positions it needs.
        out, weights = self.multihead_attn(
            y, memory, memory, mask=mask, need_weights=self.record_weights, average_weights=False
        )
        self.cross_weights = weights
        return self.dropout2(out)


# ---------------------------------------------------------------- stacks


class Encoder(nn.Module):
    def __init__(self, num_layers: int, norm_first: bool, d_model: int, **layer_args) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, norm_first=norm_first, **layer_args) for _ in range(num_layers)
        )
        self.norm = LayerNorm(d_model)  # torch.nn.Transformer's extra final LayerNorm

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x)


class Decoder(nn.Module):
    def __init__(self, num_layers: int, norm_first: bool, d_model: int, **layer_args) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            DecoderLayer(d_model, norm_first=norm_first, **layer_args) for _ in range(num_layers)
        )
        self.norm = LayerNorm(d_model)

    def forward(
        self,
        y: Tensor,
        memory: Tensor,
        self_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
    ) -> Tensor:
        for layer in self.layers:
            y = layer(y, memory, self_mask, memory_mask)
        return self.norm(y)


class Transformer(nn.Module):
    """Encoder and decoder stacks on embedded inputs; torch.nn.Transformer's batch_first=True."""

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        norm_first: bool = False,
    ) -> None:
        super().__init__()
        args = dict(
            nhead=nhead, dim_feedforward=dim_feedforward, dropout=dropout, activation=activation
        )
        self.encoder = Encoder(num_encoder_layers, norm_first, d_model, **args)
        self.decoder = Decoder(num_decoder_layers, norm_first, d_model, **args)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
    ) -> Tensor:
        """src (B, S, E), tgt (B, T, E) -> (B, T, E). Masks: True = may attend."""
        memory = self.encoder(src, src_mask)
        return self.decoder(tgt, memory, tgt_mask, memory_mask)


# ---------------------------------------------------------------- weights from torch


def from_torch_state(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Rename a torch.nn.Transformer(-Layer) state dict (or a dict of gradients) to ours.

    torch stacks W^Q, W^K, W^V row-wise into `in_proj_weight` (3E, E); we split it into
    q_proj, k_proj, v_proj. The feed-forward layers live one level down, in `ffn`.
    """
    ours: dict[str, Tensor] = {}
    for name, value in state.items():
        prefix, _, leaf = name.rpartition(".")
        if leaf in ("in_proj_weight", "in_proj_bias"):
            kind = "weight" if leaf == "in_proj_weight" else "bias"
            for proj, part in zip(("q_proj", "k_proj", "v_proj"), value.chunk(3), strict=True):
                ours[f"{prefix}.{proj}.{kind}"] = part
        elif prefix.endswith("linear1") or prefix.endswith("linear2"):
            head, _, linear = prefix.rpartition(".")
            ours[f"{head}.ffn.{linear}.{leaf}".lstrip(".")] = value
        else:
            ours[name] = value
    return ours


def load_torch_state(module: nn.Module, torch_module: nn.Module) -> nn.Module:
    """Copy every weight of a torch.nn.Transformer / EncoderLayer / DecoderLayer into ours."""
    module.load_state_dict(from_torch_state(torch_module.state_dict()), strict=True)
    return module


# ---------------------------------------------------------------- a sequence-to-sequence model


class Seq2SeqTransformer(nn.Module):
    """Token ids in, next-token logits out: embeddings, positions, Transformer, read-out.

    Token id `pad_id` marks padding in both source and target; the target starts with a
    begin-of-sequence token and the model predicts the target shifted by one.
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        d_model: int = 128,
        nhead: int = 4,
        num_encoder_layers: int = 2,
        num_decoder_layers: int = 2,
        dim_feedforward: int = 256,
        dropout: float = 0.1,
        norm_first: bool = True,
        max_len: int = 128,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.d_model, self.pad_id = d_model, pad_id
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.register_buffer("positions", sinusoidal_positions(max_len, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        self.transformer = Transformer(
            d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout,
            norm_first=norm_first,
        )  # fmt: skip
        self.generator = nn.Linear(d_model, tgt_vocab)

    def embed(self, tokens: Tensor, table: nn.Embedding) -> Tensor:
        # Section 3.4: embeddings are scaled by sqrt(d_model) so the positions do not drown them.
        x = table(tokens) * math.sqrt(self.d_model) + self.positions[: tokens.size(1)]
        return self.dropout(x)

    def encode(self, src: Tensor) -> tuple[Tensor, Tensor]:
        """src (B, S) ids -> memory (B, S, E) and the memory mask (B, 1, S)."""
        src_mask = key_mask(src != self.pad_id)
        return self.transformer.encoder(self.embed(src, self.src_embed), src_mask), src_mask

    def decode(self, tgt: Tensor, memory: Tensor, memory_mask: Tensor) -> Tensor:
        """tgt (B, T) ids (BOS first) -> logits (B, T, tgt_vocab) for the next token."""
        self_mask = decoder_self_mask(tgt != self.pad_id, tgt.size(1), tgt.device)
        y = self.transformer.decoder(
            self.embed(tgt, self.tgt_embed), memory, self_mask, memory_mask
        )
        return self.generator(y)

    def forward(self, src: Tensor, tgt: Tensor) -> Tensor:
        memory, memory_mask = self.encode(src)
        return self.decode(tgt, memory, memory_mask)

    @torch.no_grad()
    def greedy_decode(self, src: Tensor, bos_id: int, eos_id: int, max_len: int) -> Tensor:
        """Write the target one token at a time, always taking the most likely one.

        Returns (B, <= max_len) ids without the BOS; after EOS a row is filled with pad_id.
        """
        memory, memory_mask = self.encode(src)
        tgt = torch.full((src.size(0), 1), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            next_token = self.decode(tgt, memory, memory_mask)[:, -1].argmax(-1)
            next_token = next_token.masked_fill(done, self.pad_id)
            tgt = torch.cat([tgt, next_token[:, None]], dim=1)
            done |= next_token == eos_id
            if done.all():
                break
        return tgt[:, 1:]

    def step_function(self, src: Tensor, copies: int = 1) -> Callable[[Tensor], Tensor]:
        """The `step` that groundup.models.decoding's greedy_search and beam_search call.

        The source is encoded once; each call maps the target tokens so far, (B * copies, T)
        with BOS first, to the logits of the next token, (B * copies, tgt_vocab). Rows
        b * copies .. b * copies + copies - 1 belong to source b: beam search keeps its
        `num_beams` hypotheses of one sentence next to each other, so pass copies=num_beams.
        """
        memory, memory_mask = self.encode(src)
        memory = memory.repeat_interleave(copies, dim=0)
        memory_mask = memory_mask.repeat_interleave(copies, dim=0)

        def step(tokens: Tensor) -> Tensor:
            if tokens.size(0) != memory.size(0):
                raise ValueError(
                    f"expected {memory.size(0)} rows (sources x copies), got {tokens.size(0)}"
                )
            return self.decode(tokens, memory, memory_mask)[:, -1]

        return step

    def record_cross_attention(self, on: bool = True) -> None:
        for layer in self.transformer.decoder.layers:
            layer.record_weights = on

    def cross_attention(self) -> list[Tensor]:
        """Each decoder layer's cross-attention weights (B, h, T, S) from the last call."""
        return [layer.cross_weights for layer in self.transformer.decoder.layers]


# ---------------------------------------------------------------- the paper's learning rate


def inverse_sqrt_lr(step: int, d_model: int, warmup: int, factor: float = 1.0) -> float:
    """Section 5.3: lr = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), step >= 1.

    It rises linearly for `warmup` steps, peaks at step = warmup, then decays as 1/sqrt(step).
    """
    step = max(step, 1)
    return factor * d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)
