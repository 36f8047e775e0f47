"""A GPT: a decoder-only Transformer that predicts the next token (here: the next character).

Read top to bottom: the config, then the modules in the order the data flows through them
(attention, MLP, block, the whole model), then generation, then saving and loading. The
forward pass follows the KV-cache contract of kv_cache.py, so generation.py can feed it one
new token at a time.

The layout follows GPT-2 (Radford et al. 2019) and nanoGPT: token and learned position
embeddings, pre-LayerNorm blocks, a final LayerNorm and an output layer that shares its
weights with the token embedding. Parameter names match Hugging Face's GPT2LMHeadModel, so
`save_pretrained` writes a folder that `transformers` opens as a GPT-2, and back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.files import atomic_write, atomic_write_json
from groundup.models import generation
from groundup.models.kv_cache import KVCache, attention_bias, positions


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int = 64  # the longest context the model sees
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True  # biases in the Linear layers and LayerNorms, as in GPT-2

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")


# (B, H, T, hs) queries, keys, values -> (B, H, T, hs); must apply the causal mask itself.
AttentionFn = Callable[[Tensor, Tensor, Tensor], Tensor]


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t only sees positions <= t.

    By default it calls PyTorch's fused `scaled_dot_product_attention`; set `attend` to any
    AttentionFn (for example one built on groundup.nn.attention) to swap the kernel.
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.attend: AttentionFn | None = None

    def forward(
        self, x: Tensor, mask: Tensor | None = None, cache: KVCache | None = None, layer: int = 0
    ) -> Tensor:
        """x: (B, T, C). mask: None for plain causal attention, else a boolean (B or 1, 1, T,
        past + T) from kv_cache.attention_bias. With a cache, the keys and values of the
        tokens before x come from it, and those of x are appended to it."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # (B, T, C) -> (B, n_head, T, head_size): each head attends on its own slice
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if cache is not None:
            k, v = cache.update(layer, k, v)  # now (B, n_head, past + T, head_size)
        if self.attend is None:
            p = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=p, is_causal=mask is None
            )
        elif mask is None:
            y = self.attend(q, k, v)
        else:
            raise ValueError("a custom attention function supports neither padding nor a cache")
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward: widen 4x, GELU, project back."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LayerNorm Transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(
        self, x: Tensor, mask: Tensor | None = None, cache: KVCache | None = None, layer: int = 0
    ) -> Tensor:
        x = x + self.attn(self.ln_1(x), mask, cache, layer)  # tokens exchange information
        x = x + self.mlp(self.ln_2(x))  # each token thinks on its own
        return x


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),  # token embedding
                wpe=nn.Embedding(config.block_size, config.n_embd),  # position embedding
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Weight tying: the same matrix reads tokens in and scores them on the way out.
        self.transformer.wte.weight = self.lm_head.weight

        # GPT-2 init: N(0, 0.02) everywhere, zero biases; the projections that write into the
        # residual stream get 0.02 / sqrt(2 * n_layer), so the stream's variance stays put as
        # two such additions per block pile up.
        self.apply(self._init_weights)
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_params(self, non_embedding: bool = True) -> int:
        """Number of parameters; by default without the position embedding (the token
        embedding is counted, since it doubles as the output layer)."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wpe.weight.numel()
        return n

    def forward(
        self,
        idx: Tensor,
        targets: Tensor | None = None,
        *,
        attention_mask: Tensor | None = None,
        cache: KVCache | None = None,
        last_only: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """idx, targets: (B, T) token ids. Returns logits (B, T, V) and the mean cross-entropy
        of predicting targets[:, t] from idx[:, :t+1] (None without targets).

        For generation (the contract in kv_cache.py): `attention_mask` (B, past + T) marks
        real tokens with 1 and left padding with 0; `cache` holds the keys and values of the
        `past` tokens before idx and receives those of idx. `last_only=True` computes the
        logits of the last position only, (B, 1, V): all that picking the next token needs.
        """
        b, t = idx.shape
        past = len(cache) if cache is not None else 0
        if past + t > self.config.block_size:
            raise ValueError(
                f"sequence of length {past + t} exceeds block_size {self.config.block_size}"
            )
        pos = positions(attention_mask, past, t, idx.device)  # (B or 1, T)
        mask = attention_bias(attention_mask, past, t, idx.device)  # None: plain causal
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for layer, block in enumerate(self.transformer.h):
            x = block(x, mask, cache, layer)
        if last_only:
            x = x[:, -1:]  # the output layer is the largest matrix: skip the other positions
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            if last_only:
                raise ValueError("targets need the logits of every position, not last_only")
            loss = F.cross_entropy(logits.view(b * t, -1), targets.reshape(b * t))
        return logits, loss

    def set_attention(self, attend: AttentionFn | None) -> None:
        """Use `attend` in every block instead of the fused kernel (None: back to the kernel)."""
        for block in self.transformer.h:
            block.attn.attend = attend

    def generate(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        greedy: bool = False,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Extend idx (B, T) by max_new_tokens tokens, one at a time, feeding each back in.

        Uses a KV cache; once the text is longer than block_size the model sees only the
        last block_size tokens. generation.generate has the other controls (padding,
        repetition penalty, eos, stop strings)."""
        return generation.generate(
            self,
            idx,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            greedy=greedy,
            generator=generator,
            max_context=self.config.block_size,
        )

    # ------------------------------------------------------------------ saving and loading
    # Hugging Face's GPT-2 stores these layers as Conv1D, whose weight is the transpose of
    # nn.Linear's; everything else has the same name and shape in both.
    _CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write config.json and model.safetensors in the layout of transformers' GPT-2."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        c = self.config
        hf_config = {
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "vocab_size": c.vocab_size,
            "n_positions": c.block_size,
            "n_embd": c.n_embd,
            "n_layer": c.n_layer,
            "n_head": c.n_head,
            "activation_function": "gelu",  # exact GELU (GPT-2 itself used the tanh form)
            "resid_pdrop": c.dropout,
            "embd_pdrop": c.dropout,
            "attn_pdrop": c.dropout,
            "layer_norm_epsilon": 1e-5,
            "tie_word_embeddings": True,
            "bos_token_id": None,  # characters have no special tokens
            "eos_token_id": None,
            "groundup": asdict(c),
        }
        tensors = {}
        for name, tensor in self.state_dict().items():
            if name == "lm_head.weight":
                continue  # tied to transformer.wte.weight, stored once
            tensor = tensor.t() if name.endswith(self._CONV1D) else tensor
            tensors[name] = tensor.detach().cpu().contiguous()
        if not c.bias:  # GPT-2 always has biases; zeros make the same function
            for name, param in self.named_parameters():
                if name.endswith("weight") and ("ln_" in name or name.endswith(self._CONV1D)):
                    size = param.shape[0]
                    tensors[name[: -len("weight")] + "bias"] = torch.zeros(size)
        atomic_write(directory / "model.safetensors", lambda tmp: save_file(tensors, str(tmp)))
        atomic_write_json(directory / "config.json", hf_config)
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str | torch.device = "cpu") -> GPT:
        """Load a folder written by `save_pretrained`, or a GPT-2 folder from transformers.

        OpenAI's GPT-2 checkpoints use the tanh approximation of GELU; loaded here they run
        with the exact GELU, so their logits differ slightly from transformers' own."""
        from safetensors.torch import load_file

        directory = Path(directory)
        raw = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        if "groundup" in raw:
            known = {f.name for f in fields(GPTConfig)}
            config = GPTConfig(**{k: v for k, v in raw["groundup"].items() if k in known})
        else:
            config = GPTConfig(
                vocab_size=raw["vocab_size"],
                block_size=raw["n_positions"],
                n_layer=raw["n_layer"],
                n_head=raw["n_head"],
                n_embd=raw["n_embd"],
                dropout=raw.get("resid_pdrop", 0.0),
            )
        model = cls(config)
        stored = load_file(str(directory / "model.safetensors"))
        # Checkpoints from the hub sometimes leave out the "transformer." prefix.
        stored = {
            k if k.startswith(("transformer.", "lm_head.")) else f"transformer.{k}": v
            for k, v in stored.items()
        }
        state = {}
        for name in model.state_dict():
            if name == "lm_head.weight":
                continue
            if name not in stored:
                raise KeyError(f"{directory / 'model.safetensors'} has no tensor '{name}'")
            tensor = stored[name]
            state[name] = tensor.t() if name.endswith(cls._CONV1D) else tensor
        model.load_state_dict(state, strict=False)  # lm_head.weight is wte.weight
        return model.to(device)
