from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from groundup.data.corpus import load_corpus
from groundup.labs import llama, runner
from groundup.labs.runner import LabError
from groundup.models.gpt import GPT
from groundup.models.llama import Llama, LlamaConfig


@pytest.fixture(scope="module")
def corpus_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the embedded corpus once for the whole module."""
    home = tmp_path_factory.mktemp("corpus-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GROUNDUP_HOME", str(home))
        load_corpus()
    return home


@pytest.fixture
def home(corpus_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GROUNDUP_HOME", str(corpus_home))
    return corpus_home


def micro(out: Path, **overrides: object) -> llama.Config:
    return runner.make_config(
        llama.Config, llama.PRESETS, "micro", out=str(out), quiet=True, **overrides
    )


def test_micro_both_models_learn_at_matched_size(home: Path, tmp_path: Path) -> None:
    report = llama.run(micro(tmp_path))
    m = report.metrics
    # Stated margin: both models end well below the unigram baseline (~3.3 nats per
    # character on the corpus); the micro runs reach about 2.7-2.75.
    for variant in ("gpt2", "llama"):
        assert m[f"val_loss_{variant}"] < m["unigram_val_loss"] - 0.4, variant
        assert m[f"tokens_per_s_{variant}"] > 0
    # matched parameter count: within one SwiGLU unit (3 * n_embd * n_layer weights)
    assert abs(m["params_llama"] - m["params_gpt2"]) <= 3 * 48 * 2
    # KV cache: bytes per token computed from the shapes equal the measured cache, and
    # halving the key/value heads halves it
    head_dim = 48 // 4
    assert [m[f"kv_bytes_per_token_{kv}kv"] for kv in (4, 2, 1)] == [
        2 * 2 * kv * head_dim * 4 for kv in (4, 2, 1)
    ]
    assert "| 4 | 768 | 768 | 1× |" in report.text

    evals = [
        json.loads(line)
        for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
        if '"eval"' in line
    ]
    assert {r["model"] for r in evals} == {"gpt2", "llama"}
    for variant in ("gpt2", "llama"):
        losses = [r["val_loss"] for r in evals if r["model"] == variant]
        assert losses[-1] < losses[0] - 1.0  # from about ln(V) ~ 4.6 down
    for name in ("val_loss.png", "kv_cache.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.text.startswith((tmp_path / "results.md").read_text(encoding="utf-8"))
    sample = (tmp_path / "samples.txt").read_text(encoding="utf-8")
    assert len(sample) == 60 + 1 and sample[:-1] in report.text
    loaded = Llama.from_pretrained(tmp_path / "model")
    assert loaded.config.n_kv_head == 2 and loaded.config.tie_word_embeddings


def test_ablation_swaps_exactly_one_piece(home: Path) -> None:
    cfg = runner.make_config(llama.Config, llama.PRESETS, "micro", quiet=True)
    vocab = 50
    base = llama.build("gpt2", cfg, vocab)
    norm, mlp, rope = (llama.build(v, cfg, vocab) for v in ("rmsnorm", "swiglu", "rope"))
    assert all(isinstance(m, GPT) for m in (base, norm, mlp, rope))
    assert type(norm.transformer.h[0].ln_1).__name__ == "RMSNorm"
    assert type(norm.transformer.h[0].mlp) is type(base.transformer.h[0].mlp)
    assert type(mlp.transformer.h[0].mlp).__name__ == "MLP" and hasattr(
        mlp.transformer.h[0].mlp, "gate_proj"
    )
    # SwiGLU at the parameter count of the GELU MLP, to within one unit of width
    assert abs(llama.trainable(mlp) - llama.trainable(base)) <= 3 * 48 * 2
    # RoPE: the position table is frozen at zero, and the attention now depends on position
    assert not rope.transformer.wpe.weight.requires_grad
    assert llama.trainable(rope) == llama.trainable(base) - 32 * 48
    q = torch.randn(1, 1, 5, 12)
    out = llama.rope_attention()(q, q, q)
    plain = torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert not torch.allclose(out, plain)


def test_kv_cache_bytes_per_token_computed_equals_measured() -> None:
    # head_dim 128 as in Llama 2 and 3; 8 query heads, one layer to keep it small
    config = LlamaConfig(vocab_size=10, hidden_size=1024, intermediate_size=8, n_layer=1, n_head=8)
    grouped = LlamaConfig(**{**config.__dict__, "n_kv_head": 2})
    assert llama.kv_cache_bytes(config, 3) == (2 * 8 * 128 * 4,) * 2
    assert llama.kv_cache_bytes(grouped, 3) == (2 * 2 * 128 * 4,) * 2


def test_rejects_key_value_heads_that_do_not_divide(home: Path, tmp_path: Path) -> None:
    with pytest.raises(LabError, match="n_kv_head"):
        llama.run(micro(tmp_path, n_kv_head=3))
