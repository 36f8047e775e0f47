"""Lessons are Markdown with runnable ```python blocks: one source for the terminal,
Jupyter and the web. This module reads their structure and turns them into notebooks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$", re.M)


@dataclass(frozen=True)
class Block:
    kind: str  # "markdown" or "code"
    text: str
    lang: str = ""


def blocks(markdown: str) -> list[Block]:
    """Split a lesson into markdown and fenced-code blocks, in order."""
    out: list[Block] = []
    pos = 0
    for m in FENCE.finditer(markdown):
        before = markdown[pos : m.start()].strip("\n")
        if before.strip():
            out.append(Block("markdown", before))
        lang = m.group(1).lower()
        out.append(
            Block(
                "code" if lang == "python" else "markdown",
                m.group(0) if lang != "python" else m.group(2).rstrip("\n"),
                lang,
            )
        )
        pos = m.end()
    rest = markdown[pos:].strip("\n")
    if rest.strip():
        out.append(Block("markdown", rest))
    return out


def code_blocks(markdown: str) -> list[str]:
    """The ```python blocks of a lesson: they run top to bottom in one namespace."""
    return [b.text for b in blocks(markdown) if b.kind == "code"]


def headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of every heading outside code blocks."""
    prose = FENCE.sub("", markdown)
    return [(len(m.group(1)), m.group(2)) for m in HEADING.finditer(prose)]


def run_code_blocks(markdown: str, namespace: dict | None = None) -> dict:
    """Execute a lesson's code as a reader would: each block in turn, one shared namespace."""
    namespace = {"__name__": "__lesson__"} if namespace is None else namespace
    for i, code in enumerate(code_blocks(markdown)):
        exec(compile(code, f"<lesson block {i + 1}>", "exec"), namespace)
    return namespace


def to_notebook(markdown: str, path: Path, title: str | None = None) -> Path:
    """Write the lesson as a Jupyter notebook (nbformat 4)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from groundup.files import atomic_write_text

    cells = [
        new_code_cell(b.text) if b.kind == "code" else new_markdown_cell(b.text)
        for b in blocks(markdown)
    ]
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    if title:
        nb.metadata["title"] = title
    atomic_write_text(path, nbformat.writes(nb))
    return path
