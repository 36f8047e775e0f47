"""Line-aligned parallel corpora for translation: `train.en` and `train.de`, line i of one
file is the translation of line i of the other (Multi30k, WMT's plain-text releases, ...).

A corpus is a folder with one file per split and language, named `<split>.<lang>`. The two
files of a split must have the same number of lines; a line that is empty on only one side
breaks the alignment from there on, so both are errors that name the file and the line.
Pairs that are empty on both sides (a trailing blank line) are skipped.
"""

from __future__ import annotations

from pathlib import Path


class ParallelFormatError(ValueError):
    """A parallel corpus that cannot be read; the message names the file and the line."""


def _read_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ParallelFormatError(f"{path}: file not found") from None
    except OSError as error:
        raise ParallelFormatError(f"{path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParallelFormatError(f"{path}: not UTF-8 text (byte {error.start})") from None
    # split on newlines only: str.splitlines() would also cut at U+2028 or a form feed
    # inside a sentence and shift one side of the alignment
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.strip() for line in lines]


def read_parallel(source: str | Path, target: str | Path) -> list[tuple[str, str]]:
    """(source sentence, target sentence) pairs from two line-aligned files."""
    source, target = Path(source), Path(target)
    source_lines, target_lines = _read_lines(source), _read_lines(target)
    if len(source_lines) != len(target_lines):
        raise ParallelFormatError(
            f"{source} has {len(source_lines)} lines but {target} has {len(target_lines)}; "
            "line i of one file must be the translation of line i of the other"
        )
    pairs = []
    for number, (src, tgt) in enumerate(zip(source_lines, target_lines, strict=True), start=1):
        if not src and not tgt:
            continue
        if not src or not tgt:
            empty, other = (source, target) if not src else (target, source)
            raise ParallelFormatError(
                f"{empty}:{number}: the line is empty but line {number} of {other} is not; "
                "the files are out of step from here"
            )
        pairs.append((src, tgt))
    if not pairs:
        raise ParallelFormatError(f"{source} and {target}: no sentence pairs")
    return pairs


def read_parallel_split(
    folder: str | Path, split: str, source_lang: str = "en", target_lang: str = "de"
) -> list[tuple[str, str]]:
    """Pairs of one split of a corpus folder: `<folder>/<split>.<source_lang>` and
    `<folder>/<split>.<target_lang>`, e.g. train.en and train.de."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ParallelFormatError(f"{folder}: not a folder (expected e.g. {split}.{source_lang})")
    return read_parallel(folder / f"{split}.{source_lang}", folder / f"{split}.{target_lang}")
