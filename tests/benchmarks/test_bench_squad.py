"""The SQuAD benchmark on a generated SQuAD v1.1 file and a tiny random BERT folder."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path
from types import ModuleType

import pytest
import torch

from groundup.models.bert import Bert, BertConfig
from groundup.text.wordpiece import WordPieceTokenizer

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_squad.py"
CITIES = ["Vienna", "Lisbon", "Oslo", "Prague", "Dublin", "Geneva"]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_squad", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def squad_file(path: Path, articles: int) -> list[str]:
    rng = random.Random(0)
    data, texts = [], []
    for a in range(articles):
        paragraphs = []
        for p in range(2):
            city = rng.choice(CITIES)
            filler = " ".join(rng.choice(CITIES) for _ in range(12))
            context = f"Long ago {filler}. The museum number {a}{p} is in {city} today."
            texts.append(context)
            qa = {
                "id": f"{a}-{p}",
                "question": f"Where is museum number {a}{p}?",
                "answers": [{"text": city, "answer_start": context.rindex(city)}],
            }
            paragraphs.append({"context": context, "qas": [qa]})
        data.append({"title": f"article {a}", "paragraphs": paragraphs})
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return texts


def tiny_bert_folder(folder: Path, texts: list[str]) -> Path:
    tokenizer = WordPieceTokenizer.train(texts + ["where is museum number"], vocab_size=120)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    return Bert(config).save_pretrained(folder)


def test_prints_em_and_f1_of_both_models_as_json_lines(bench, tmp_path, capsys) -> None:
    texts = squad_file(tmp_path / "squad.json", articles=5)
    folder = tiny_bert_folder(tmp_path / "bert", texts)
    bench.main(
        ["--data", str(tmp_path / "squad.json"), "--model", str(folder),
         "--train-articles", "3", "--test-articles", "2", "--max-length", "24",
         "--stride", "6", "--epochs", "2", "--batch-size", "4", "--threads", "1"]
    )  # fmt: skip
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    figures = {line["name"]: line for line in lines}
    for model in ("pretrained", "random_init"):
        for metric in ("exact_match", "f1"):
            figure = figures[f"{model}_{metric}"]
            assert figure["unit"] == "%" and 0.0 <= figure["value"] <= 100.0
        assert figures[f"{model}_train_seconds"]["value"] > 0
    first = figures["pretrained_f1"]
    assert (first["train_questions"], first["test_questions"]) == (6, 4)
    assert first["train_windows"] > first["train_questions"]  # long contexts were split
    assert figures["random_init_f1"]["lr"] == 3e-4
    assert first["group_by_length"] is True and first["attention_dropout"] == 0.0


def test_refuses_more_articles_than_the_file_has(bench, tmp_path) -> None:
    squad_file(tmp_path / "squad.json", articles=3)
    with pytest.raises(ValueError, match="the data has 3"):
        bench.main(["--data", str(tmp_path / "squad.json"), "--model", str(tmp_path)])
