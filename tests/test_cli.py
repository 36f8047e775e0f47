"""The CLI as a learner meets it: clear output, clear errors, no tracebacks."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from groundup.cli import main
from groundup.exercises.attention import checks as attention_checks
from groundup.exercises.attention import mutants as attention_mutants
from groundup.path import steps
from groundup.path.progress import ProgressStore


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_path_shows_the_whole_journey_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "path")
    assert code == 0
    for section in steps.load().sections:
        assert section.title.en in out
    code, out, _ = run(capsys, "--lang", "de", "path")
    assert code == 0
    assert "Mathematik" in out and "gebaut" in out and "geplant" in out


def test_path_json_lists_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "path", "--json")
    data = json.loads(out)
    assert code == 0 and len(data) == len(steps.load().steps)
    gpt = next(s for s in data if s["id"] == "gpt")
    assert gpt["status"] == "built" and "attention" in gpt["prerequisites"]
    assert set(gpt["title"]) == {"en", "de"} and gpt["passed"] is False


def test_unknown_step_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "lesson", "atention")
    assert code == 2
    assert "atention" in err and "attention" in err
    code, _, err = run(capsys, "--lang", "de", "check", "atention")
    assert code == 2 and "Meinten Sie" in err


def test_bad_options_exit_2_without_traceback() -> None:
    for argv in (["nonsense"], ["path", "--bogus"], ["run", "gpt", "--max-iters", "many"], []):
        proc = subprocess.run(
            [sys.executable, "-m", "groundup", *argv], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2, (argv, proc.stderr)
        assert "Traceback" not in proc.stderr, argv
        assert "error" in proc.stderr.lower()


def test_lesson_renders(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lesson", "attention")
    assert code == 0 and "groundup check attention" in out
    code, out, _ = run(capsys, "--lang", "de", "lesson", "attention")
    assert code == 0 and "Übung" in out


def test_planned_step_has_no_exercise_yet(capsys: pytest.CaptureFixture[str]) -> None:
    planned = next(s for s in steps.load().steps if not s.built)
    code, _, err = run(capsys, "exercise", planned.id)
    assert code == 2 and planned.id in err


def test_notebook_is_written_into_the_workspace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import nbformat

    code, _, _ = run(capsys, "--workspace", str(tmp_path), "notebook", "gpt")
    assert code == 0
    nb = nbformat.read(tmp_path / "gpt.en.ipynb", as_version=4)
    nbformat.validate(nb)
    assert any(c.cell_type == "code" for c in nb.cells)


def test_exercise_never_overwrites_edits_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws = ["--workspace", str(tmp_path)]
    assert run(capsys, *ws, "exercise", "attention")[0] == 0
    file = tmp_path / "attention.py"
    assert "NotImplementedError" in file.read_text()
    file.write_text("# my work\n")
    code, out, _ = run(capsys, *ws, "exercise", "attention")
    assert code == 0 and "--force" in out and file.read_text() == "# my work\n"
    assert run(capsys, *ws, "exercise", "attention", "--force")[0] == 0
    assert "NotImplementedError" in file.read_text()


def test_check_passes_a_correct_solution_and_records_progress(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = tmp_path / "mine.py"
    file.write_text(attention_checks.REFERENCE)
    code, out, _ = run(capsys, "check", "attention", "--file", str(file))
    assert code == 0, out
    assert "passed" in out
    progress = ProgressStore().summary()["attention"]
    assert progress.passed_at is not None and progress.attempts == 1
    code, out, _ = run(capsys, "progress")
    assert code == 0 and "attention" in out


@pytest.mark.parametrize("mutant", attention_mutants.MUTANTS[:5], ids=lambda m: m.name)
def test_check_names_the_failing_check(
    mutant, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = tmp_path / "mine.py"
    file.write_text(mutant.source)
    code, out, _ = run(capsys, "--lang", "de", "check", "attention", "--file", str(file))
    assert code == 1
    assert f"({mutant.catches}," in out
    assert "erwartet" in out or "Tipp" in out
    record = ProgressStore().summary()["attention"]
    assert record.passed_at is None
    assert hashlib.sha256(file.read_bytes()).hexdigest()


def test_check_without_a_file_says_what_to_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "--workspace", str(tmp_path), "check", "attention")
    assert code == 2 and "groundup exercise attention" in err


def test_run_unknown_lab(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "run", "gtp")
    assert code == 2 and "gpt" in err


def test_run_missing_data_file_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(
        capsys,
        "run",
        "gpt",
        "--preset",
        "micro",
        "--data",
        str(tmp_path / "nope.txt"),
        "--out",
        str(tmp_path),
    )
    assert code == 1 and "nope.txt" in err


def test_run_a_text_lab_on_a_folder_says_to_pass_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Folders pass the CLI's existence check (parallel corpora and GLUE folders are folders);
    # a lab that reads one text file then says what it wants.
    folder, out = tmp_path / "corpus", str(tmp_path / "out")
    folder.mkdir()
    code, _, err = run(
        capsys, "run", "gpt", "--preset", "micro", "--data", str(folder), "--out", out
    )
    assert code == 1 and "folder" in err and "Traceback" not in err


def test_run_a_lab_end_to_end(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys, "run", "attention", "--preset", "micro", "--out", str(tmp_path), "--quiet"
    )
    assert code == 0, out
    assert any(p.suffix == ".png" for p in tmp_path.iterdir())


def test_data_get_from_a_local_mirror(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from groundup.data import registry

    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 50
    source = tmp_path / "input.txt"
    source.write_text(text)
    cached = isolated_home / "data" / registry.DATASETS["tinyshakespeare"].filename
    # the local stand-in is not the real file, so its checksum is refused and nothing is kept
    code, _, err = run(capsys, "data", "get", "tinyshakespeare", "--url", source.as_uri())
    assert code == 1 and "sha256" in err
    assert not cached.exists() and not list(cached.parent.glob(".*tmp"))
    # a dataset whose checksum matches is downloaded once, then served from the cache
    entry = registry.Dataset(source.as_uri(), hashlib.sha256(text.encode()).hexdigest(), "mini.txt")
    monkeypatch.setitem(registry.DATASETS, "mini", entry)
    code, out, _ = run(capsys, "data", "get", "mini")
    assert code == 0 and (isolated_home / "data" / "mini.txt").read_text() == text
    source.unlink()
    code, out, _ = run(capsys, "--lang", "de", "data", "get", "mini")
    assert code == 0 and "Zwischenspeicher" in out
    code, _, err = run(capsys, "data", "get", "nosuchset")
    assert code == 1 and "tinyshakespeare" in err
