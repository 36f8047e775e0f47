from __future__ import annotations

import os
from pathlib import Path

from groundup.data import corpus


def write_module(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


def fake_stdlib(root: Path) -> Path:
    write_module(
        root,
        "json/__init__.py",
        '"""JSON encoder and decoder, the package docstring."""\n\n'
        "def dumps(obj):\n"
        '    """Serialize obj to a JSON formatted string.\n\n\n\n'
        '        Indented continuation line.   \n    """\n\n'
        "class Decoder:\n"
        '    """A decoder class with a docstring."""\n\n'
        "    def decode(self, s):\n"
        '        """Return the Python object for the string s."""\n',
    )
    write_module(root, "json/tests/test_x.py", '"""A test module that must be skipped."""\n')
    write_module(root, "json/decoder.py", '"""Implementation of the JSON decoder module."""\n')
    write_module(
        root,
        "os.py",
        '"""Operating system interfaces, the module docstring."""\n'
        'def f():\n    """A decoder class with a docstring."""\n'  # a duplicate
        'def g():\n    """Too short."""\n'
        'def h():\n    """Non-ASCII docstring: Grüße aus dem Modul."""\n',
    )
    write_module(root, "unlisted.py", '"""A module that is not in MODULES at all."""\n')
    return root


def test_build_takes_docstrings_in_sorted_module_and_source_order(tmp_path: Path) -> None:
    text = corpus.build_corpus(fake_stdlib(tmp_path))
    assert text == (
        "JSON encoder and decoder, the package docstring.\n\n"
        "Serialize obj to a JSON formatted string.\n\n"
        "Indented continuation line.\n\n"
        "A decoder class with a docstring.\n\n"
        "Return the Python object for the string s.\n\n"
        "Implementation of the JSON decoder module.\n\n"
        "Operating system interfaces, the module docstring.\n"
    )


def test_build_does_not_depend_on_directory_listing_order(tmp_path: Path) -> None:
    first = corpus.build_corpus(fake_stdlib(tmp_path / "a"))
    root = tmp_path / "b"
    # the same files created in the opposite order
    write_module(root, "os.py", (tmp_path / "a/os.py").read_text())
    for rel in ("json/decoder.py", "json/tests/test_x.py", "json/__init__.py"):
        write_module(root, rel, (tmp_path / "a" / rel).read_text())
    assert corpus.build_corpus(root) == first


def test_real_corpus_is_about_a_megabyte_of_ascii_and_cached(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GROUNDUP_HOME", str(tmp_path))
    text = corpus.load_corpus()
    assert 700_000 < len(text) < 2_000_000
    assert text.isascii() and "\t" not in text and "\n\n\n" not in text
    assert 60 <= len(set(text)) <= 100
    path = corpus.cache_path()
    assert path.is_file() and path.is_relative_to(tmp_path)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left
    # the second call reads the cache: prove it by changing the cached text
    path.write_text("cached text", encoding="utf-8")
    assert corpus.load_corpus() == "cached text"


def test_groundup_home_defaults_to_local_share(monkeypatch) -> None:
    monkeypatch.delenv("GROUNDUP_HOME", raising=False)
    assert corpus.groundup_home() == Path.home() / ".local/share/groundup"
    monkeypatch.setenv("GROUNDUP_HOME", os.sep + "x")
    assert corpus.cache_path().parent == Path(os.sep + "x") / "corpus"
