"""ALBERT (Lan et al. 2019): BERT with far fewer parameters, and a harder sentence task.

Two changes to BERT shrink the model:

    factorised embeddings:  token ids -> E-dim vectors (a V x E table), then one E -> H linear
                            map ("embedding_hidden_mapping_in"), instead of a V x H table.
                            V*E + E*H parameters instead of V*H: with V = 30000, E = 128,
                            H = 4096 that is 4.4M instead of 123M.
    cross-layer sharing:    num_hidden_groups groups of inner_group_num layers each; the
                            num_hidden_layers steps of the encoder walk through the groups in
                            order, so with one group the same weights run at every step.

Everything else is BERT: post-LN layers (x = LN(x + Attention(x)); x = LN(x + FFN(x))), a
tanh pooler over [CLS]. Pre-training adds two heads (transformers' AlbertForPreTraining):

    MLM head:  logits = LN(act(W h + b)) E^T + bias   (H -> E, then the word embeddings, tied)
    SOP head:  2 logits from the pooled [CLS]: are two consecutive segments of one document in
               their original order (0) or swapped (1)? BERT's next-sentence prediction could
               be solved by spotting a change of topic; sentence order cannot.

Module and parameter names are transformers' (embeddings.word_embeddings,
encoder.albert_layer_groups.0.albert_layers.0.attention.query, ...), so a state dict copies
across by name, and `from_pretrained(folder)` reads a folder written by save_pretrained.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.models.bert import ACTIVATIONS, read_state_dict, resolve_folder


@dataclass
class AlbertConfig:
    """The fields of transformers' AlbertConfig that shape the model (defaults: its
    albert-xxlarge-v2 defaults)."""

    vocab_size: int = 30000
    embedding_size: int = 128
    hidden_size: int = 4096
    num_hidden_layers: int = 12
    num_hidden_groups: int = 1
    inner_group_num: int = 1
    num_attention_heads: int = 64
    intermediate_size: int = 16384
    hidden_act: str = "gelu_new"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    classifier_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    initializer_range: float = 0.02

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> AlbertConfig:
        """From a config.json; other keys (architectures, transformers_version...) are ignored."""
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute (learned) position embeddings are supported")
        if raw.get("hidden_act", "gelu_new") not in ACTIVATIONS:
            raise ValueError(f"hidden_act {raw['hidden_act']!r} is not one of {list(ACTIVATIONS)}")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


# ---------------------------------------------------------------- factorised embeddings


def embedding_parameters(vocab_size: int, embedding_size: int, hidden_size: int) -> dict[str, int]:
    """Weights of the token embedding: factorised (V x E table + E x H map) vs BERT's V x H."""
    factorised = vocab_size * embedding_size + embedding_size * hidden_size
    full = vocab_size * hidden_size
    return {"factorised": factorised, "full": full, "saved": full - factorised}


def describe_embedding_saving(config: AlbertConfig) -> str:
    """One line with the numbers, e.g. for a lesson or a lab log."""
    V, E, H = config.vocab_size, config.embedding_size, config.hidden_size
    counts = embedding_parameters(V, E, H)
    return (
        f"V*E + E*H = {V}*{E} + {E}*{H} = {counts['factorised']:,} weights instead of "
        f"V*H = {V}*{H} = {counts['full']:,} ({counts['full'] / counts['factorised']:.1f}x fewer)"
    )


class AlbertEmbeddings(nn.Module):
    """Token + position + segment embeddings of size E (not H), summed and normalised."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        V, E = config.vocab_size, config.embedding_size
        self.word_embeddings = nn.Embedding(V, E, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, E)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, E)
        self.LayerNorm = nn.LayerNorm(E, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor, position_ids: Tensor) -> Tensor:
        x = (
            self.word_embeddings(input_ids)
            + self.token_type_embeddings(token_type_ids)
            + self.position_embeddings(position_ids)
        )
        return self.dropout(self.LayerNorm(x))


# ---------------------------------------------------------------- one (shareable) layer


class AlbertAttention(nn.Module):
    """Multi-head self-attention with its residual and LayerNorm: LN(x + W_o Attn(x))."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        H = config.hidden_size
        if H % config.num_attention_heads != 0:
            raise ValueError(f"hidden_size {H} is not divisible by {config.num_attention_heads}")
        self.num_heads = config.num_attention_heads
        self.attention_dropout = config.attention_probs_dropout_prob
        self.query, self.key, self.value = (nn.Linear(H, H) for _ in range(3))
        self.dense = nn.Linear(H, H)
        self.output_dropout = nn.Dropout(config.hidden_dropout_prob)
        self.LayerNorm = nn.LayerNorm(H, eps=config.layer_norm_eps)

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        """x (B, T, H); mask (B, 1, 1, T) bool, True = a real token that may be attended to."""
        B, T, H = x.shape
        # (B, T, H) -> (B, heads, T, H / heads): each head attends in its own subspace
        q, k, v = (
            proj(x).view(B, T, self.num_heads, H // self.num_heads).transpose(1, 2)
            for proj in (self.query, self.key, self.value)
        )
        p = self.attention_dropout if self.training else 0.0
        heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        out = self.dense(heads.transpose(1, 2).reshape(B, T, H))
        return self.LayerNorm(x + self.output_dropout(out))


class AlbertLayer(nn.Module):
    """Attention, then the feed-forward network in a residual followed by LayerNorm."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        H = config.hidden_size
        self.attention = AlbertAttention(config)
        self.ffn = nn.Linear(H, config.intermediate_size)
        self.ffn_output = nn.Linear(config.intermediate_size, H)
        self.full_layer_layer_norm = nn.LayerNorm(H, eps=config.layer_norm_eps)
        self.activation = ACTIVATIONS[config.hidden_act]

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        x = self.attention(x, mask)
        # no dropout on the feed-forward output: transformers' AlbertLayer has none there
        return self.full_layer_layer_norm(x + self.ffn_output(self.activation(self.ffn(x))))


class AlbertLayerGroup(nn.Module):
    """inner_group_num distinct layers, applied one after the other."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.albert_layers = nn.ModuleList(
            AlbertLayer(config) for _ in range(config.inner_group_num)
        )

    def forward(self, x: Tensor, mask: Tensor | None) -> list[Tensor]:
        outputs = []
        for layer in self.albert_layers:
            x = layer(x, mask)
            outputs.append(x)
        return outputs


class AlbertTransformer(nn.Module):
    """E -> H projection, then num_hidden_layers steps through the (few) layer groups."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        if config.num_hidden_layers % config.num_hidden_groups != 0:
            raise ValueError("num_hidden_layers must be a multiple of num_hidden_groups")
        self.config = config
        self.embedding_hidden_mapping_in = nn.Linear(config.embedding_size, config.hidden_size)
        self.albert_layer_groups = nn.ModuleList(
            AlbertLayerGroup(config) for _ in range(config.num_hidden_groups)
        )

    def group_of_step(self, step: int) -> int:
        """Consecutive steps share a group: 12 steps, 3 groups -> 0,0,0,0,1,1,1,1,2,2,2,2."""
        return step * self.config.num_hidden_groups // self.config.num_hidden_layers

    def forward(self, x: Tensor, mask: Tensor | None) -> list[Tensor]:
        """The projected embeddings, then the output of every layer applied, in order."""
        x = self.embedding_hidden_mapping_in(x)
        hidden_states = [x]
        for step in range(self.config.num_hidden_layers):
            hidden_states += self.albert_layer_groups[self.group_of_step(step)](x, mask)
            x = hidden_states[-1]
        return hidden_states


# ---------------------------------------------------------------- the encoder


class AlbertOutput(NamedTuple):
    last_hidden_state: Tensor  # (B, T, H)
    pooler_output: Tensor | None  # (B, H): tanh(W h_[CLS] + b), None without a pooler
    hidden_states: tuple[Tensor, ...]  # projected embeddings, then each layer application


class PreTrainedAlbert(nn.Module):
    """Shared by the encoder and the pre-training model: BERT's initialisation and loading."""

    config: AlbertConfig
    # the start of this model's tensor names in an AlbertForPreTraining checkpoint
    PREFIX = ""
    # names that exist only as ties: save_pretrained leaves them out, the tie fills them in
    TIED: tuple[str, ...] = ()

    def init_weights(self, module: nn.Module) -> None:
        """N(0, initializer_range) weights, zero biases and padding row, unit LayerNorm gains."""
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, std)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0.0, std)
            if module.padding_idx is not None:
                nn.init.zeros_(module.weight[module.padding_idx])

    def num_params(self) -> int:
        """Distinct parameters: tied and shared weights count once (as transformers counts)."""
        return sum(p.numel() for p in self.parameters())

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | torch.device = "cpu") -> Any:
        """Load a folder written by transformers' save_pretrained (AlbertModel or
        AlbertForPreTraining): config.json + model.safetensors or pytorch_model.bin."""
        path = resolve_folder(folder, allow_download=False)
        config = AlbertConfig.from_dict(json.loads((path / "config.json").read_text("utf-8")))
        stored = to_our_names(read_state_dict(path), cls.PREFIX)
        model = cls(config)
        expected = model.state_dict()
        missing = sorted(set(expected) - set(stored) - set(cls.TIED))
        if missing:
            raise KeyError(f"{path} lacks the weights {missing[:5]} ({len(missing)} in all)")
        for name, tensor in expected.items():
            if name in stored and stored[name].shape != tensor.shape:
                raise ValueError(
                    f"{name}: checkpoint has {tuple(stored[name].shape)}, "
                    f"config.json implies {tuple(tensor.shape)}"
                )
        model.load_state_dict({n: stored[n] for n in expected if n in stored}, strict=False)
        return model.to(device).eval()


def to_our_names(state: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """Checkpoint tensor names -> ours. An AlbertModel file has no "albert." prefix, an
    AlbertForPreTraining file has it on the encoder (not on the heads); old TensorFlow
    conversions call the LayerNorm parameters gamma and beta."""
    heads = ("predictions.", "sop_classifier.")
    ours = {}
    for name, tensor in state.items():
        name = name.replace("LayerNorm.gamma", "LayerNorm.weight")
        name = name.replace("LayerNorm.beta", "LayerNorm.bias")
        name = name.removeprefix("albert.")
        if prefix and not name.startswith(heads):
            name = prefix + name
        ours[name] = tensor
    return ours


class Albert(PreTrainedAlbert):
    """The ALBERT encoder (transformers' AlbertModel): embeddings, shared layers, pooler."""

    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__()
        self.config = config
        self.embeddings = AlbertEmbeddings(config)
        self.encoder = AlbertTransformer(config)
        H = config.hidden_size
        self.pooler = nn.Linear(H, H) if add_pooling_layer else None
        self.apply(self.init_weights)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
    ) -> AlbertOutput:
        """input_ids (B, T); attention_mask (B, T), 1 = real token, 0 = padding; token_type_ids
        (B, T), 0 for the first segment and 1 for the second (default all 0)."""
        B, T = input_ids.shape
        if self.config.max_position_embeddings < T:
            raise ValueError(
                f"{T} tokens, but this model has {self.config.max_position_embeddings} positions"
            )
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if position_ids is None:
            position_ids = torch.arange(T, device=input_ids.device).expand(B, T)
        # Padding is hidden from every query as a key: (B, 1, 1, T) broadcasts over heads and
        # queries. Without padding there is nothing to mask (a faster kernel).
        mask = None
        if attention_mask is not None and not attention_mask.bool().all():
            mask = attention_mask.bool()[:, None, None, :]
        x = self.embeddings(input_ids, token_type_ids, position_ids)
        hidden_states = self.encoder(x, mask)
        x = hidden_states[-1]
        pooled = None if self.pooler is None else torch.tanh(self.pooler(x[:, 0]))
        return AlbertOutput(x, pooled, tuple(hidden_states))


# ---------------------------------------------------------------- pre-training heads


class AlbertMLMHead(nn.Module):
    """H -> E (dense, activation, LayerNorm), then E -> V through the tied word embeddings."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        E = config.embedding_size
        self.LayerNorm = nn.LayerNorm(E, eps=config.layer_norm_eps)
        self.dense = nn.Linear(config.hidden_size, E)
        self.decoder = nn.Linear(E, config.vocab_size)
        self.bias = self.decoder.bias  # one tensor under two names, as in transformers
        self.activation = ACTIVATIONS[config.hidden_act]

    def forward(self, hidden: Tensor) -> Tensor:
        return self.decoder(self.LayerNorm(self.activation(self.dense(hidden))))


class AlbertSOPHead(nn.Module):
    """Two logits from the pooled [CLS] vector: 0 = original order, 1 = swapped."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.dropout = nn.Dropout(config.classifier_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, 2)

    def forward(self, pooled: Tensor) -> Tensor:
        return self.classifier(self.dropout(pooled))


class PreTrainingOutput(NamedTuple):
    loss: Tensor | None  # MLM cross-entropy + SOP cross-entropy, when both labels are given
    prediction_logits: Tensor  # (B, T, V)
    sop_logits: Tensor  # (B, 2)
    hidden_states: tuple[Tensor, ...]


class AlbertForPreTraining(PreTrainedAlbert):
    """ALBERT + MLM head + SOP head (transformers' AlbertForPreTraining)."""

    PREFIX = "albert."
    TIED = ("predictions.decoder.weight", "predictions.decoder.bias")

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.config = config
        self.albert = Albert(config)
        self.predictions = AlbertMLMHead(config)
        self.sop_classifier = AlbertSOPHead(config)
        self.apply(self.init_weights)
        nn.init.zeros_(self.predictions.bias)
        # the output projection E -> V is the input table V x E, read the other way
        self.predictions.decoder.weight = self.albert.embeddings.word_embeddings.weight

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        labels: Tensor | None = None,
        sentence_order_label: Tensor | None = None,
    ) -> PreTrainingOutput:
        """labels (B, T): token ids to predict, -100 where nothing is predicted;
        sentence_order_label (B,): 0 = segments in order, 1 = swapped."""
        out = self.albert(input_ids, attention_mask, token_type_ids, position_ids)
        prediction_logits = self.predictions(out.last_hidden_state)
        sop_logits = self.sop_classifier(out.pooler_output)
        loss = None
        if labels is not None and sentence_order_label is not None:
            mlm = F.cross_entropy(prediction_logits.flatten(0, 1), labels.flatten())
            loss = mlm + F.cross_entropy(sop_logits, sentence_order_label.flatten())
        return PreTrainingOutput(loss, prediction_logits, sop_logits, out.hidden_states)


# ---------------------------------------------------------------- sentence-order examples


def sentence_order_pair(
    first: Sequence[int], second: Sequence[int], generator: torch.Generator
) -> tuple[list[int], list[int], int]:
    """Two consecutive segments of one document -> (a, b, label): with probability 0.5 kept
    in order (label 0), otherwise swapped (label 1). Both classes see the same text, so only
    the order, not the topic, tells them apart."""
    if torch.rand((), generator=generator).item() < 0.5:
        return list(first), list(second), 0
    return list(second), list(first), 1


def sentence_order_inputs(
    first: Sequence[int], second: Sequence[int], cls_id: int, sep_id: int
) -> tuple[list[int], list[int]]:
    """[CLS] a [SEP] b [SEP] and its token_type_ids (0 for [CLS] a [SEP], 1 for b [SEP])."""
    input_ids = [cls_id, *first, sep_id, *second, sep_id]
    token_type_ids = [0] * (len(first) + 2) + [1] * (len(second) + 1)
    return input_ids, token_type_ids
