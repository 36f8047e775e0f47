"""GLUE-style TSV files for sentence classification (SST-2, CoLA, ...).

Format: a header line naming the columns, separated by tabs (at least "sentence" and
"label"), then one example per line with the same number of tab-separated fields. Fields
are not quoted (GLUE's files contain bare quotes), so a line is split at tabs and nothing
else. Every problem is reported with the file and the line number.
"""

from __future__ import annotations

from pathlib import Path


class GlueFormatError(ValueError):
    """A GLUE TSV file that cannot be read; the message names the file and the line."""


def read_glue_tsv(
    path: str | Path, text_column: str = "sentence", label_column: str = "label"
) -> tuple[list[str], list[int]]:
    """(sentences, integer labels) from a GLUE-style TSV file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GlueFormatError(f"{path}: file not found") from None
    except OSError as error:
        raise GlueFormatError(f"{path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark would end up in the first column name
    except UnicodeDecodeError as error:
        raise GlueFormatError(f"{path}: not UTF-8 text (byte {error.start})") from None
    lines = text.splitlines()
    if not lines:
        raise GlueFormatError(f"{path}: the file is empty; expected a header line")
    header = lines[0].split("\t")
    missing = [name for name in (text_column, label_column) if name not in header]
    if missing:
        raise GlueFormatError(
            f"{path}:1: the header must name the columns {text_column!r} and {label_column!r} "
            f"(tab-separated); missing {missing}, got {header}"
        )
    text_at, label_at = header.index(text_column), header.index(label_column)
    sentences: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue  # a blank line, e.g. at the end of the file
        fields = line.split("\t")
        if len(fields) != len(header):
            raise GlueFormatError(
                f"{path}:{number}: expected {len(header)} tab-separated fields, got {len(fields)}"
            )
        try:
            labels.append(int(fields[label_at]))
        except ValueError:
            raise GlueFormatError(
                f"{path}:{number}: the label must be an integer, got {fields[label_at]!r}"
            ) from None
        sentences.append(fields[text_at].strip())
    if not sentences:
        raise GlueFormatError(f"{path}: no examples after the header")
    return sentences, labels
