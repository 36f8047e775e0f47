"""runner.load_text: where the text comes from, and max_chars."""

from __future__ import annotations

import pytest

from groundup.labs import runner


def test_load_text_keeps_the_first_max_chars(tmp_path) -> None:
    path = tmp_path / "input.txt"
    path.write_text("abcdefghij" * 10, encoding="utf-8")
    text, source = runner.load_text(path, max_chars=25)
    assert text == ("abcdefghij" * 10)[:25] and source == str(path)
    assert runner.load_text(path)[0] == "abcdefghij" * 10  # 0: all of it


def test_load_text_checks_min_chars_before_cutting(tmp_path) -> None:
    path = tmp_path / "input.txt"
    path.write_text("x" * 100, encoding="utf-8")
    assert len(runner.load_text(path, min_chars=100, max_chars=10)[0]) == 10
    with pytest.raises(runner.LabError):
        runner.load_text(path, min_chars=101)


def test_load_text_cuts_the_embedded_corpus() -> None:
    full, source = runner.load_text(None)
    cut, _ = runner.load_text(None, max_chars=500)
    assert source == "the embedded corpus" and cut == full[:500] and len(full) > 500
