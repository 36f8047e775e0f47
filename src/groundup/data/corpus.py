"""The embedded text corpus: the docstrings of Python's own standard library.

Every Python install carries them, so the GPT lab trains without a download. The text is
collected from source, never by importing (importing runs code; reading does not):

1. `MODULES` names a fixed set of pure-Python standard-library modules and packages.
   Names this Python lacks (modules come and go between versions) are skipped.
2. For each name in sorted order, each `.py` file (packages: all files below it, sorted,
   without test folders) is parsed with `ast`; the docstrings of the module, its classes and
   its functions are taken in source order.
3. Each docstring is cleaned like `inspect.cleandoc` (common indentation removed), trailing
   spaces are stripped, runs of blank lines become one, and docstrings that are shorter
   than `MIN_DOC_CHARS`, not ASCII, or already seen are dropped.
4. The docstrings are joined with blank lines.

The same Python version gives the same text, about 1.2 MB on Python 3.11. It takes a few
seconds to build and is cached under GROUNDUP_HOME (default ~/.local/share/groundup).
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from groundup.files import atomic_write_text, groundup_home

VERSION = 1  # bump when the recipe changes, so old caches are not reused
MIN_DOC_CHARS = 20
# fmt: off
MODULES = (
    "_collections_abc", "_pydecimal", "_pyio", "argparse", "ast", "asyncio", "bdb", "calendar",
    "codecs", "collections", "concurrent", "configparser", "contextlib", "copy", "csv",
    "ctypes", "dataclasses", "datetime", "decimal", "difflib", "doctest", "email", "enum",
    "fileinput", "fractions", "ftplib", "functools", "gettext", "glob", "gzip", "heapq", "hmac",
    "html", "http", "imaplib", "importlib", "inspect", "ipaddress", "json", "logging", "lzma",
    "mailbox", "mimetypes", "multiprocessing", "netrc", "numbers", "operator", "optparse", "os",
    "pathlib", "pdb", "pickle", "pickletools", "pkgutil", "platform", "poplib", "pprint",
    "pydoc", "queue", "random", "re", "sched", "secrets", "selectors", "shlex", "shutil",
    "smtplib", "socket", "socketserver", "ssl", "statistics", "string", "subprocess", "tarfile",
    "tempfile", "textwrap", "threading", "timeit", "traceback", "turtle", "types", "typing",
    "unittest", "urllib", "uuid", "warnings", "wave", "weakref", "wsgiref", "xml", "xmlrpc",
    "zipfile", "zipimport",
)
# fmt: on
SKIP_DIRS = {"test", "tests", "__pycache__", "idle_test"}


def cache_path() -> Path:
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return groundup_home() / "corpus" / f"python-docstrings-py{py}-v{VERSION}.txt"


def load_corpus() -> str:
    """The corpus text, built on first use and read from the cache afterwards."""
    path = cache_path()
    if path.is_file():
        return path.read_text(encoding="utf-8")
    text = build_corpus()
    # atomic: a crash while writing leaves no half corpus behind; a read-only home only
    # costs a rebuild next time
    with contextlib.suppress(OSError):
        atomic_write_text(path, text)
    return text


def build_corpus(stdlib: Path | None = None) -> str:
    stdlib = stdlib or Path(sysconfig.get_paths()["stdlib"])
    seen: set[str] = set()
    docs: list[str] = []
    for name in sorted(MODULES):
        for file in _source_files(stdlib, name):
            for doc in _docstrings(file):
                doc = _normalize(doc)
                if len(doc) < MIN_DOC_CHARS or not doc.isascii() or doc in seen:
                    continue
                seen.add(doc)
                docs.append(doc)
    return "\n\n".join(docs) + "\n"


def _source_files(stdlib: Path, name: str) -> list[Path]:
    package, module = stdlib / name, stdlib / f"{name}.py"
    if module.is_file():
        return [module]
    files: list[Path] = []
    if package.is_dir():
        for root, dirs, names in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)  # sorted: walk order fixed
            files += [Path(root) / n for n in sorted(names) if n.endswith(".py")]
    return files


def _docstrings(file: Path) -> Iterator[str]:
    """Docstrings of the module, its classes and functions, in the order they appear."""
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield doc
        stack.extend(reversed(list(ast.iter_child_nodes(node))))  # depth first, source order


def _normalize(doc: str) -> str:
    lines = [line.rstrip() for line in doc.expandtabs(4).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
