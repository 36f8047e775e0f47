"""The BPE lab at the micro preset (the first 120,000 characters of the corpus).

Measured at micro: bytes per token on held-out English 1.00 (257, bytes only), 1.30 (300),
1.84 (500), 2.35 (1000); tokens per word at 1000: English 2.71, German 4.45, code 3.78.
The test asks that compression improves with every vocabulary size, reaches at least
2.0 bytes per token at 1000, and that German (never seen in training) needs at least 1.3
times as many tokens per word as English.
"""

from __future__ import annotations

import json

import pytest

from groundup.labs import runner
from groundup.labs.bpe import PRESETS, Config, run
from groundup.labs.runner import LabError
from groundup.text.bpe import BPETokenizer


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_compression_improves_with_vocab_size(tmp_path) -> None:
    report = run(micro(tmp_path))
    rows = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    assert [r["vocab_size"] for r in rows] == [257, 300, 500, 1000]
    ratios = [r["english_bytes_per_token"] for r in rows]
    assert ratios[0] == 1.0  # no merges: one token per byte
    assert all(a < b for a, b in zip(ratios, ratios[1:], strict=False))
    assert ratios[-1] >= 2.0
    m = report.metrics
    assert m["german_tokens_per_word"] > 1.3 * m["english_tokens_per_word"]
    assert m["merges_learned"] == 1000 - 257
    tokenizer = BPETokenizer.load(report.artifacts["tokenizer"])
    assert len(tokenizer.merges) == 743 and "first merges:" in report.text
    for name in ("compression_plot", "merge_counts_plot"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_user_file(tmp_path) -> None:
    path = tmp_path / "text.txt"
    path.write_text("Der Hund läuft über die Straße. " * 200, encoding="utf-8")
    m = run(micro(tmp_path / "out", data=str(path), vocab_sizes="300,400")).metrics
    # the file is German, so German compresses better than with the English corpus
    assert m["german_bytes_per_token_largest"] > m["code_bytes_per_token_largest"]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [({"device": "cuda"}, "CPU"), ({"vocab_sizes": "300,x"}, "vocab_sizes"),
     ({"vocab_sizes": "200"}, "257"), ({"data": "/nonexistent/file.txt"}, "not found"),
     ({"max_chars": 0}, "at least")],
)  # fmt: skip
def test_bad_settings_raise_lab_errors(tmp_path, overrides, words: str) -> None:
    short = tmp_path / "short.txt"
    short.write_text("too short " * 10, encoding="utf-8")
    overrides = {"data": str(short), **overrides}
    with pytest.raises(LabError, match=words):
        run(micro(tmp_path, **overrides))
