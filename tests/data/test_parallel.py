from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.data.parallel import ParallelFormatError, read_parallel, read_parallel_split


def write_corpus(folder: Path, split: str, en: str, de: str) -> None:
    (folder / f"{split}.en").write_text(en, encoding="utf-8")
    (folder / f"{split}.de").write_text(de, encoding="utf-8")


def test_reads_aligned_pairs_of_a_split(tmp_path: Path) -> None:
    write_corpus(
        tmp_path,
        "train",
        "Two dogs play.\r\nA man reads a book.\n",
        "Zwei Hunde spielen.\r\nEin Mann liest ein Buch.\n",
    )
    assert read_parallel_split(tmp_path, "train") == [
        ("Two dogs play.", "Zwei Hunde spielen."),
        ("A man reads a book.", "Ein Mann liest ein Buch."),
    ]
    assert read_parallel_split(tmp_path, "train", "de", "en")[0] == (
        "Zwei Hunde spielen.",
        "Two dogs play.",
    )


def test_a_line_separator_inside_a_sentence_does_not_shift_the_alignment(tmp_path: Path) -> None:
    write_corpus(tmp_path, "val", "one\u2028still one\ntwo\n", "eins\nzwei\n")
    assert read_parallel_split(tmp_path, "val") == [
        ("one\u2028still one", "eins"),
        ("two", "zwei"),
    ]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.characters(blacklist_characters="\r\n\ufeff"), min_size=1).map(str.strip),
            st.text(st.characters(blacklist_characters="\r\n\ufeff"), min_size=1).map(str.strip),
        ).filter(lambda pair: all(pair)),
        min_size=1,
        max_size=8,
    )
)
def test_round_trip_of_written_pairs(pairs: list[tuple[str, str]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "x.en"), Path(folder, "x.de")
        source.write_text("\n".join(s for s, _ in pairs) + "\n", encoding="utf-8")
        target.write_text("\n".join(t for _, t in pairs), encoding="utf-8")
        assert read_parallel(source, target) == pairs


def test_lines_blank_on_both_sides_are_skipped(tmp_path: Path) -> None:
    write_corpus(tmp_path, "train", "a\n\nb\n\n", "x\n\ny\n\n")
    assert read_parallel_split(tmp_path, "train") == [("a", "x"), ("b", "y")]


@pytest.mark.parametrize(
    ("en", "de", "expected"),
    [
        ("a\nb\nc\n", "x\ny\n", r"train\.en has 3 lines but .*train\.de has 2"),
        ("a\n\nc\n", "x\ny\nz\n", r"train\.en:2: the line is empty but line 2 of .*train\.de"),
        ("a\nb\n", "x\n \n", r"train\.de:2: the line is empty"),
        ("\n\n", "\n\n", "no sentence pairs"),
    ],
)
def test_misaligned_files_name_the_file_and_line(
    tmp_path: Path, en: str, de: str, expected: str
) -> None:
    write_corpus(tmp_path, "train", en, de)
    with pytest.raises(ParallelFormatError, match=expected):
        read_parallel_split(tmp_path, "train")


def test_missing_folder_file_and_bad_encoding_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ParallelFormatError, match="not a folder"):
        read_parallel_split(tmp_path / "nowhere", "train")
    (tmp_path / "train.en").write_text("a\n", encoding="utf-8")
    with pytest.raises(ParallelFormatError, match=r"train\.de: file not found"):
        read_parallel_split(tmp_path, "train")
    (tmp_path / "train.de").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ParallelFormatError, match=r"train\.de: not UTF-8 text \(byte 0\)"):
        read_parallel_split(tmp_path, "train")
