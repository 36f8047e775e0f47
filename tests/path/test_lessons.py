"""Every built lesson's code runs, in both languages, so lessons cannot rot."""

import os
from pathlib import Path

import matplotlib
import pytest

from groundup.path import steps
from groundup.path.lessons import blocks, code_blocks, headings, run_code_blocks, to_notebook

BUILT = [s for s in steps.load().steps if s.built]

SAMPLE = """# Title

Some text.

```python
x = 2
```

## Part

```text
not run
```

```python
y = x * 21
```
"""


def test_blocks_split_prose_and_code() -> None:
    kinds = [b.kind for b in blocks(SAMPLE)]
    assert kinds == ["markdown", "code", "markdown", "markdown", "code"]
    assert code_blocks(SAMPLE) == ["x = 2", "y = x * 21"]
    assert headings(SAMPLE) == [(1, "Title"), (2, "Part")]
    assert run_code_blocks(SAMPLE)["y"] == 42


def test_notebook_has_the_lessons_cells(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.read(to_notebook(SAMPLE, tmp_path / "l.ipynb"), as_version=4)
    nbformat.validate(nb)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "markdown", "markdown", "code"]
    assert nb.cells[4].source == "y = x * 21"


@pytest.mark.parametrize("lang", ["en", "de"])
@pytest.mark.parametrize("step", BUILT, ids=lambda s: s.id)
def test_lesson_code_runs(
    step: steps.Step, lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # anything a lesson writes lands in a temporary folder
    monkeypatch.setitem(os.environ, "GROUNDUP_LESSON_TEST", "1")
    run_code_blocks(step.lesson_path(lang).read_text(encoding="utf-8"))
