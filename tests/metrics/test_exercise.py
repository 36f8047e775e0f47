"""The metrics_evaluation exercise grades as intended (checks run in-process here, for speed;
the subprocess grader is exercised for every built step by the generic exercise test)."""

from __future__ import annotations

import inspect
import types

import pytest

from groundup.exercises.metrics_evaluation import checks, mutants, stub


def load(source: str, name: str = "learner_solution") -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def failing_checks(module: types.ModuleType) -> list[str]:
    failed = []
    for check in checks.CHECKS:
        try:
            check.run(module)
        except Exception:  # Mismatch, LearnerError or anything the learner's code raised
            failed.append(check.name)
    return failed


def test_reference_and_a_plain_numpy_solution_pass_every_check() -> None:
    assert failing_checks(load(checks.REFERENCE)) == []
    assert failing_checks(load(mutants.SOLUTION)) == []


def test_stub_fails_every_check_that_calls_a_function() -> None:
    failed = failing_checks(load(inspect.getsource(stub)))
    assert failed == [c.name for c in checks.CHECKS if c.name != "exists"]


def test_empty_file_fails_the_first_check() -> None:
    assert "exists" in failing_checks(load("import numpy as np\n"))


def test_enough_distinct_mutants() -> None:
    assert len(mutants.MUTANTS) >= 6
    assert len({m.name for m in mutants.MUTANTS}) == len(mutants.MUTANTS)


@pytest.mark.parametrize("mutant", mutants.MUTANTS, ids=lambda m: m.name)
def test_each_mutant_is_caught_by_its_named_check(mutant) -> None:
    assert mutant.catches in {c.name for c in checks.CHECKS}
    assert mutant.catches in failing_checks(load(mutant.source))
