"""The GLUE TSV reader: SST-2's layout, other column orders, and errors that name file and line."""

from __future__ import annotations

import pytest

from groundup.data.glue import GlueFormatError, read_glue_tsv


def write(tmp_path, text: str, name: str = "train.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_sst2_layout_with_quotes_and_trailing_spaces(tmp_path) -> None:
    path = write(tmp_path, 'sentence\tlabel\nit \'s a "charming" film \t1\ndull , flat \t0\n\n')
    sentences, labels = read_glue_tsv(path)
    assert sentences == ['it \'s a "charming" film', "dull , flat"]
    assert labels == [1, 0]


def test_other_column_orders_and_names(tmp_path) -> None:
    path = write(tmp_path, "\ufeffid\tlabel\tsentence\n7\t2\tthree classes\n")
    assert read_glue_tsv(path) == (["three classes"], [2])
    path = write(tmp_path, "text\ty\nhello\t1\n", "other.tsv")
    assert read_glue_tsv(path, text_column="text", label_column="y") == (["hello"], [1])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("text\tlabel\nx\t1\n", r"train.tsv:1: .*'sentence'"),
        ("sentence\tlabel\ngood\t1\nbad\n", r"train.tsv:3: expected 2 tab-separated fields, got 1"),
        ("sentence\tlabel\ngood\t1\nbad\tx\ty\n", r"train.tsv:3: expected 2"),
        ("sentence\tlabel\ngood\tpositive\n", r"train.tsv:2: the label must be an integer"),
        ("sentence\tlabel\n", "no examples"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, content: str, message: str) -> None:
    with pytest.raises(GlueFormatError, match=message):
        read_glue_tsv(write(tmp_path, content))


def test_missing_and_non_utf8_files(tmp_path) -> None:
    with pytest.raises(GlueFormatError, match="not found"):
        read_glue_tsv(tmp_path / "missing.tsv")
    path = tmp_path / "latin1.tsv"
    path.write_bytes("sentence\tlabel\nschön\t1\n".encode("latin-1"))
    with pytest.raises(GlueFormatError, match="not UTF-8"):
        read_glue_tsv(path)
