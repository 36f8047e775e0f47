"""Whatever a learner's file does, grading ends with feedback: never a crash or a hang."""

import time
from pathlib import Path

import pytest

from groundup.exercises.checking import Mismatch, assert_close
from groundup.exercises.grader import check_names, grade
from groundup.i18n import Msg

EXERCISE = "attention"


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "attention.py"
    path.write_text(source, encoding="utf-8")
    return path


def test_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    report = grade(
        EXERCISE, write(tmp_path, "import torch\n\ndef attention(q, k, v, mask=None:\n    pass\n")
    )
    assert report.load_error is not None
    assert report.load_error["kind"] == "syntax"
    assert "line 3" in report.load_error["detail"]
    assert not report.passed


def test_exception_on_import_is_reported(tmp_path: Path) -> None:
    report = grade(EXERCISE, write(tmp_path, "x = 1\nraise ValueError('boom')\n"))
    assert report.load_error is not None and report.load_error["kind"] == "exception"
    assert "ValueError: boom" in report.load_error["detail"]
    assert "line 2" in report.load_error["detail"]


def test_missing_function_fails_the_checks(tmp_path: Path) -> None:
    report = grade(EXERCISE, write(tmp_path, "def attend(q, k, v):\n    return q\n"))
    assert report.load_error is None
    assert all(not r.ok for r in report.results)
    assert "attention" in report.results[0].expected


def test_exception_in_function_names_the_learners_line(tmp_path: Path) -> None:
    source = "def attention(q, k, v, mask=None):\n    x = 1\n    return q @ k.T @ undefined_name\n"
    report = grade(EXERCISE, write(tmp_path, source))
    first = report.results[1]  # the first check after the existence check calls the function
    assert first.status == "error"
    assert "NameError" in first.got
    assert "line 3" in first.where


def test_wrong_return_type_is_feedback(tmp_path: Path) -> None:
    report = grade(
        EXERCISE, write(tmp_path, "def attention(q, k, v, mask=None):\n    return 'not a tensor'\n")
    )
    assert not report.passed
    assert any("str" in r.got for r in report.results if not r.ok)


def test_endless_loop_times_out_and_the_other_checks_still_run(tmp_path: Path) -> None:
    source = "def attention(q, k, v, mask=None):\n    while True:\n        pass\n"
    start = time.monotonic()
    three = check_names(EXERCISE)[:3]
    report = grade(EXERCISE, write(tmp_path, source), check_timeout=2.0, only=three)
    assert time.monotonic() - start < 60
    assert [r.status for r in report.results] == ["pass", "timeout", "timeout"]
    assert [r.name for r in report.results] == three  # every check got a verdict


def test_learner_prints_do_not_break_the_protocol(tmp_path: Path) -> None:
    source = 'print(\'{"event": "result", "ok": true}\')\nprint("hello from the learner")\n'
    report = grade(EXERCISE, write(tmp_path, source))
    assert not report.passed
    assert "hello from the learner" in report.output


def test_a_hard_crash_is_reported(tmp_path: Path) -> None:
    source = "import os\n\ndef attention(q, k, v, mask=None):\n    os._exit(3)\n"
    report = grade(EXERCISE, write(tmp_path, source), only=check_names(EXERCISE)[:3])
    assert not report.passed
    crashed = [r for r in report.results if r.status == "error"]
    assert crashed and "3" in crashed[0].got


def test_german_feedback(tmp_path: Path) -> None:
    report = grade(EXERCISE, write(tmp_path, "def attention(q, k, v, mask=None:\n"), lang="de")
    assert "Syntaxfehler" in report.load_error["message"]


def test_assert_close_says_where_values_first_differ() -> None:
    import numpy as np

    with pytest.raises(Mismatch) as info:
        assert_close(Msg("x", "x"), np.array([1.0, 2.0, 3.5]), np.array([1.0, 2.0, 3.0]))
    assert "index [2]" in info.value.where and "3.5" in info.value.where
    with pytest.raises(Mismatch) as info:
        assert_close(Msg("x", "x"), np.zeros((2, 3)), np.zeros((3, 2)))
    assert "(3, 2)" in info.value.expected
