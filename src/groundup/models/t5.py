"""T5: an encoder-decoder Transformer that casts every task as text to text (Raffel et al. 2020).

The encoder reads the input with bidirectional self-attention; the decoder writes the output
one token at a time with causal self-attention and cross-attention to the encoder's states.
T5 differs from the original Transformer (Vaswani et al. 2017) in a few deliberate ways:

- Pre-norm blocks with T5's LayerNorm: scale by the root mean square, no mean subtraction and
  no bias (what is now called RMSNorm, Zhang & Sennrich 2019).
- No position embeddings. Each attention layer adds a learned scalar per head and bucket of
  the offset key - query to its scores (nn/positions.py); the first layer of each stack owns
  the table and the others reuse the same bias.
- Scores are q . k without the 1/sqrt(d) factor: the initialisation of q (std (d_model *
  d_kv)^-0.5 instead of d_model^-0.5) already folds it in.
- No biases in any linear layer. Feed-forward ReLU (T5) or gated GELU (T5 v1.1).
- One embedding table `shared` for encoder input, decoder input and (when tied) output; the
  tied output multiplies the decoder states by d_model^-0.5 first, because the embedding
  entries have std 1, not d_model^-0.5.

Module and parameter names follow transformers' T5ForConditionalGeneration (shared,
encoder.block.0.layer.0.SelfAttention.q, ...), so `T5.from_pretrained(folder)` loads a
folder that transformers wrote with save_pretrained and gives the same logits.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.files import atomic_write, atomic_write_json
from groundup.models.bert import read_state_dict
from groundup.nn.positions import causal_mask, relative_position_bucket

IGNORE_INDEX = -100  # label value that the loss skips (padding of the targets)

# Keys and values (B, heads, T, d_kv) of every decoder attention, for step-by-step decoding.
Cache = dict[nn.Module, tuple[Tensor, Tensor]]


@dataclass
class T5Config:
    """The fields of transformers' T5Config that the model uses (same names, same defaults)."""

    vocab_size: int = 32128
    d_model: int = 512
    d_kv: int = 64  # size of one head; num_heads * d_kv need not equal d_model
    d_ff: int = 2048
    num_layers: int = 6
    num_decoder_layers: int | None = None  # None: as many as the encoder
    num_heads: int = 8
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout_rate: float = 0.1
    layer_norm_epsilon: float = 1e-6
    feed_forward_proj: str = "relu"  # "relu" (T5) or "gated-gelu" (T5 v1.1)
    tie_word_embeddings: bool = True  # output layer = the shared embedding table
    # Multiply the decoder output by d_model^-0.5 before the output layer: T5 does, v1.1
    # (untied) does not. None: the same as tie_word_embeddings.
    scale_decoder_outputs: bool | None = None
    pad_token_id: int = 0
    eos_token_id: int = 1
    decoder_start_token_id: int = 0  # T5 starts decoding from the padding token

    def __post_init__(self) -> None:
        if self.num_decoder_layers is None:
            self.num_decoder_layers = self.num_layers
        if self.scale_decoder_outputs is None:
            self.scale_decoder_outputs = self.tie_word_embeddings

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> T5Config:
        """Keep the known fields of a config.json (None means: our default); ignore the rest."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known and v is not None})


# ---------------------------------------------------------------- building blocks


class T5LayerNorm(nn.Module):
    """y = weight * x / sqrt(mean(x^2) + eps): no mean subtraction, no bias (RMSNorm)."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        # Float32 statistics even for half-precision inputs, as in the reference.
        variance = x.float().pow(2).mean(-1, keepdim=True)
        return self.weight * (x.float() * torch.rsqrt(variance + self.eps)).to(x.dtype)


class T5Attention(nn.Module):
    """Multi-head attention without biases and without 1/sqrt(d); optionally owns the table
    of relative position biases (one scalar per bucket and head)."""

    def __init__(
        self, config: T5Config, has_relative_attention_bias: bool, bidirectional: bool
    ) -> None:
        super().__init__()
        self.num_heads, self.d_kv = config.num_heads, config.d_kv
        self.num_buckets = config.relative_attention_num_buckets
        self.max_distance = config.relative_attention_max_distance
        self.bidirectional = bidirectional
        inner = config.num_heads * config.d_kv
        self.q = nn.Linear(config.d_model, inner, bias=False)
        self.k = nn.Linear(config.d_model, inner, bias=False)
        self.v = nn.Linear(config.d_model, inner, bias=False)
        self.o = nn.Linear(inner, config.d_model, bias=False)
        self.dropout = config.dropout_rate
        self.has_relative_attention_bias = has_relative_attention_bias
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(self.num_buckets, config.num_heads)

    def compute_bias(self, num_queries: int, num_keys: int) -> Tensor:
        """(1, heads, Tq, Tk) learned bias; queries are the last Tq of the Tk positions."""
        device = self.relative_attention_bias.weight.device
        query_positions = torch.arange(num_keys - num_queries, num_keys, device=device)
        key_positions = torch.arange(num_keys, device=device)
        offset = key_positions[None, :] - query_positions[:, None]  # (Tq, Tk): key - query
        bucket = relative_position_bucket(
            offset, self.bidirectional, self.num_buckets, self.max_distance
        )
        return self.relative_attention_bias(bucket).permute(2, 0, 1)[None]

    def split_heads(self, x: Tensor) -> Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.d_kv).transpose(1, 2)

    def forward(
        self,
        x: Tensor,
        mask_bias: Tensor | None,
        position_bias: Tensor | None = None,
        key_value_states: Tensor | None = None,
        cache: Cache | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """x (B, Tq, d_model); key_value_states (B, Tk, d_model) for cross-attention.
        mask_bias broadcasts to (B, heads, Tq, Tk): 0 where allowed, a huge negative where not.
        Returns the output and the position bias, so the next layers can reuse it.

        cache (decoding step by step): self-attention appends its new keys and values to the
        stored ones; cross-attention projects the encoder states once and then reuses them.
        """
        q = self.split_heads(self.q(x))
        if key_value_states is not None and cache is not None and self in cache:
            k, v = cache[self]
        else:
            source = x if key_value_states is None else key_value_states
            k, v = self.split_heads(self.k(source)), self.split_heads(self.v(source))
            if cache is not None and key_value_states is None and self in cache:
                past_k, past_v = cache[self]
                k, v = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
            if cache is not None:
                cache[self] = (k, v)
        scores = q @ k.transpose(-2, -1)  # no / sqrt(d_kv): the init of q took care of it
        if position_bias is None and self.has_relative_attention_bias:
            position_bias = self.compute_bias(q.size(-2), k.size(-2))
        if position_bias is not None:
            scores = scores + position_bias
        if mask_bias is not None:
            scores = scores + mask_bias
        weights = F.dropout(scores.softmax(dim=-1), self.dropout, self.training)
        out = (weights @ v).transpose(1, 2).reshape(x.size(0), x.size(1), -1)
        return self.o(out), position_bias


class T5LayerSelfAttention(nn.Module):
    """Pre-norm residual: x + dropout(attention(norm(x)))."""

    def __init__(self, config: T5Config, has_relative_attention_bias: bool, is_decoder: bool):
        super().__init__()
        self.SelfAttention = T5Attention(
            config, has_relative_attention_bias, bidirectional=not is_decoder
        )
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(
        self,
        x: Tensor,
        mask_bias: Tensor | None,
        position_bias: Tensor | None,
        cache: Cache | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        out, position_bias = self.SelfAttention(
            self.layer_norm(x), mask_bias, position_bias, cache=cache
        )
        return x + self.dropout(out), position_bias


class T5LayerCrossAttention(nn.Module):
    """Decoder states ask the encoder states; no position bias (positions of two different
    sequences have no meaningful offset)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.EncDecAttention = T5Attention(config, False, bidirectional=True)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(
        self,
        x: Tensor,
        encoder_states: Tensor,
        mask_bias: Tensor | None,
        cache: Cache | None = None,
    ) -> Tensor:
        out, _ = self.EncDecAttention(self.layer_norm(x), mask_bias, None, encoder_states, cache)
        return x + self.dropout(out)


def gelu_tanh(x: Tensor) -> Tensor:
    """GELU with the tanh approximation ("gelu_new"), the activation of T5 v1.1."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


class T5LayerFF(nn.Module):
    """x + dropout(wo(act(wi(norm(x))))); gated: wo(act(wi_0(h)) * wi_1(h)) (Shazeer 2020)."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        kind = config.feed_forward_proj
        if kind not in ("relu", "gated-gelu"):
            raise ValueError(f"feed_forward_proj must be 'relu' or 'gated-gelu', got {kind!r}")
        self.gated = kind == "gated-gelu"
        self.DenseReluDense = nn.Module()  # a plain container, named as in the checkpoints
        if self.gated:
            self.DenseReluDense.wi_0 = nn.Linear(config.d_model, config.d_ff, bias=False)
            self.DenseReluDense.wi_1 = nn.Linear(config.d_model, config.d_ff, bias=False)
        else:
            self.DenseReluDense.wi = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.DenseReluDense.wo = nn.Linear(config.d_ff, config.d_model, bias=False)
        self.layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(self, x: Tensor) -> Tensor:
        h, dense = self.layer_norm(x), self.DenseReluDense
        h = gelu_tanh(dense.wi_0(h)) * dense.wi_1(h) if self.gated else F.relu(dense.wi(h))
        h = dense.wo(F.dropout(h, self.dropout.p, self.training))
        return x + self.dropout(h)


class T5Block(nn.Module):
    """Encoder: [self-attention, feed-forward]. Decoder: [self, cross, feed-forward]."""

    def __init__(self, config: T5Config, has_relative_attention_bias: bool, is_decoder: bool):
        super().__init__()
        self.layer = nn.ModuleList(
            [T5LayerSelfAttention(config, has_relative_attention_bias, is_decoder)]
        )
        if is_decoder:
            self.layer.append(T5LayerCrossAttention(config))
        self.layer.append(T5LayerFF(config))

    def forward(
        self,
        x: Tensor,
        mask_bias: Tensor | None,
        position_bias: Tensor | None,
        encoder_states: Tensor | None = None,
        encoder_mask_bias: Tensor | None = None,
        cache: Cache | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        x, position_bias = self.layer[0](x, mask_bias, position_bias, cache)
        if encoder_states is not None:
            x = self.layer[1](x, encoder_states, encoder_mask_bias, cache)
        return self.layer[-1](x), position_bias


def mask_to_bias(allowed: Tensor, dtype: torch.dtype) -> Tensor:
    """Bool mask (True = may attend) -> additive bias: 0 or the most negative number.

    A finite minimum instead of -inf keeps a fully masked row (a padding query whose keys are
    all padding) finite; its output is ignored anyway."""
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(
        ~allowed, torch.finfo(dtype).min
    )


class T5Stack(nn.Module):
    """Embedding lookup (shared table), dropout, blocks, final norm, dropout."""

    def __init__(self, config: T5Config, embed_tokens: nn.Embedding, is_decoder: bool) -> None:
        super().__init__()
        self.is_decoder = is_decoder
        self.embed_tokens = embed_tokens  # the same module as T5.shared
        num = config.num_decoder_layers if is_decoder else config.num_layers
        # Only block 0 owns a relative-position table; the others reuse its bias.
        self.block = nn.ModuleList([T5Block(config, i == 0, is_decoder) for i in range(num)])
        self.final_layer_norm = T5LayerNorm(config.d_model, config.layer_norm_epsilon)
        self.dropout = nn.Dropout(config.dropout_rate)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        encoder_states: Tensor | None = None,
        encoder_attention_mask: Tensor | None = None,
        cache: Cache | None = None,
        past_length: int = 0,
    ) -> Tensor:
        """input_ids (B, T); with a cache, only the new tokens after past_length cached ones,
        and attention_mask (B, past_length + T) then covers all of them."""
        x = self.dropout(self.embed_tokens(input_ids))
        batch, length = input_ids.shape
        num_keys = past_length + length
        allowed = torch.ones(batch, 1, length, num_keys, dtype=torch.bool, device=x.device)
        if attention_mask is not None:  # padding keys
            allowed = allowed & attention_mask.bool()[:, None, None, :]
        if self.is_decoder:  # each output position sees itself and the past
            allowed = allowed & causal_mask(length, num_keys, device=x.device)
        mask_bias = mask_to_bias(allowed, x.dtype)
        encoder_mask_bias = None
        if encoder_attention_mask is not None:
            encoder_mask_bias = mask_to_bias(
                encoder_attention_mask.bool()[:, None, None, :], x.dtype
            )
        position_bias = None
        for block in self.block:
            x, position_bias = block(
                x, mask_bias, position_bias, encoder_states, encoder_mask_bias, cache
            )
        return self.dropout(self.final_layer_norm(x))


# ---------------------------------------------------------------- the full model


@dataclass
class T5Output:
    logits: Tensor  # (B, T_dec, vocab)
    loss: Tensor | None  # mean cross-entropy over labels != -100
    encoder_states: Tensor  # (B, T_enc, d_model)


class T5(nn.Module):
    """T5ForConditionalGeneration: encoder + decoder + language-model head."""

    def __init__(self, config: T5Config) -> None:
        super().__init__()
        self.config = config
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = T5Stack(config, self.shared, is_decoder=False)
        self.decoder = T5Stack(config, self.shared, is_decoder=True)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.shared.weight
        self.apply(self.init_weights)

    @torch.no_grad()
    def init_weights(self, module: nn.Module) -> None:
        """T5's initialisation (Mesh TensorFlow): every std is 1/sqrt(fan-in), except q,
        which also absorbs the 1/sqrt(d_kv) that the scores leave out."""
        c = self.config
        if isinstance(module, T5LayerNorm):
            module.weight.fill_(1.0)
        elif isinstance(module, T5Attention):
            module.q.weight.normal_(0.0, (c.d_model * c.d_kv) ** -0.5)
            module.k.weight.normal_(0.0, c.d_model**-0.5)
            module.v.weight.normal_(0.0, c.d_model**-0.5)
            module.o.weight.normal_(0.0, (c.num_heads * c.d_kv) ** -0.5)
            if module.has_relative_attention_bias:
                module.relative_attention_bias.weight.normal_(0.0, c.d_model**-0.5)
        elif isinstance(module, T5LayerFF):
            for name, layer in module.DenseReluDense.named_children():
                fan_in = c.d_ff if name == "wo" else c.d_model
                layer.weight.normal_(0.0, fan_in**-0.5)
        elif module is self:
            self.shared.weight.normal_(0.0, 1.0)
            if not c.tie_word_embeddings:
                self.lm_head.weight.normal_(0.0, 1.0)

    def shift_right(self, labels: Tensor) -> Tensor:
        """Teacher forcing: the decoder reads [start, y_1, ..., y_{T-1}] and predicts
        [y_1, ..., y_T]. Ignored labels (-100) become padding tokens."""
        shifted = labels.new_full(labels.shape, self.config.decoder_start_token_id)
        shifted[:, 1:] = labels[:, :-1]
        return shifted.masked_fill(shifted == IGNORE_INDEX, self.config.pad_token_id)

    def encode(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> Tensor:
        return self.encoder(input_ids, attention_mask)

    def decode(
        self,
        decoder_input_ids: Tensor,
        encoder_states: Tensor,
        attention_mask: Tensor | None = None,
        decoder_attention_mask: Tensor | None = None,
        cache: Cache | None = None,
        past_length: int = 0,
    ) -> Tensor:
        """Logits (B, T_dec, vocab) for the decoder inputs, given the encoder states. With a
        cache, decoder_input_ids are only the tokens after the past_length cached ones."""
        x = self.decoder(
            decoder_input_ids,
            decoder_attention_mask,
            encoder_states,
            attention_mask,
            cache,
            past_length,
        )
        if self.config.scale_decoder_outputs:
            x = x * self.config.d_model**-0.5  # the embedding has std 1, so scale down first
        return self.lm_head(x)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        decoder_input_ids: Tensor | None = None,
        decoder_attention_mask: Tensor | None = None,
        labels: Tensor | None = None,
    ) -> T5Output:
        """input_ids (B, T_enc); attention_mask (B, T_enc), 1 = token, 0 = padding.
        Give labels (B, T_dec) to train (decoder inputs are then labels shifted right) or
        decoder_input_ids to score a given prefix."""
        if decoder_input_ids is None:
            if labels is None:
                raise ValueError("give labels or decoder_input_ids")
            decoder_input_ids = self.shift_right(labels)
        encoder_states = self.encode(input_ids, attention_mask)
        logits = self.decode(
            decoder_input_ids, encoder_states, attention_mask, decoder_attention_mask
        )
        loss = None
        if labels is not None:
            loss = F.cross_entropy(
                logits.flatten(0, 1).float(), labels.flatten(), ignore_index=IGNORE_INDEX
            )
        return T5Output(logits, loss, encoder_states)

    @torch.no_grad()
    def generate_greedy(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        max_new_tokens: int = 20,
        use_cache: bool = True,
    ) -> Tensor:
        """(B, 1 + up to max_new_tokens): start token, then the most likely token each step.

        The encoder runs once. With use_cache, each step feeds only the newest token and
        reuses the stored keys and values; without, the decoder reruns on the whole prefix
        (the same result, more work). A finished sequence (it produced EOS) is padded while
        the others go on; decoding stops when all are finished.
        """
        c = self.config
        encoder_states = self.encode(input_ids, attention_mask)
        out = input_ids.new_full((input_ids.size(0), 1), c.decoder_start_token_id)
        finished = torch.zeros(input_ids.size(0), dtype=torch.bool, device=input_ids.device)
        cache: Cache | None = {} if use_cache else None
        for step in range(max_new_tokens):
            if use_cache:
                logits = self.decode(
                    out[:, -1:], encoder_states, attention_mask, cache=cache, past_length=step
                )
            else:
                logits = self.decode(out, encoder_states, attention_mask)
            next_token = logits[:, -1].argmax(dim=-1).masked_fill(finished, c.pad_token_id)
            out = torch.cat([out, next_token[:, None]], dim=1)
            finished |= next_token == c.eos_token_id
            if finished.all():
                break
        return out

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------ Hugging Face checkpoints

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | torch.device = "cpu") -> T5:
        """Load a folder with config.json + model.safetensors (or pytorch_model.bin) that
        transformers' T5ForConditionalGeneration.save_pretrained wrote. Our names are
        theirs, so the state dict loads as it is."""
        folder = Path(folder)
        config = T5Config.from_dict(json.loads((folder / "config.json").read_text("utf-8")))
        stored = read_state_dict(folder)
        # Tied copies may be stored or left out; all of them are the one `shared` table.
        for alias in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight"):
            stored.pop(alias, None)
        lm_head = stored.pop("lm_head.weight", None)
        # v1.1 checkpoints keep a separate output matrix; transformers 5 always ties.
        config.tie_word_embeddings = lm_head is None or torch.equal(
            lm_head, stored["shared.weight"]
        )
        if not config.tie_word_embeddings:
            stored["lm_head.weight"] = lm_head
        model = cls(config)
        expected = {
            name
            for name in model.state_dict()
            if not name.startswith(("encoder.embed_tokens.", "decoder.embed_tokens."))
            and not (config.tie_word_embeddings and name == "lm_head.weight")
        }
        missing = sorted(expected - set(stored))
        if missing:
            raise KeyError(f"{folder} lacks the weights {missing[:5]} ({len(missing)} in all)")
        for name in expected:
            if stored[name].shape != model.state_dict()[name].shape:
                raise ValueError(
                    f"{name}: checkpoint has {tuple(stored[name].shape)}, config.json implies "
                    f"{tuple(model.state_dict()[name].shape)}"
                )
        model.load_state_dict({n: stored[n] for n in expected}, strict=False)
        return model.to(device).eval()

    def save_pretrained(self, folder: str | Path) -> Path:
        """config.json + model.safetensors that transformers' T5ForConditionalGeneration reads."""
        from safetensors.torch import save_file

        folder = Path(folder)
        config = {
            "architectures": ["T5ForConditionalGeneration"],
            "model_type": "t5",
            "is_encoder_decoder": True,
            **asdict(self.config),
        }
        skip = ("encoder.embed_tokens.", "decoder.embed_tokens.")
        tensors = {
            name: tensor.detach().cpu().contiguous()
            for name, tensor in self.state_dict().items()
            if not name.startswith(skip)
            and not (self.config.tie_word_embeddings and name == "lm_head.weight")
        }
        atomic_write(folder / "model.safetensors", lambda tmp: save_file(tensors, str(tmp)))
        atomic_write_json(folder / "config.json", config)
        return folder
