from __future__ import annotations

import json
import math
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from groundup.data.corpus import load_corpus
from groundup.data.text import CharTokenizer
from groundup.labs import gpt, runner
from groundup.labs.runner import LabError
from groundup.models.gpt import GPT
from groundup.text.bpe import BPETokenizer


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


def micro(out: Path, **overrides: object) -> gpt.Config:
    return runner.make_config(
        gpt.Config, gpt.PRESETS, "micro", out=str(out), quiet=True, **overrides
    )


def test_micro_learns_the_corpus_and_writes_every_artefact(home: Path, tmp_path: Path) -> None:
    report = gpt.run(micro(tmp_path))
    m = report.metrics
    # Stated margins: well below guessing uniformly (ln V ~ 4.56) and below the unigram
    # baseline (character frequencies, ~3.3); the micro run reaches about 2.7.
    assert m["uniform_loss"] == pytest.approx(math.log(m["vocab_size"]))
    assert m["val_loss"] < m["uniform_loss"] - 1.5
    assert m["val_loss"] < m["unigram_val_loss"] - 0.3
    assert m["iters"] == 200 and m["params"] > 0 and m["tokens_per_s"] > 0

    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [0, 50, 100, 150, 200]
    assert evals[-1]["val_loss"] == m["val_loss"] < evals[0]["val_loss"]
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "config.json").read_text())["n_embd"] == 48

    samples = (tmp_path / "samples.txt").read_text(encoding="utf-8")
    assert samples.count("--- ") == 3
    assert report.text.startswith("Sample:\n") and len(report.text) > 120

    model = GPT.from_pretrained(tmp_path / "model")
    tokenizer = CharTokenizer.load(tmp_path / "model" / "tokenizer.json")
    assert model.num_params() == m["params"] and tokenizer.vocab_size == m["vocab_size"]
    assert torch.load(tmp_path / "ckpt.pt", weights_only=True)["step"] == 200


@contextmanager
def progress_that_stops_at(step: int, total: int, description: str, quiet: bool = False):
    class Bar:
        done = 0

        def update(self, advance: int = 1, info: str | None = None, completed: int | None = None):
            self.done = completed if completed is not None else self.done + advance
            if self.done >= step:
                raise KeyboardInterrupt

    yield Bar()


def test_resume_through_the_lab_finishes_exactly_like_one_run(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = {"max_iters": 100, "eval_interval": 25, "sample_tokens": 40}
    straight = gpt.run(micro(tmp_path / "straight", **short))

    with monkeypatch.context() as patch:
        patch.setattr(runner, "progress", lambda *a, **k: progress_that_stops_at(60, *a, **k))
        with pytest.raises(KeyboardInterrupt):
            gpt.run(micro(tmp_path / "resumed", **short))
    assert torch.load(tmp_path / "resumed" / "ckpt.pt", weights_only=True)["step"] == 50

    resumed = gpt.run(micro(tmp_path / "resumed", resume=True, **short))
    assert resumed.metrics["val_loss"] == straight.metrics["val_loss"]
    want = load_file(tmp_path / "straight" / "model" / "model.safetensors")
    got = load_file(tmp_path / "resumed" / "model" / "model.safetensors")
    assert want.keys() == got.keys()
    assert all(torch.equal(got[k], want[k]) for k in want)
    assert resumed.text == straight.text
    # the log holds the first part and the continuation
    steps = [
        json.loads(line)["step"]
        for line in (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
        if json.loads(line)["kind"] == "eval"
    ]
    assert steps == [0, 25, 50, 75, 100]


def test_resume_without_a_checkpoint_says_so(home: Path, tmp_path: Path) -> None:
    with pytest.raises(LabError, match="--resume needs a checkpoint"):
        gpt.run(micro(tmp_path, resume=True))


def test_trains_on_any_utf8_file(tmp_path: Path) -> None:
    data = tmp_path / "abc.txt"
    data.write_text("the cat sat on the mat. äöü!\n" * 200, encoding="utf-8")
    report = gpt.run(micro(tmp_path / "out", data=str(data), max_iters=60, sample_tokens=20))
    assert report.metrics["vocab_size"] == len(set(data.read_text(encoding="utf-8")))
    assert report.metrics["val_loss"] < report.metrics["uniform_loss"] - 1.0


def test_bad_data_files_are_lab_errors(tmp_path: Path) -> None:
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"valid start \xff\xfe" + b"x" * 5000)
    with pytest.raises(LabError, match=r"not UTF-8 text \(byte 12\)"):
        gpt.run(micro(tmp_path / "out", data=str(binary)))
    small = tmp_path / "small.txt"
    small.write_text("too short", encoding="utf-8")
    with pytest.raises(LabError, match="has 9 characters; this lab needs at least"):
        gpt.run(micro(tmp_path / "out", data=str(small)))


def test_bpe_tokens_learn_and_report_bits_per_character(home: Path, tmp_path: Path) -> None:
    with runner.one_torch_thread():  # tiny tensors: a second thread only waits
        report = gpt.run(
            micro(tmp_path, tokenizer="bpe", vocab_size=384, max_iters=120, eval_interval=60)
        )
    m = report.metrics
    assert m["tokenizer"] == "bpe" and m["vocab_size"] == 384
    # Stated margins: below uniform guessing (ln 384 ~ 5.95) and below the unigram baseline
    # of BPE tokens (~4.9); 120 steps reach about 4.4.
    assert m["val_loss"] < m["uniform_loss"] - 1.0
    assert m["val_loss"] < m["unigram_val_loss"] - 0.2
    # the merges compress: more than 1.5 characters per token (about 1.7 at 384 tokens)
    assert m["chars_per_token"] > 1.5
    assert m["val_perplexity"] == pytest.approx(math.exp(m["val_loss"]))
    bits = m["val_loss"] / math.log(2) / m["chars_per_token"]
    assert m["val_bits_per_char"] == pytest.approx(bits)
    assert m["val_bits_per_byte"] == pytest.approx(bits)  # the corpus is ASCII

    tokenizer = BPETokenizer.load(tmp_path / "model" / "tokenizer.json")
    assert tokenizer.vocab_size == 384
    # learned on the training split only: its encoding round-trips any text
    assert tokenizer.decode(tokenizer.encode_ordinary("naïve café ☕")) == "naïve café ☕"
    assert report.text.startswith("Sample:\n") and len(report.text) > 100  # decoded text


def test_bits_per_character_of_a_char_model_is_its_loss_in_bits(tmp_path: Path) -> None:
    data = tmp_path / "abc.txt"
    data.write_text("grüße aus köln. " * 400, encoding="utf-8")
    report = gpt.run(micro(tmp_path / "out", data=str(data), max_iters=20, sample_tokens=10))
    m = report.metrics
    assert m["chars_per_token"] == 1.0
    assert m["val_bits_per_char"] == pytest.approx(m["val_loss"] / math.log(2))
    # ü, ß and ö take two bytes in UTF-8: 19 bytes for 16 characters
    assert m["val_bits_per_byte"] == pytest.approx(m["val_bits_per_char"] * 16 / 19, rel=1e-3)


def test_unknown_tokenizers_are_lab_errors(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="tokenizer must be char or bpe"):
        gpt.run(micro(tmp_path, tokenizer="words"))
    with pytest.raises(LabError, match="vocab_size"):
        gpt.run(micro(tmp_path, tokenizer="bpe", vocab_size=200))
