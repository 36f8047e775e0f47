"""What an exercise check is, and the comparisons checks are built from.

A check is a function that gets the learner's module and raises `Mismatch` with what
was compared, what was expected, what came back and where they first differ. It runs
inside the grader's worker process, never inside groundup itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from groundup.i18n import Msg

LEARNER_FILE: str | None = None  # set by the worker to the graded file's path


@dataclass(frozen=True)
class Check:
    name: str  # stable id, e.g. "matches_sdpa"; mutants name the check that must catch them
    title: Msg  # one line: what this check makes sure of
    hint: Msg  # what to look at when it fails
    run: Callable[[ModuleType], None]


def check(
    name: str, title: tuple[str, str], hint: tuple[str, str], run: Callable[[ModuleType], None]
) -> Check:
    """A Check from (English, German) pairs: the short form every exercise's checks.py uses."""
    return Check(name=name, title=Msg(*title), hint=Msg(*hint), run=run)


@dataclass(frozen=True)
class Mutant:
    name: str
    catches: str  # the name of the check that must fail on it
    source: str  # a complete learner file with one planted bug
    note: str = ""


class Mismatch(Exception):
    """A check failed: the learner's code ran but gave something other than expected."""

    def __init__(self, compared: Msg, expected: str, got: str, where: str = "") -> None:
        super().__init__(compared.en)
        self.compared, self.expected, self.got, self.where = compared, expected, got, where


class LearnerError(Exception):
    """The learner's function raised; carries a short description of where."""

    def __init__(self, compared: Msg, error: BaseException, location: str) -> None:
        super().__init__(str(error))
        self.compared, self.error, self.location = compared, error, location


@dataclass
class CheckResult:
    name: str
    ok: bool
    title: str
    status: str = "pass"  # pass | fail | error | timeout | skipped
    compared: str = ""
    expected: str = ""
    got: str = ""
    where: str = ""
    hint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- helpers for check authors


def require(module: ModuleType, name: str) -> Callable[..., Any]:
    fn = getattr(module, name, None)
    if fn is None or not callable(fn):
        raise Mismatch(
            Msg(
                f"a function named `{name}` in your file",
                f"eine Funktion namens `{name}` in Ihrer Datei",
            ),
            expected=f"def {name}(...)",
            got="nothing" if fn is None else type(fn).__name__,
        )
    return fn


def call(compared: Msg, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's `fn`; an exception becomes a `LearnerError` naming the learner's line."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # the learner's bug, reported as feedback
        raise LearnerError(compared, error, _learner_location(error)) from None


def _learner_location(error: BaseException) -> str:
    """The deepest line of the learner's own file in the traceback, e.g. 'line 12 in attention'."""
    tb, where = error.__traceback__, ""
    while tb is not None:
        code = tb.tb_frame.f_code
        if LEARNER_FILE is not None and code.co_filename == LEARNER_FILE:
            where = f"line {tb.tb_lineno} in {code.co_name}"
        tb = tb.tb_next
    return where


def describe(value: Any) -> str:
    """A short description of a value: type, shape and dtype for arrays and tensors."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} shape {tuple(shape)} dtype {getattr(value, 'dtype', '?')}"
    return f"{type(value).__name__}: {excerpt(value)}"


def excerpt(value: Any, limit: int = 160) -> str:
    return shorten(repr(value), limit)


def shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_numpy(value: Any) -> Any:
    import numpy as np

    if hasattr(value, "detach"):  # torch tensor, imported lazily by whoever made it
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def assert_close(
    compared: Msg,
    got: Any,
    expected: Any,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    check_type: type | tuple[type, ...] | None = None,
) -> None:
    """Values of `got` equal `expected` elementwise within |got - expected| <= atol + rtol*|expected|."""
    import numpy as np

    if check_type is not None and not isinstance(got, check_type):
        names = (
            check_type.__name__
            if isinstance(check_type, type)
            else " or ".join(t.__name__ for t in check_type)
        )
        raise Mismatch(compared, expected=names, got=describe(got))
    if got is None:
        raise Mismatch(compared, expected=describe(expected), got="None (did the function return?)")
    try:
        got_arr = np.asarray(_as_numpy(got), dtype=np.float64)
    except (TypeError, ValueError):
        raise Mismatch(compared, expected=describe(expected), got=describe(got)) from None
    exp_arr = np.asarray(_as_numpy(expected), dtype=np.float64)
    if got_arr.shape != exp_arr.shape:
        raise Mismatch(compared, expected=f"shape {exp_arr.shape}", got=f"shape {got_arr.shape}")
    bad = ~np.isclose(got_arr, exp_arr, atol=atol, rtol=rtol, equal_nan=True)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        n_bad = int(bad.sum())
        raise Mismatch(
            compared,
            expected=excerpt(np.round(exp_arr.ravel()[:6], 5).tolist())
            + f" (atol {atol:g}, rtol {rtol:g})",
            got=excerpt(np.round(got_arr.ravel()[:6], 5).tolist()),
            where=f"index {list(idx)}: expected {exp_arr[idx]:.6g}, got {got_arr[idx]:.6g} "
            f"({n_bad} of {bad.size} elements differ)",
        )


def assert_shape(compared: Msg, got: Any, shape: tuple[int, ...]) -> None:
    got_shape = getattr(got, "shape", None)
    if got_shape is None:
        raise Mismatch(compared, expected=f"a tensor of shape {shape}", got=describe(got))
    if tuple(got_shape) != tuple(shape):
        raise Mismatch(compared, expected=f"shape {tuple(shape)}", got=f"shape {tuple(got_shape)}")


def assert_true(compared: Msg, condition: bool, expected: str, got: str, where: str = "") -> None:
    if not condition:
        raise Mismatch(compared, expected=expected, got=got, where=where)


def signature_of(fn: Callable[..., Any]) -> str:
    try:
        return f"{fn.__name__}{inspect.signature(fn)}"
    except (TypeError, ValueError):
        return getattr(fn, "__name__", repr(fn))
