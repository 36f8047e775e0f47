"""Lab `llama`: a GPT-2 block against a Llama block, one change at a time, and the KV cache.

On the embedded corpus (or `--data FILE`), character level, it trains with the same data,
steps, batches and learning-rate schedule:

- "GPT-2": models/gpt.py (LayerNorm, GELU MLP, learned positions);
- three GPT-2s with one piece swapped for Llama's ("ablation"): RMSNorm for every LayerNorm,
  SwiGLU for the GELU MLP (at the same parameter count), RoPE for the learned positions;
- "Llama": models/llama.py with all of it plus grouped-query attention, its SwiGLU width
  chosen so that the whole model has the parameter count of the GPT-2.

Then it measures the KV cache of the Llama for n_kv_head = n_head, n_head/2 and 1: bytes per
token computed from the shapes and measured on a real cache after a prefill.

Artefacts: config.json, metrics.jsonl, val_loss.png (validation loss of every model),
kv_cache.png, results.md (both tables), model/ (the Llama in Hugging Face's layout) and
samples.txt (text the Llama writes, generated through its KV cache).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.data.text import CharTokenizer, train_val_split
from groundup.files import atomic_write_text
from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.gpt import unigram_loss
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.models.generation import generate
from groundup.models.gpt import GPT, GPTConfig
from groundup.models.kv_cache import KVCache
from groundup.models.llama import MLP, Llama, LlamaConfig, RMSNorm
from groundup.nn.positions import apply_rope
from groundup.train.trainer import TrainConfig, Trainer


@dataclass
class Config(LabConfig):
    n_layer: int = 2
    n_head: int = 4
    n_kv_head: int = 2  # key/value heads of the trained Llama
    n_embd: int = 64
    block_size: int = 64
    batch_size: int = 16
    max_iters: int = 700
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup_iters: int = 50
    eval_interval: int = 100
    eval_iters: int = 10
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    ablation: bool = True  # also train the three GPT-2s with one piece swapped
    cache_tokens: int = 256  # prompt length for the KV-cache measurement
    sample_tokens: int = 300  # characters the trained Llama writes at the end
    temperature: float = 0.8


PRESETS: dict[str, dict[str, object]] = {
    "micro": {
        "n_embd": 48,
        "block_size": 32,
        "max_iters": 200,
        "warmup_iters": 20,
        "eval_interval": 50,
        "ablation": False,
        "cache_tokens": 64,
        "sample_tokens": 60,
    },
    "tiny": {},
    "full": {
        "n_layer": 6,
        "n_head": 8,
        "n_kv_head": 2,
        "n_embd": 256,
        "block_size": 128,
        "batch_size": 32,
        "max_iters": 3000,
        "lr": 1e-3,
        "min_lr": 1e-4,
        "warmup_iters": 100,
        "eval_interval": 250,
        "eval_iters": 40,
        "cache_tokens": 1024,
    },
}

FIELD_HELP: dict[str, Msg] = {
    "n_kv_head": Msg(
        "key/value heads of the trained Llama (must divide n_head)",
        "Key/Value-Köpfe des trainierten Llama (muss n_head teilen)",
    ),
    "ablation": Msg(
        "also train GPT-2 with one piece swapped: RMSNorm, SwiGLU, RoPE",
        "zusätzlich GPT-2 mit je einem ausgetauschten Teil trainieren: RMSNorm, SwiGLU, RoPE",
    ),
    "cache_tokens": Msg(
        "prompt length for measuring the KV cache",
        "Länge des Prompts, an dem der KV-Cache gemessen wird",
    ),
}

BAD_HEADS = Msg(
    "n_kv_head ({kv}) must divide n_head ({heads}), and n_embd ({embd}) must be divisible by "
    "n_head into an even head size.",
    "n_kv_head ({kv}) muss n_head ({heads}) teilen, und n_embd ({embd}) muss sich durch n_head "
    "in eine gerade Kopfgröße teilen lassen.",
)
SAMPLE = Msg("The trained Llama writes", "Das trainierte Llama schreibt")
VARIANT_NAMES = {
    "gpt2": Msg("GPT-2", "GPT-2"),
    "rmsnorm": Msg("GPT-2 + RMSNorm", "GPT-2 + RMSNorm"),
    "swiglu": Msg("GPT-2 + SwiGLU", "GPT-2 + SwiGLU"),
    "rope": Msg("GPT-2 + RoPE", "GPT-2 + RoPE"),
    "llama": Msg("Llama (all four)", "Llama (alle vier)"),
}

# ---------------------------------------------------------------- the models


def gpt2(cfg: Config, vocab_size: int) -> GPT:
    return GPT(
        GPTConfig(
            vocab_size=vocab_size,
            block_size=cfg.block_size,
            n_layer=cfg.n_layer,
            n_head=cfg.n_head,
            n_embd=cfg.n_embd,
        )
    )


def _llama_config(cfg: Config, vocab_size: int, intermediate: int, n_kv_head: int) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.n_embd,
        intermediate_size=intermediate,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        n_kv_head=n_kv_head,
        max_position_embeddings=cfg.block_size,
        tie_word_embeddings=True,  # as in GPT-2, so the comparison changes nothing else
    )


def swiglu_width(n_embd: int) -> int:
    """SwiGLU width with the weights of a 4x GELU MLP: 3 * C * H = 8 * C^2 + 5 * C (biases)."""
    return round((8 * n_embd + 5) / 3)


def matched_llama(cfg: Config, vocab_size: int, target_params: int) -> Llama:
    """The Llama whose SwiGLU width makes its parameter count closest to target_params."""

    def count(width: int) -> int:
        return Llama(_llama_config(cfg, vocab_size, width, cfg.n_kv_head)).num_params()

    one, per_unit = count(1), count(2) - count(1)  # the count is linear in the width
    width = max(1, 1 + round((target_params - one) / per_unit))
    return Llama(_llama_config(cfg, vocab_size, width, cfg.n_kv_head))


def with_rmsnorm(model: GPT) -> GPT:
    """Every LayerNorm replaced by an RMSNorm (no mean, no bias)."""
    c = model.config.n_embd
    for block in model.transformer.h:
        block.ln_1, block.ln_2 = RMSNorm(c, eps=1e-5), RMSNorm(c, eps=1e-5)
    model.transformer.ln_f = RMSNorm(c, eps=1e-5)
    return model


def with_swiglu(model: GPT) -> GPT:
    """Every GELU MLP replaced by a SwiGLU with about the same number of weights."""
    c = model.config.n_embd
    config = LlamaConfig(vocab_size=1, hidden_size=c, intermediate_size=swiglu_width(c), n_head=1)
    for block in model.transformer.h:
        block.mlp = MLP(config)
        for linear in (block.mlp.gate_proj, block.mlp.up_proj, block.mlp.down_proj):
            nn.init.normal_(linear.weight, std=0.02)  # GPT-2's init for the new matrices
    return model


def rope_attention(theta: float = 10000.0) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """An attention function for GPT.set_attention that rotates queries and keys first."""

    def attend(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        q, k = apply_rope(q, theta=theta), apply_rope(k, theta=theta)
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    return attend


def with_rope(model: GPT) -> GPT:
    """Learned positions switched off (a frozen zero table) and RoPE inside every attention."""
    wpe = model.transformer.wpe.weight
    with torch.no_grad():
        wpe.zero_()
    wpe.requires_grad_(False)
    model.set_attention(rope_attention())
    return model


def build(variant: str, cfg: Config, vocab_size: int) -> nn.Module:
    if variant == "llama":
        return matched_llama(cfg, vocab_size, gpt2(cfg, vocab_size).num_params(False))
    swap = {"gpt2": lambda m: m, "rmsnorm": with_rmsnorm, "swiglu": with_swiglu, "rope": with_rope}
    return swap[variant](gpt2(cfg, vocab_size))


def trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------- the KV cache


@torch.no_grad()
def kv_cache_bytes(config: LlamaConfig, tokens: int) -> tuple[int, int]:
    """(computed, measured) bytes per token of a float32 KV cache. Computed: keys and values
    of n_kv_head heads of head_dim numbers in every layer. Measured: the tensors a real
    cache holds after a prefill of `tokens` tokens."""
    computed = 2 * config.n_layer * config.n_kv_head * config.head_dim * 4
    model = Llama(config).eval()
    cache = KVCache()
    model(torch.zeros(1, tokens, dtype=torch.long), cache=cache)
    stored = sum(t.numel() * t.element_size() for t in [*cache.keys, *cache.values])
    return computed, stored // len(cache)


def kv_cache_table(cfg: Config, vocab_size: int) -> list[dict[str, float | int]]:
    rows = []
    for n_kv in sorted({cfg.n_head, max(1, cfg.n_head // 2), 1}, reverse=True):
        if cfg.n_head % n_kv:
            continue
        config = _llama_config(cfg, vocab_size, swiglu_width(cfg.n_embd), n_kv)
        computed, measured = kv_cache_bytes(config, cfg.cache_tokens)
        rows.append(
            {
                "n_kv_head": n_kv,
                "bytes_per_token": computed,
                "measured_bytes_per_token": measured,
                "saving": cfg.n_head / n_kv,
            }
        )
    return rows


# ---------------------------------------------------------------- the run


def run(cfg: Config) -> LabReport:
    timer = runner.Timer()
    heads_ok = cfg.n_head % cfg.n_kv_head == 0 and cfg.n_embd % (2 * cfg.n_head) == 0
    if cfg.n_kv_head < 1 or cfg.n_head < 1 or not heads_ok:
        raise LabError(BAD_HEADS.get(kv=cfg.n_kv_head, heads=cfg.n_head, embd=cfg.n_embd))
    device = runner.resolve_device(cfg.device)
    out = runner.start(cfg, "llama")
    with runner.one_torch_thread():  # small tensors: a second thread only waits
        return _run(cfg, device, out, timer)


def _run(cfg: Config, device: str, out: Path, timer: runner.Timer) -> LabReport:
    text = runner.load_text(cfg.data, min_chars=max(1000, 20 * (cfg.block_size + 1)))[0]
    tokenizer = CharTokenizer.from_text(text)
    data = torch.tensor(tokenizer.encode(text), dtype=torch.int32)
    train_data, val_data = train_val_split(data)
    unigram = unigram_loss(train_data, val_data, tokenizer.vocab_size)

    variants = ["gpt2", "rmsnorm", "swiglu", "rope", "llama"] if cfg.ablation else ["gpt2", "llama"]
    metrics_log = runner.MetricsLog(out / "metrics.jsonl")
    results: dict[str, dict[str, float | int]] = {}
    curves: dict[str, tuple[list[float], list[float]]] = {}
    models: dict[str, nn.Module] = {}
    try:
        for variant in variants:
            torch.manual_seed(cfg.seed)  # every model starts from the same random stream
            model = build(variant, cfg, tokenizer.vocab_size)
            result = _train(model, variant, cfg, device, train_data, val_data, metrics_log)
            steps = [h["step"] for h in result.history]
            curves[VARIANT_NAMES[variant].get()] = (steps, [h["val_loss"] for h in result.history])
            results[variant] = {
                "val_loss": round(result.val_loss, 4),
                "train_loss": round(result.train_loss, 4),
                "params": trainable(model),
                "tokens_per_s": round(result.tokens_per_s),
            }
            models[variant] = model
    finally:
        metrics_log.close()

    steps = next(iter(curves.values()))[0]
    curves["unigram baseline"] = (steps, [unigram] * len(steps))
    runner.save_line_plot(
        out / "val_loss.png",
        curves,
        title="GPT-2 → Llama",
        xlabel="step",
        ylabel="validation cross-entropy (nats / character)",
    )
    cache_rows = kv_cache_table(cfg, tokenizer.vocab_size)
    _plot_cache(out, cache_rows, cfg)
    tables = _tables(results, cache_rows, cfg)
    atomic_write_text(out / "results.md", tables)
    llama = models["llama"]
    llama.save_pretrained(out / "model")
    tokenizer.save(out / "model" / "tokenizer.json")
    sample = _sample(llama.eval(), tokenizer, cfg, device)
    atomic_write_text(out / "samples.txt", sample + "\n")

    metrics: dict[str, float | int | str] = {"unigram_val_loss": round(unigram, 4)}
    for variant, row in results.items():
        for key, value in row.items():
            metrics[f"{key}_{variant}"] = value
    for row in cache_rows:
        metrics[f"kv_bytes_per_token_{row['n_kv_head']}kv"] = row["measured_bytes_per_token"]
    metrics["vocab_size"] = tokenizer.vocab_size
    metrics["llama_intermediate_size"] = llama.config.intermediate_size
    return LabReport(
        lab="llama",
        out_dir=out,
        metrics=metrics,
        artifacts={
            "metrics": out / "metrics.jsonl",
            "validation loss": out / "val_loss.png",
            "KV cache": out / "kv_cache.png",
            "tables": out / "results.md",
            "model": out / "model",
            "sample": out / "samples.txt",
        },
        text=f"{tables}\n{SAMPLE.get()}:\n{sample}",
        seconds=timer.seconds,
    )


def _train(
    model: nn.Module,
    variant: str,
    cfg: Config,
    device: str,
    train_data: Tensor,
    val_data: Tensor,
    metrics_log: runner.MetricsLog,
):
    train_cfg = TrainConfig(
        max_iters=cfg.max_iters,
        batch_size=cfg.batch_size,
        block_size=cfg.block_size,
        lr=cfg.lr,
        min_lr=cfg.min_lr,
        warmup_iters=cfg.warmup_iters,
        weight_decay=cfg.weight_decay,
        grad_clip=cfg.grad_clip,
        eval_interval=cfg.eval_interval,
        eval_iters=cfg.eval_iters,
        seed=cfg.seed,  # the same batches for every model
        device=device,
    )

    def log(**record: object) -> None:
        metrics_log.log(model=variant, **record)

    trainer = Trainer(model, train_data, val_data, train_cfg, log=log)
    with runner.progress(cfg.max_iters, VARIANT_NAMES[variant].get(), quiet=cfg.quiet) as bar:
        return trainer.fit(bar)


def _sample(model: Llama, tokenizer: CharTokenizer, cfg: Config, device: str) -> str:
    """Text from the Llama, one token per step through the KV cache (models/generation.py)."""
    start = "\n" if "\n" in tokenizer.stoi else tokenizer.chars[0]
    idx = torch.tensor([[tokenizer.stoi[start]]], device=device)
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    out = generate(
        model,
        idx,
        max_new_tokens=cfg.sample_tokens,
        temperature=cfg.temperature,
        generator=generator,
    )
    return tokenizer.decode(out[0, 1:].cpu())


def _tables(
    results: dict[str, dict[str, float | int]],
    cache_rows: list[dict[str, float | int]],
    cfg: Config,
) -> str:
    lines = [
        "| model | parameters | val loss | Δ vs GPT-2 | tokens/s |",
        "|---|---:|---:|---:|---:|",
    ]
    base = results["gpt2"]["val_loss"]
    for variant, row in results.items():
        delta = row["val_loss"] - base
        lines.append(
            f"| {VARIANT_NAMES[variant].get()} | {row['params']:,} | {row['val_loss']:.4f} "
            f"| {delta:+.4f} | {row['tokens_per_s']:,} |"
        )
    head_dim = cfg.n_embd // cfg.n_head
    lines += [
        "",
        f"KV cache, float32, {cfg.n_layer} layers × {cfg.n_head} query heads × head_dim "
        f"{head_dim}, measured after {cfg.cache_tokens} tokens:",
        "",
        "| n_kv_head | bytes/token (2·layers·n_kv_head·head_dim·4) | measured | smaller by |",
        "|---:|---:|---:|---:|",
    ]
    for row in cache_rows:
        lines.append(
            f"| {row['n_kv_head']} | {row['bytes_per_token']:,} | "
            f"{row['measured_bytes_per_token']:,} | {row['saving']:g}× |"
        )
    return "\n".join(lines) + "\n"


def _plot_cache(out: Path, cache_rows: list[dict[str, float | int]], cfg: Config) -> None:
    plt = runner.pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    labels = [f"n_kv_head={row['n_kv_head']}" for row in cache_rows]
    ax.bar(labels, [row["measured_bytes_per_token"] for row in cache_rows], color="tab:blue")
    ax.set_ylabel("KV-cache bytes per token (float32)")
    ax.set_title(f"{cfg.n_head} query heads, {cfg.n_layer} layers")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(out / "kv_cache.png")
    plt.close(fig)
