"""Every exercise's checks are proven: the reference passes them all, the stub does not,
and every planted-bug mutant is caught by the check it names.

Reference and stub go through the real grader (a subprocess per file). Mutants run the very
same check code in this process, which keeps the suite fast; one mutant per exercise also
goes through the subprocess to prove the two paths agree."""

import importlib
from importlib import resources
from pathlib import Path

import pytest

from groundup.exercises import checking, worker
from groundup.exercises.checking import Mutant
from groundup.exercises.grader import check_names, grade
from groundup.path import steps

EXERCISES = sorted({s.exercise for s in steps.load().steps if s.built and s.exercise})
MUTANTS = [
    (exercise, mutant)
    for exercise in EXERCISES
    for mutant in importlib.import_module(f"groundup.exercises.{exercise}.mutants").MUTANTS
]


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "solution.py"
    path.write_text(source, encoding="utf-8")
    return path


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes_every_check(exercise: str, tmp_path: Path) -> None:
    checks = importlib.import_module(f"groundup.exercises.{exercise}.checks")
    report = grade(exercise, write(tmp_path, checks.REFERENCE))
    failures = {
        r.name: (r.status, r.compared, r.expected, r.got, r.where)
        for r in report.results
        if not r.ok
    }
    assert report.load_error is None and failures == {}
    assert [r.name for r in report.results] == check_names(exercise)
    assert len(report.results) >= 5


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_stub_does_not_pass(exercise: str, tmp_path: Path) -> None:
    stub = (
        resources.files(f"groundup.exercises.{exercise}")
        .joinpath("stub.py")
        .read_text(encoding="utf-8")
    )
    report = grade(exercise, write(tmp_path, stub))
    assert report.load_error is None, "the stub must at least import"
    assert not report.passed
    assert all(r.hint for r in report.results if not r.ok), "every failing check gives a hint"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_each_exercise_has_enough_mutants_naming_real_checks(exercise: str) -> None:
    mine = [m for e, m in MUTANTS if e == exercise]
    assert len(mine) >= 5
    assert {m.catches for m in mine} <= set(check_names(exercise))
    assert len({m.name for m in mine}) == len(mine)


def grade_in_process(exercise: str, path: Path) -> dict[str, checking.CheckResult]:
    checks = importlib.import_module(f"groundup.exercises.{exercise}.checks").CHECKS
    checking.LEARNER_FILE = str(path.resolve())
    try:
        module = worker.load_learner(path.resolve())
        return {c.name: worker.run_check(c, module, "en") for c in checks}
    finally:
        checking.LEARNER_FILE = None


@pytest.mark.parametrize(
    ("exercise", "mutant"), MUTANTS, ids=lambda x: x if isinstance(x, str) else x.name
)
def test_mutant_is_caught_by_its_check(exercise: str, mutant: Mutant, tmp_path: Path) -> None:
    result = grade_in_process(exercise, write(tmp_path, mutant.source))[mutant.catches]
    assert not result.ok, f"{mutant.name} slipped through '{mutant.catches}'"
    assert result.hint


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_grader_subprocess_agrees_on_a_mutant(exercise: str, tmp_path: Path) -> None:
    mutant = next(m for e, m in MUTANTS if e == exercise)
    path = write(tmp_path, mutant.source)
    report = grade(exercise, path)
    in_process = grade_in_process(exercise, path)
    assert report.load_error is None
    assert {r.name: r.ok for r in report.results} == {n: r.ok for n, r in in_process.items()}
