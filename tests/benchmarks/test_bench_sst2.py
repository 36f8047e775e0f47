"""The SST-2 fine-tuning benchmark on a tiny generated folder and a tiny random BERT."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from groundup.models.bert import Bert, BertConfig
from groundup.text.wordpiece import SPECIAL_TOKENS, WordPieceTokenizer

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_sst2.py"
GOOD, BAD = ["great", "moving", "funny", "superb"], ["dull", "awful", "flat", "tedious"]
NEUTRAL = ["the", "film", "is", "a", "story", "of", "its", "cast", "and", "director"]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_sst2", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_split(path: Path, n: int, seed: int) -> None:
    """Neutral words plus two sentiment words; label 1 = positive (GLUE's trailing space)."""
    rng = np.random.default_rng(seed)
    lines = ["sentence\tlabel"]
    for i in range(n):
        label = i % 2
        words = list(rng.choice(GOOD if label else BAD, 2)) + list(rng.choice(NEUTRAL, 4))
        lines.append(" ".join(rng.permutation(words)) + " \t" + str(label))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_model(folder: Path) -> None:
    """A tiny random BERT and a word-level vocabulary, in Hugging Face layout."""
    tokenizer = WordPieceTokenizer(
        {t: i for i, t in enumerate([*SPECIAL_TOKENS, *GOOD, *BAD, *NEUTRAL])}
    )
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32,
                        max_position_embeddings=16)  # fmt: skip
    Bert(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def test_prints_dev_accuracy_for_both_models(bench, tmp_path, capsys) -> None:
    write_split(tmp_path / "train.tsv", 160, seed=0)
    write_split(tmp_path / "dev.tsv", 40, seed=1)
    write_model(tmp_path / "model")
    threads = torch.get_num_threads()
    argv = ["--data", str(tmp_path), "--model", str(tmp_path / "model"), "--subset", "96",
            "--holdout", "20", "--epochs", "6", "--batch-size", "8", "--lr", "1e-2",
            "--threads", "1", "--max-length", "12", "--evals-per-epoch", "1"]  # fmt: skip
    assert bench.main(argv) == 0
    assert torch.get_num_threads() == threads  # the thread setting is given back
    figures = {}
    for line in capsys.readouterr().out.splitlines():
        record = json.loads(line)
        figures[record["name"]] = record
    for name in ("finetuned", "random"):
        dev = figures[f"dev_accuracy_{name}"]
        assert dev["train"] == 96 and dev["holdout"] == 20 and dev["dev"] == 40
        assert dev["steps"] <= 6 * 12  # 96 / 8 steps per epoch, early stopping may cut
        assert figures[f"train_seconds_{name}"]["value"] > 0
        assert 0.0 <= figures[f"dev_f1_{name}"]["value"] <= 1.0
    # the "pretrained" model here is random too, so both must learn the two word lists
    assert figures["dev_accuracy_finetuned"]["value"] >= 0.8
