"""The autograd exercise grades as intended (checks run in-process here, for speed; the
subprocess grader is exercised for every step by the generic exercise test)."""

from __future__ import annotations

import inspect
import types

import numpy as np
import pytest

from groundup.exercises.autograd import checks, mutants, stub


def load(source: str, name: str = "learner_solution") -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def failing_checks(module: types.ModuleType) -> list[str]:
    failed = []
    for check in checks.CHECKS:
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # the unstable-softmax mutant
                check.run(module)
        except Exception:  # Mismatch, LearnerError or anything the learner's code raised
            failed.append(check.name)
    return failed


def test_reference_and_a_plain_numpy_solution_pass_every_check() -> None:
    assert failing_checks(load(checks.REFERENCE)) == []
    assert failing_checks(load(mutants.SOLUTION)) == []


def test_stub_fails_every_check_that_calls_a_function() -> None:
    failed = failing_checks(load(inspect.getsource(stub)))
    assert failed == [c.name for c in checks.CHECKS if c.name != "defines_functions"]


def test_empty_file_fails_the_first_check() -> None:
    assert "defines_functions" in failing_checks(load("import numpy as np\n"))


@pytest.mark.parametrize("mutant", mutants.MUTANTS, ids=lambda m: m.name)
def test_each_mutant_is_caught_by_its_named_check(mutant) -> None:
    assert mutant.catches in {c.name for c in checks.CHECKS}
    assert mutant.catches in failing_checks(load(mutant.source))


def test_check_names_are_unique_and_functions_listed() -> None:
    names = [c.name for c in checks.CHECKS]
    assert len(names) == len(set(names))
    assert checks.FUNCTIONS == ["unbroadcast", "matmul_backward", "log_softmax_backward"]
    assert len(mutants.MUTANTS) >= 5
