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


def test_matches_torch_the_expected_values_the_checks_use() -> None:
    """The checks take their expected gradients from the engine; here torch confirms them
    on the same kind of cases (float64, atol 1e-8, rtol 1e-6)."""
    import torch

    rng = np.random.default_rng(0)
    grad = rng.standard_normal((5, 2, 4, 3))
    leaf = torch.zeros((2, 1, 3), dtype=torch.float64, requires_grad=True)
    leaf.expand(grad.shape).backward(torch.tensor(grad))
    np.testing.assert_allclose(
        checks.expected_unbroadcast(grad, (2, 1, 3)), leaf.grad.numpy(), atol=1e-8, rtol=1e-6
    )

    a, b = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((3, 4, 2))
    upstream = rng.standard_normal((2, 3, 3, 2))
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (ta @ tb).backward(torch.tensor(upstream))
    for ours, theirs in zip(checks.expected_matmul_grads(a, b, upstream), (ta, tb), strict=True):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=1e-8, rtol=1e-6)

    x, upstream = 1000 * rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    tx = torch.tensor(x, requires_grad=True)
    torch.log_softmax(tx, dim=1).backward(torch.tensor(upstream))
    np.testing.assert_allclose(
        checks.expected_log_softmax_grad(x, upstream, 1), tx.grad.numpy(), atol=1e-8, rtol=1e-6
    )
