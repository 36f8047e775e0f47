"""A Llama-style decoder: GPT-2's stack with four pieces swapped for what later models use.

Read top to bottom: the config, the pieces in the order the data flows through them (RMSNorm,
grouped-query attention with rotary positions, the SwiGLU feed-forward layer, the block, the
whole model), then saving and loading.

What changes from GPT-2 (models/gpt.py), and why:

- RMSNorm instead of LayerNorm (Zhang & Sennrich 2019): scale by the root mean square only,
  no mean subtracted, no bias. Cheaper, and trains as well.
- RoPE instead of learned positions (Su et al. 2021): queries and keys are rotated by their
  position inside every attention layer (groundup.nn.positions), so scores see relative
  distances and there is no position table to run out of.
- SwiGLU instead of the GELU MLP (Shazeer 2020): down(silu(gate(x)) * up(x)), a gated
  feed-forward layer with three matrices; the width is cut to about 8/3 of the model size so
  the parameter count stays that of a 4x GELU MLP.
- Grouped-query attention (Ainslie et al. 2023, Llama 2 70B and all Llama 3): n_head query
  heads share n_kv_head key/value heads, so the KV cache shrinks by n_head / n_kv_head.
- No biases anywhere, and an output layer that is (by default) not tied to the embedding.

Parameter names and shapes match Hugging Face's LlamaForCausalLM, so `save_pretrained` writes a
folder that `transformers` opens, and `from_pretrained` opens folders that transformers wrote.
The forward pass follows the KV-cache contract of models/kv_cache.py.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.files import atomic_write, atomic_write_json
from groundup.models import kv_cache
from groundup.models.kv_cache import KVCache
from groundup.nn.positions import apply_rope


@dataclass
class LlamaConfig:
    vocab_size: int
    hidden_size: int = 128
    intermediate_size: int = 344  # about 8/3 * hidden_size: a SwiGLU with a 4x MLP's weights
    n_layer: int = 4
    n_head: int = 4
    n_kv_head: int | None = None  # key/value heads; None = n_head (plain multi-head attention)
    max_position_embeddings: int = 2048  # the context it was trained for; RoPE has no table
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = False

    def __post_init__(self) -> None:
        if self.n_kv_head is None:
            self.n_kv_head = self.n_head
        if self.hidden_size % self.n_head != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by n_head ({self.n_head})"
            )
        if self.n_kv_head < 1 or self.n_head % self.n_kv_head != 0:
            raise ValueError(
                f"n_kv_head ({self.n_kv_head}) must divide n_head ({self.n_head}): "
                "each key/value head serves a whole group of query heads"
            )
        if self.head_dim % 2 != 0:
            raise ValueError(f"RoPE rotates feature pairs: head_dim {self.head_dim} must be even")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.n_head


# ---------------------------------------------------------------- RMSNorm


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the last axis (Zhang & Sennrich, eq. 4).

    LayerNorm also subtracts the mean and adds a bias; RMSNorm keeps only the rescaling,
    which the paper found to be the part that matters. Half-precision inputs are normalised
    in float32, as in Llama (float64 stays float64)."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        wide = x.to(torch.promote_types(x.dtype, torch.float32))
        normed = wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * normed.to(x.dtype)


# ---------------------------------------------------------------- grouped-query attention


def repeat_kv(x: Tensor, n_rep: int) -> Tensor:
    """(B, n_kv_head, T, d) -> (B, n_kv_head * n_rep, T, d): key/value head g serves query heads
    g * n_rep .. g * n_rep + n_rep - 1 (each copy sits next to its original)."""
    if n_rep == 1:
        return x
    b, h, t, d = x.shape
    return x[:, :, None].expand(b, h, n_rep, t, d).reshape(b, h * n_rep, t, d)


class Attention(nn.Module):
    """Causal self-attention with n_head query heads and n_kv_head key/value heads, RoPE on
    queries and keys. n_kv_head = n_head is multi-head attention, 1 is multi-query."""

    def __init__(self, config: LlamaConfig, layer: int) -> None:
        super().__init__()
        self.layer = layer  # which entry of the KV cache is ours
        self.n_head = config.n_head
        self.n_kv_head = config.n_kv_head
        self.head_dim = config.head_dim
        self.rope_theta = config.rope_theta
        kv_dim = config.n_kv_head * config.head_dim
        self.q_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.k_proj = nn.Linear(config.hidden_size, kv_dim, bias=False)
        self.v_proj = nn.Linear(config.hidden_size, kv_dim, bias=False)
        self.o_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)

    def forward(
        self, x: Tensor, positions: Tensor, mask: Tensor | None, cache: KVCache | None
    ) -> Tensor:
        """x (B, T, C); positions (B or 1, T); mask as from kv_cache.attention_bias."""
        B, T, C = x.shape
        q = self.q_proj(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        # Rotate by position before caching: a cached key keeps the angle of its own position.
        q = apply_rope(q, positions[:, None, :], theta=self.rope_theta)
        k = apply_rope(k, positions[:, None, :], theta=self.rope_theta)
        if cache is not None:
            # The cache holds n_kv_head heads, not n_head: this is where GQA saves memory.
            k, v = cache.update(self.layer, k, v)
        groups = self.n_head // self.n_kv_head
        k, v = repeat_kv(k, groups), repeat_kv(v, groups)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, C))


# ---------------------------------------------------------------- SwiGLU feed-forward


class MLP(nn.Module):
    """SwiGLU (Shazeer 2020, eq. 6 without biases): down(silu(gate(x)) * up(x)).

    silu(z) = z * sigmoid(z). The gate decides, feature by feature, how much of up(x) passes."""

    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


# ---------------------------------------------------------------- block and model


class Block(nn.Module):
    """Pre-norm block, as in GPT-2 but with RMSNorm: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: LlamaConfig, layer: int) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.self_attn = Attention(config, layer)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.mlp = MLP(config)

    def forward(
        self, x: Tensor, positions: Tensor, mask: Tensor | None, cache: KVCache | None
    ) -> Tensor:
        x = x + self.self_attn(self.input_layernorm(x), positions, mask, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    def __init__(self, config: LlamaConfig) -> None:
        super().__init__()
        self.config = config
        self.model = nn.ModuleDict(
            dict(
                embed_tokens=nn.Embedding(config.vocab_size, config.hidden_size),
                layers=nn.ModuleList([Block(config, i) for i in range(config.n_layer)]),
                norm=RMSNorm(config.hidden_size, config.rms_norm_eps),
            )
        )
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        # Llama's init: N(0, 0.02) for every matrix, RMSNorm weights at 1.
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def num_params(self) -> int:
        """Number of parameters (a tied output layer is counted once)."""
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        idx: Tensor,
        targets: Tensor | None = None,
        *,
        attention_mask: Tensor | None = None,
        cache: KVCache | None = None,
        last_only: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """idx (B, T): the tokens not yet in `cache`. attention_mask (B, past + T): 1 = token,
        0 = left padding. Returns logits (B, T, V) and the mean cross-entropy against targets
        (B, T) (None without targets; target -100 is ignored). `last_only=True` returns the
        logits of the last position only, (B, 1, V): all that picking the next token needs."""
        b, t = idx.shape
        past = len(cache) if cache is not None else 0
        positions = kv_cache.positions(attention_mask, past, t, idx.device)
        mask = kv_cache.attention_bias(attention_mask, past, t, idx.device)
        x = self.model.embed_tokens(idx)
        for block in self.model.layers:
            x = block(x, positions, mask, cache)
        if last_only:
            x = x[:, -1:]  # the output layer is the largest matrix: skip the other positions
        logits = self.lm_head(self.model.norm(x))
        loss = None
        if targets is not None:
            if last_only:
                raise ValueError("targets need the logits of every position, not last_only")
            loss = F.cross_entropy(logits.view(b * t, -1), targets.reshape(b * t))
        return logits, loss

    # ------------------------------------------------------------------ saving and loading

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write config.json and model.safetensors in the layout of transformers' Llama."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        c = self.config
        hf_config = {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "vocab_size": c.vocab_size,
            "hidden_size": c.hidden_size,
            "intermediate_size": c.intermediate_size,
            "num_hidden_layers": c.n_layer,
            "num_attention_heads": c.n_head,
            "num_key_value_heads": c.n_kv_head,
            "head_dim": c.head_dim,
            "hidden_act": "silu",
            "max_position_embeddings": c.max_position_embeddings,
            "rms_norm_eps": c.rms_norm_eps,
            "rope_theta": c.rope_theta,  # older transformers read this key
            "rope_parameters": {"rope_type": "default", "rope_theta": c.rope_theta},
            "attention_bias": False,
            "mlp_bias": False,
            "tie_word_embeddings": c.tie_word_embeddings,
            "bos_token_id": None,
            "eos_token_id": None,
            "groundup": asdict(c),
        }
        tensors = {
            name: tensor.detach().cpu().contiguous()
            for name, tensor in self.state_dict().items()
            if not (c.tie_word_embeddings and name == "lm_head.weight")  # stored once
        }
        atomic_write(directory / "model.safetensors", lambda tmp: save_file(tensors, str(tmp)))
        atomic_write_json(directory / "config.json", hf_config)
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str | torch.device = "cpu") -> Llama:
        """Load a folder written by `save_pretrained` or by transformers' LlamaForCausalLM
        (one model.safetensors, or shards listed in model.safetensors.index.json). Weights
        stored in bfloat16 or float16 are loaded into float32."""
        from safetensors.torch import load_file

        directory = Path(directory)
        raw = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        if "groundup" in raw:
            known = {f.name for f in fields(LlamaConfig)}
            config = LlamaConfig(**{k: v for k, v in raw["groundup"].items() if k in known})
        else:
            config = _config_from_hf(raw, directory)
        model = cls(config)

        index = directory / "model.safetensors.index.json"
        if index.is_file():
            shards = sorted(
                set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
            )
            stored = {
                k: v for shard in shards for k, v in load_file(str(directory / shard)).items()
            }
        else:
            stored = load_file(str(directory / "model.safetensors"))
        state = {}
        for name in model.state_dict():
            if config.tie_word_embeddings and name == "lm_head.weight":
                continue  # the same tensor as model.embed_tokens.weight
            if name not in stored:
                raise KeyError(f"{directory} has no tensor '{name}'")
            state[name] = stored[name]
        model.load_state_dict(state, strict=False)  # strict would miss a tied lm_head.weight
        return model.to(device)


def _config_from_hf(raw: dict, directory: Path) -> LlamaConfig:
    """LlamaConfig from a transformers config.json; refuses what this model does not build."""
    rope = raw.get("rope_parameters") or raw.get("rope_scaling") or {}
    unsupported = {
        "hidden_act": raw.get("hidden_act", "silu") != "silu",
        "attention_bias": raw.get("attention_bias", False),
        "mlp_bias": raw.get("mlp_bias", False),
        "rope_type": rope.get("rope_type", rope.get("type", "default")) != "default",
        "head_dim": raw.get("head_dim")
        not in (None, raw["hidden_size"] // raw["num_attention_heads"]),
    }
    bad = [key for key, is_bad in unsupported.items() if is_bad]
    if bad:
        raise ValueError(f"{directory / 'config.json'}: unsupported Llama settings {bad}")
    return LlamaConfig(
        vocab_size=raw["vocab_size"],
        hidden_size=raw["hidden_size"],
        intermediate_size=raw["intermediate_size"],
        n_layer=raw["num_hidden_layers"],
        n_head=raw["num_attention_heads"],
        n_kv_head=raw.get("num_key_value_heads") or raw["num_attention_heads"],
        max_position_embeddings=raw.get("max_position_embeddings", 2048),
        rope_theta=float(rope.get("rope_theta", raw.get("rope_theta", 10000.0))),
        rms_norm_eps=raw.get("rms_norm_eps", 1e-6),
        tie_word_embeddings=raw.get("tie_word_embeddings", False),
    )
