from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup import i18n
from groundup.data.text import (
    CharTokenizer,
    TextFileError,
    get_batch,
    read_text,
    train_val_split,
)


def test_read_text_returns_the_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Grüße, world!\n", encoding="utf-8")
    assert read_text(path, min_chars=5) == "Grüße, world!\n"


def test_read_text_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TextFileError, match="missing.txt"):
        read_text(tmp_path / "missing.txt")


def test_read_text_gives_the_byte_position_of_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("abc café".encode("latin-1"))  # é is byte 0xE9 at offset 7
    with pytest.raises(TextFileError, match=r"not UTF-8 text \(byte 7\)"):
        read_text(path)
    i18n.set_lang("de")
    with pytest.raises(TextFileError, match=r"kein UTF-8-Text \(Byte 7\)"):
        read_text(path)


def test_read_text_rejects_a_too_small_file(tmp_path: Path) -> None:
    path = tmp_path / "small.txt"
    path.write_text("tiny", encoding="utf-8")
    with pytest.raises(TextFileError, match="has 4 characters; this lab needs at least 100"):
        read_text(path, min_chars=100)


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_tokenizer_round_trips_any_text(text: str) -> None:
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.vocab_size == len(set(text))
    assert all(0 <= i < tok.vocab_size for i in ids)


def test_tokenizer_ids_follow_sorted_characters_and_save_load(tmp_path: Path) -> None:
    tok = CharTokenizer.from_text("hello world")
    assert tok.chars == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert tok.encode("hold") == [3, 5, 4, 1]
    assert tok.decode(torch.tensor([3, 5, 4, 1])) == "hold"
    loaded = CharTokenizer.load(tok.save(tmp_path / "tok.json"))
    assert loaded.chars == tok.chars and loaded.encode("world") == tok.encode("world")
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        tok.encode("zebra")


def test_split_is_first_ninety_percent_train() -> None:
    data = torch.arange(1000)
    train, val = train_val_split(data)
    assert torch.equal(train, torch.arange(900)) and torch.equal(val, torch.arange(900, 1000))
    # the counts of nanoGPT's shakespeare_char split
    train, val = train_val_split(torch.zeros(1_115_394))
    assert (len(train), len(val)) == (1_003_854, 111_540)


def test_batches_are_windows_and_their_next_token_shift() -> None:
    data = torch.arange(100, dtype=torch.uint8)
    x, y = get_batch(data, block_size=8, batch_size=32, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (32, 8) and x.dtype == y.dtype == torch.long
    assert torch.equal(y[:, :-1], x[:, 1:])  # y is x shifted by one
    assert torch.equal(x[:, 1:] - x[:, :-1], torch.ones(32, 7, dtype=torch.long))  # contiguous
    assert int(y.max()) <= 99  # the last window ends at the last token
    # every start position 0..91 is possible, and only those
    starts = torch.cat(
        [get_batch(data, 8, 64, torch.Generator().manual_seed(s))[0][:, 0] for s in range(40)]
    )
    assert set(starts.tolist()) == set(range(92))


def test_batches_are_reproducible_with_a_generator() -> None:
    data = torch.randint(0, 50, (1000,))
    a = get_batch(data, 16, 4, torch.Generator().manual_seed(7))
    b = get_batch(data, 16, 4, torch.Generator().manual_seed(7))
    c = get_batch(data, 16, 4, torch.Generator().manual_seed(8))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_batches_need_more_tokens_than_the_block() -> None:
    with pytest.raises(ValueError, match="too few"):
        get_batch(torch.arange(8), block_size=8, batch_size=2)
