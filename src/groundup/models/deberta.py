"""DeBERTa-v2 (He et al. 2021): a BERT-style encoder whose attention keeps content and
position apart.

BERT adds a position vector to every word vector once, at the bottom, and lets attention
sort the mixture out. DeBERTa never adds positions to the tokens. Instead, every layer scores
a pair (query i, key j) with three dot products, each with its own projection:

    content -> content    q_i . k_j                      what i is looking for vs what j is
    content -> position   q_i . Kr[delta(i, j)]          what i is looking for vs where j is
    position -> content   k_j . Qr[delta(i, j)]          what j is vs where i sits from it

    score(i, j) = (sum of the terms) / sqrt(d * (1 + number of position terms))

delta(i, j) is the relative distance i - j, clipped to a window of `span` on either side
and turned into a row of a shared table of relative embeddings (2 * span rows). Kr and Qr
are that table pushed through the key and query projections (`share_att_key`, as in
DeBERTa-v3) or through extra ones (pos_key_proj, pos_query_proj). The larger denominator
keeps the sum of up to three dot products at the variance of one.

DeBERTa-v2 buckets long distances logarithmically: distances up to span/2 keep their own
row, larger ones share rows that grow wider with distance, up to max_relative_positions.

The enhanced mask decoder (EMD) brings absolute positions back, but only at the very end:
the MLM head reads the last layer run once more (twice, with shared weights) with queries
H + P, where H is the input of the last layer and P an absolute position table, while keys
and values stay H. Relative positions carry the whole encoder; "which slot of the sentence"
enters just before the words are predicted.

Parameter names follow transformers' DebertaV2 modules (query_proj, attention.self,
attention.output.LayerNorm, encoder.rel_embeddings, ...), so a state_dict copies by name
between `DebertaV2Model` here and `transformers.DebertaV2Model`, and
`DebertaV2Model.from_pretrained(folder)` reads a Hugging Face DeBERTa-v2/v3 folder.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.models.bert import ACTIVATIONS, BertConfig, read_state_dict
from groundup.models.bert_pretraining import IGNORE, BertPreTrainingHeads


@dataclass
class DebertaV2Config:
    """The fields of transformers' DebertaV2Config that shape the model.

    Defaults are those of DeBERTa-v3-base: relative attention with both position terms,
    256 log buckets, keys shared with the content projections, no absolute positions.
    """

    vocab_size: int = 128100
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 0
    layer_norm_eps: float = 1e-7
    pad_token_id: int = 0
    relative_attention: bool = True
    max_relative_positions: int = -1  # < 1: use max_position_embeddings
    position_buckets: int = 256  # <= 0: no log buckets, plain clipped distances
    pos_att_type: tuple[str, ...] = ("p2c", "c2p")
    share_att_key: bool = True
    position_biased_input: bool = False  # True adds absolute positions as in BERT
    norm_rel_ebd: str = "layer_norm"  # "none" leaves the relative table unnormalised
    embedding_size: int | None = None  # None: hidden_size
    initializer_range: float = 0.02  # std of the N(0, std) initial weights

    def __post_init__(self) -> None:
        if isinstance(self.pos_att_type, str):  # config.json may say "p2c|c2p"
            self.pos_att_type = tuple(t.strip() for t in self.pos_att_type.lower().split("|"))
        self.pos_att_type = tuple(self.pos_att_type or ())
        unknown = set(self.pos_att_type) - {"c2p", "p2c"}
        if unknown:
            raise ValueError(f"pos_att_type {sorted(unknown)} not supported (only c2p, p2c)")
        if self.hidden_act not in ACTIVATIONS:
            raise ValueError(f"hidden_act {self.hidden_act!r} is not one of {list(ACTIVATIONS)}")

    @property
    def max_distance(self) -> int:
        """The largest distance the buckets tell apart."""
        return (
            self.max_relative_positions
            if self.max_relative_positions >= 1
            else self.max_position_embeddings
        )

    @property
    def span(self) -> int:
        """Half the number of rows in the relative embedding table."""
        return self.position_buckets if self.position_buckets > 0 else self.max_distance

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DebertaV2Config:
        """From a config.json; other keys are ignored, a convolution layer is refused."""
        if raw.get("conv_kernel_size", 0) > 0:
            raise ValueError("the convolution layer of DeBERTa-v2-xlarge is not implemented")
        known = {f.name for f in fields(cls)}
        defaults = {  # transformers' defaults where the key is absent from the file
            "relative_attention": False,
            "position_buckets": -1,
            "pos_att_type": (),
            "share_att_key": False,
            "position_biased_input": True,
            "norm_rel_ebd": "none",
        }
        return cls(**{**defaults, **{k: v for k, v in raw.items() if k in known}})


# ---------------------------------------------------------------- relative positions


def make_log_bucket_position(relative_pos: Tensor, bucket_size: int, max_position: int) -> Tensor:
    """Map distances to bucket ids: |d| <= bucket_size/2 stays itself, beyond it grows with
    log|d| so that max_position lands near bucket_size; the sign is kept.

        bucket(d) = sign(d) * (mid + ceil(log(|d| / mid) / log((max_position - 1) / mid)
                                          * (mid - 1)))       for |d| > mid = bucket_size // 2
    """
    mid = bucket_size // 2
    sign = torch.sign(relative_pos)
    # Near distances get a placeholder (mid - 1) only so the log below stays finite.
    far = (relative_pos >= mid) | (relative_pos <= -mid)
    abs_pos = torch.where(far, relative_pos.abs(), torch.full_like(relative_pos, mid - 1))
    # float32 logs, as in the reference: a double here moves a few ids across a ceil boundary
    log_ratio = torch.log(abs_pos / mid) / torch.tensor((max_position - 1) / mid).log()
    log_pos = torch.ceil(log_ratio * (mid - 1)) + mid
    return torch.where(abs_pos <= mid, relative_pos.to(log_pos.dtype), log_pos * sign)


def build_relative_position(
    query_size: int,
    key_size: int,
    bucket_size: int = -1,
    max_position: int = -1,
    device: torch.device | str | None = None,
) -> Tensor:
    """(1, query_size, key_size) long: delta(i, j) = i - j, log-bucketed when both sizes > 0."""
    q_ids = torch.arange(query_size, device=device)
    k_ids = torch.arange(key_size, device=device)
    relative = q_ids[:, None] - k_ids[None, :]
    if bucket_size > 0 and max_position > 0:
        relative = make_log_bucket_position(relative, bucket_size, max_position)
    return relative.long().unsqueeze(0)


def pair_mask(attention_mask: Tensor) -> Tensor:
    """(B, T) with 1 = real token -> (B, 1, T, T) bool, True where query i and key j are both
    real. A padded query then sees nothing and its row ends up uniform (its output is unused)."""
    real = attention_mask.bool()
    return (real[:, None, :, None] & real[:, None, None, :]).contiguous()


# ---------------------------------------------------------------- the two position terms


def content_to_position(q: Tensor, pos_key: Tensor, relative_pos: Tensor) -> Tensor:
    """c2p[i, j] = q_i . Kr[delta(i, j)], unscaled.

    q (..., Tq, d); pos_key (..., 2 * span, d), row r holding distance r - span; relative_pos
    (Tq, Tk) bucket ids, or (1, Tq, Tk) -> (..., Tq, Tk). Distances outside -span..span-1
    are clipped to the first or last row."""
    span = pos_key.shape[-2] // 2
    every_row = q @ pos_key.transpose(-1, -2)  # (..., Tq, 2 * span): one matmul, then pick
    row = (relative_pos + span).clamp(0, 2 * span - 1)
    row = row.expand(*every_row.shape[:-1], relative_pos.shape[-1])
    return torch.gather(every_row, -1, row)


def position_to_content(k: Tensor, pos_query: Tensor, relative_pos: Tensor) -> Tensor:
    """p2c[i, j] = k_j . Qr[delta(i, j)], unscaled (square: Tq = Tk = T).

    k (..., T, d); pos_query (..., 2 * span, d); relative_pos (T, T) or (1, T, T) ->
    (..., T, T). Key j reads its row at -delta(j, i) = delta(i, j), gathered along keys'
    rows, and the transpose puts the queries back on the rows."""
    span = pos_query.shape[-2] // 2
    every_row = k @ pos_query.transpose(-1, -2)  # (..., T, 2 * span)
    row = (-relative_pos + span).clamp(0, 2 * span - 1)
    row = row.expand(*every_row.shape[:-1], relative_pos.shape[-1])
    return torch.gather(every_row, -1, row).transpose(-1, -2)


# ---------------------------------------------------------------- attention


class DisentangledSelfAttention(nn.Module):
    """Multi-head attention scored by content->content + content->position + position->content."""

    def __init__(self, config: DebertaV2Config) -> None:
        super().__init__()
        H = config.hidden_size
        if H % config.num_attention_heads != 0:
            raise ValueError(f"hidden_size {H} is not divisible by {config.num_attention_heads}")
        self.num_heads = config.num_attention_heads
        self.head_size = H // self.num_heads
        self.query_proj, self.key_proj, self.value_proj = (nn.Linear(H, H) for _ in range(3))
        self.relative_attention = config.relative_attention
        self.pos_att_type = config.pos_att_type
        self.share_att_key = config.share_att_key
        self.span = config.span
        if self.relative_attention and not self.share_att_key:
            if "c2p" in self.pos_att_type:
                self.pos_key_proj = nn.Linear(H, H)
            if "p2c" in self.pos_att_type:
                self.pos_query_proj = nn.Linear(H, H)
        self.pos_dropout = nn.Dropout(config.hidden_dropout_prob)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def split_heads(self, x: Tensor) -> Tensor:
        """(..., T, H) -> (..., heads, T, H / heads)"""
        x = x.view(*x.shape[:-1], self.num_heads, self.head_size)
        return x.transpose(-3, -2)

    def forward(
        self,
        x: Tensor,
        mask: Tensor,
        relative_pos: Tensor | None,
        rel_embeddings: Tensor | None,
        query_states: Tensor | None = None,
    ) -> Tensor:
        """x (B, T, H); mask (B, 1, T, T) bool from `pair_mask`; relative_pos (1, T, T) bucket
        ids from `build_relative_position`; rel_embeddings (2 * span, H) -> (B, T, H).
        query_states (B, T, H), if given, makes the queries (keys and values stay x): the
        enhanced mask decoder's way in."""
        B, T, H = x.shape
        queries = x if query_states is None else query_states
        q = self.split_heads(self.query_proj(queries))
        k, v = self.split_heads(self.key_proj(x)), self.split_heads(self.value_proj(x))
        scores = sum(self.score_terms(q, k, relative_pos, rel_embeddings).values())
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        probs = self.dropout(scores.softmax(dim=-1))
        return (probs @ v).transpose(1, 2).reshape(B, T, H)

    def score_terms(
        self, q: Tensor, k: Tensor, relative_pos: Tensor | None, rel_embeddings: Tensor | None
    ) -> dict[str, Tensor]:
        """The scaled terms of the score, each (B, heads, T, T): "c2c", and "c2p" and "p2c"
        where they are used. Their sum is what the softmax sees (before the mask)."""
        # Each extra term adds a dot product of the same variance: divide by sqrt of their count.
        scale = math.sqrt(self.head_size * (1 + len(self.pos_att_type)))
        terms = {"c2c": q @ k.transpose(-1, -2) / scale}
        if not self.relative_attention:
            return terms
        if relative_pos is None or rel_embeddings is None:
            raise ValueError("relative attention needs relative_pos and rel_embeddings")
        rel = self.pos_dropout(rel_embeddings[: 2 * self.span])
        if "c2p" in self.pos_att_type:
            pos_key = self.split_heads(
                (self.key_proj if self.share_att_key else self.pos_key_proj)(rel)
            )
            terms["c2p"] = content_to_position(q, pos_key, relative_pos) / scale
        if "p2c" in self.pos_att_type:
            pos_query = self.split_heads(
                (self.query_proj if self.share_att_key else self.pos_query_proj)(rel)
            )
            terms["p2c"] = position_to_content(k, pos_query, relative_pos) / scale
        return terms


class DebertaV2SelfOutput(nn.Module):
    """Project the heads back, add the residual, normalise (post-LN, as in BERT)."""

    def __init__(self, config: DebertaV2Config) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, heads: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(heads)) + residual)


class DebertaV2Attention(nn.Module):
    """Disentangled self-attention in a residual block. The submodule is called `self`, as in
    transformers, so that parameter names (attention.self.query_proj...) match."""

    def __init__(self, config: DebertaV2Config) -> None:
        super().__init__()
        self.self = DisentangledSelfAttention(config)
        self.output = DebertaV2SelfOutput(config)

    def forward(
        self,
        x: Tensor,
        mask: Tensor,
        relative_pos: Tensor | None,
        rel_embeddings: Tensor | None,
        query_states: Tensor | None = None,
    ) -> Tensor:
        heads = self.self(x, mask, relative_pos, rel_embeddings, query_states)
        return self.output(heads, x if query_states is None else query_states)


class DebertaV2Intermediate(nn.Module):
    def __init__(self, config: DebertaV2Config) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.activation = ACTIVATIONS[config.hidden_act]

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.dense(x))


class DebertaV2Output(nn.Module):
    def __init__(self, config: DebertaV2Config) -> None:
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class DebertaV2Layer(nn.Module):
    """Attention, then a feed-forward network, each in a residual followed by LayerNorm."""

    def __init__(self, config: DebertaV2Config) -> None:
        super().__init__()
        self.attention = DebertaV2Attention(config)
        self.intermediate = DebertaV2Intermediate(config)
        self.output = DebertaV2Output(config)

    def forward(
        self,
        x: Tensor,
        mask: Tensor,
        relative_pos: Tensor | None,
        rel_embeddings: Tensor | None,
        query_states: Tensor | None = None,
    ) -> Tensor:
        x = self.attention(x, mask, relative_pos, rel_embeddings, query_states)
        return self.output(self.intermediate(x), x)


# ---------------------------------------------------------------- the encoder


def init_weights(module: nn.Module, std: float) -> None:
    """N(0, std) weights, zero biases, as transformers initialises DeBERTa (and BERT); the
    padding row of an embedding starts at zero. LayerNorms keep their ones and zeros."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, 0.0, std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, 0.0, std)
        if module.padding_idx is not None:
            nn.init.zeros_(module.weight[module.padding_idx])


class DebertaV2Embeddings(nn.Module):
    """Word (+ segment) embeddings, normalised; padding zeroed. No absolute positions unless
    position_biased_input: position enters only through the attention."""

    def __init__(self, config: DebertaV2Config) -> None:
        super().__init__()
        H = config.hidden_size
        E = config.embedding_size or H
        self.word_embeddings = nn.Embedding(config.vocab_size, E, padding_idx=config.pad_token_id)
        if config.position_biased_input:
            self.position_embeddings = nn.Embedding(config.max_position_embeddings, E)
        if config.type_vocab_size > 0:
            self.token_type_embeddings = nn.Embedding(config.type_vocab_size, E)
        if E != H:
            self.embed_proj = nn.Linear(E, H, bias=False)
        self.LayerNorm = nn.LayerNorm(H, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor, attention_mask: Tensor) -> Tensor:
        x = self.word_embeddings(input_ids)
        if hasattr(self, "position_embeddings"):
            x = x + self.position_embeddings(torch.arange(input_ids.shape[1], device=x.device))
        if hasattr(self, "token_type_embeddings"):
            x = x + self.token_type_embeddings(token_type_ids)
        if hasattr(self, "embed_proj"):
            x = self.embed_proj(x)
        x = self.LayerNorm(x) * attention_mask.unsqueeze(-1).to(x.dtype)
        return self.dropout(x)


class DebertaV2Encoder(nn.Module):
    """The layers, plus the relative embedding table they all share (normalised once)."""

    def __init__(self, config: DebertaV2Config) -> None:
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList(DebertaV2Layer(config) for _ in range(config.num_hidden_layers))
        self.relative_attention = config.relative_attention
        if self.relative_attention:
            self.rel_embeddings = nn.Embedding(2 * config.span, config.hidden_size)
        self.normalise_table = "layer_norm" in config.norm_rel_ebd.lower().split("|")
        if self.normalise_table:
            self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def relative_table(self) -> Tensor | None:
        if not self.relative_attention:
            return None
        table = self.rel_embeddings.weight
        return self.LayerNorm(table) if self.normalise_table else table

    def relative_positions(self, length: int, device: torch.device) -> Tensor | None:
        """(1, T, T) bucket ids, None without relative attention."""
        if not self.relative_attention:
            return None
        cfg = self.config  # bucket_size = position_buckets, the positions' reach = max_distance
        return build_relative_position(
            length, length, cfg.position_buckets, cfg.max_distance, device=device
        )

    def forward(self, x: Tensor, attention_mask: Tensor) -> list[Tensor]:
        """x (B, T, H), attention_mask (B, T) -> [x, output of layer 1, ..., of the last]."""
        mask = pair_mask(attention_mask)
        relative_pos = self.relative_positions(x.shape[1], x.device)
        table = self.relative_table()
        states = [x]
        for layer in self.layer:
            states.append(layer(states[-1], mask, relative_pos, table))
        return states


class DebertaV2ModelOutput(NamedTuple):
    last_hidden_state: Tensor  # (B, T, H)
    hidden_states: tuple[Tensor, ...]  # embeddings, then the output of each layer


class DebertaV2Model(nn.Module):
    """The DeBERTa-v2/v3 encoder: ids (B, T) -> one vector per token."""

    def __init__(self, config: DebertaV2Config) -> None:
        super().__init__()
        self.config = config
        self.embeddings = DebertaV2Embeddings(config)
        self.encoder = DebertaV2Encoder(config)
        self.apply(lambda module: init_weights(module, config.initializer_range))

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
    ) -> DebertaV2ModelOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids, attention_mask)
        states = self.encoder(x, attention_mask)
        return DebertaV2ModelOutput(states[-1], tuple(states))

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> DebertaV2Model:
        """A local Hugging Face folder: config.json + model.safetensors (or pytorch_model.bin),
        saved from DebertaV2Model or from a task model (weights under "deberta.")."""
        folder = Path(folder)
        config = DebertaV2Config.from_dict(json.loads((folder / "config.json").read_text("utf-8")))
        stored = read_state_dict(folder)
        if any(name.startswith("deberta.") for name in stored):  # a task head's checkpoint
            stored = {
                n[len("deberta.") :]: t for n, t in stored.items() if n.startswith("deberta.")
            }
        model = cls(config)
        expected = model.state_dict()
        missing = sorted(set(expected) - set(stored))
        if missing:
            raise KeyError(f"{folder} lacks the weights {missing[:5]} ({len(missing)} in all)")
        # Extra tensors (a head, unused absolute positions, buffers) are left out, as
        # transformers does.
        model.load_state_dict({name: stored[name] for name in expected})
        return model.eval()


# ---------------------------------------------------------------- masked language modelling


class EnhancedMaskDecoder(nn.Module):
    """Absolute positions, added late (He et al., section 3.2).

    The encoder has seen relative positions only. For the MLM head, the last encoder layer
    runs again with its own weights, `passes` times: keys and values are H, the input of the
    last layer, and the first queries are H + P, P an absolute position table; each later
    pass takes the previous output as queries. This is the reference code's
    `emd_context_layer` (two passes), which replaces the encoder's last output for the head.
    """

    def __init__(self, config: DebertaV2Config, passes: int = 2) -> None:
        super().__init__()
        self.passes = passes
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)

    def forward(
        self,
        context: Tensor,
        layer: DebertaV2Layer,
        mask: Tensor,
        relative_pos: Tensor | None,
        rel_embeddings: Tensor | None,
    ) -> Tensor:
        """context (B, T, H): the input of the last layer -> (B, T, H) for the MLM head."""
        length, known = context.shape[1], self.position_embeddings.num_embeddings
        if length > known:
            raise ValueError(f"{length} tokens, but the decoder knows {known} positions")
        positions = self.position_embeddings(torch.arange(length, device=context.device))
        query = context + positions
        for _ in range(self.passes):
            query = layer(context, mask, relative_pos, rel_embeddings, query_states=query)
        return query


class MaskedLMOutput(NamedTuple):
    loss: Tensor | None  # cross-entropy at the positions whose label is not -100
    logits: Tensor  # (B, T, vocab)
    hidden_states: tuple[Tensor, ...]  # the encoder's: embeddings, then every layer's output


class DebertaV2ForMaskedLM(nn.Module):
    """Encoder + (optional) enhanced mask decoder + BERT's MLM head with the decoder tied to
    the word embeddings. emd=False is transformers' DebertaV2ForMaskedLM (legacy head names
    cls.predictions.*), which has no enhanced mask decoder."""

    def __init__(self, config: DebertaV2Config, emd: bool = False) -> None:
        super().__init__()
        self.config = config
        self.deberta = DebertaV2Model(config)
        self.emd = EnhancedMaskDecoder(config) if emd else None
        head = BertConfig(
            vocab_size=config.vocab_size,
            hidden_size=config.hidden_size,
            hidden_act=config.hidden_act,
            layer_norm_eps=config.layer_norm_eps,
            embedding_size=config.embedding_size,
        )
        self.cls = BertPreTrainingHeads(head, self.deberta.embeddings.word_embeddings, nsp=False)
        for module in (self.cls, self.emd):
            if module is not None:  # the decoder is the embedding matrix, drawn already
                module.apply(lambda m: init_weights(m, config.initializer_range))

    def encode(
        self, input_ids: Tensor, attention_mask: Tensor | None = None
    ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """(what the MLM head reads (B, T, H), the encoder's hidden states)."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        out = self.deberta(input_ids, attention_mask)
        if self.emd is None:
            return out.last_hidden_state, out.hidden_states
        encoder = self.deberta.encoder
        if len(encoder.layer) < 1:
            raise ValueError("the enhanced mask decoder needs at least one encoder layer")
        T = input_ids.shape[1]
        decoded = self.emd(
            out.hidden_states[-2],
            encoder.layer[-1],
            pair_mask(attention_mask),
            encoder.relative_positions(T, input_ids.device),
            encoder.relative_table(),
        )
        return decoded, out.hidden_states

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        labels: Tensor | None = None,
    ) -> MaskedLMOutput:
        """labels (B, T): the original id where the input was masked, -100 elsewhere."""
        hidden, states = self.encode(input_ids, attention_mask)
        logits = self.cls.predictions(hidden)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=IGNORE
            )
        return MaskedLMOutput(loss, logits, states)
