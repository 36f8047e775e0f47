"""The grader's worker: runs in its own process, loads the learner's file and runs checks.

Protocol: one JSON object per line on the original stdout (the learner's own prints are
sent to stderr so they cannot break it): {"event": "loaded"} or {"event": "load_error"},
then for each check {"event": "start"} and {"event": "result"}.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path
from typing import IO, Any

from groundup.exercises import checking
from groundup.exercises.checking import CheckResult, LearnerError, Mismatch
from groundup.i18n import Msg

LOAD_ERRORS = {
    "syntax": Msg("Your file has a syntax error", "Ihre Datei hat einen Syntaxfehler"),
    "exception": Msg(
        "Importing your file raised an exception",
        "Beim Importieren Ihrer Datei trat eine Ausnahme auf",
    ),
}
RAISED = Msg(
    "your function raised {kind}: {message}", "Ihre Funktion hat {kind} ausgelöst: {message}"
)
CRASHED = Msg(
    "the check itself failed: {detail}", "die Prüfung selbst ist fehlgeschlagen: {detail}"
)


def emit(stream: IO[str], **event: Any) -> None:
    stream.write(json.dumps(event) + "\n")
    stream.flush()


def load_learner(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("learner_solution", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["learner_solution"] = module
    spec.loader.exec_module(module)
    return module


def run_check(check: checking.Check, module: Any, lang: str) -> CheckResult:
    result = CheckResult(name=check.name, ok=True, title=check.title.get(lang))
    try:
        check.run(module)
    except Mismatch as m:
        result.ok, result.status = False, "fail"
        result.compared, result.expected, result.got, result.where = (
            m.compared.get(lang),
            m.expected,
            m.got,
            m.where,
        )
    except LearnerError as e:
        result.ok, result.status = False, "error"
        result.compared = e.compared.get(lang)
        result.got = RAISED.get(
            lang, kind=type(e.error).__name__, message=checking.shorten(str(e.error))
        )
        result.where = e.location
    except Exception as e:  # an exception the check did not wrap still names the learner's line
        result.ok, result.status = False, "error"
        result.got = CRASHED.get(lang, detail=f"{type(e).__name__}: {checking.shorten(str(e))}")
        result.where = checking._learner_location(e)
    if not result.ok:
        result.hint = check.hint.get(lang)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exercise", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--lang", default="en")
    parser.add_argument("--checks", default="", help="comma-separated names; empty: all")
    args = parser.parse_args(argv)

    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # learner prints go to stderr
    sys.stdout = sys.stderr

    checks_module = importlib.import_module(f"groundup.exercises.{args.exercise}.checks")
    wanted = [name for name in args.checks.split(",") if name]
    checks = [c for c in checks_module.CHECKS if not wanted or c.name in wanted]

    path = Path(args.file).resolve()
    checking.LEARNER_FILE = str(path)
    try:
        module = load_learner(path)
    except SyntaxError as e:
        detail = f"line {e.lineno}: {e.msg}" + (f"\n    {e.text.rstrip()}" if e.text else "")
        emit(
            protocol,
            event="load_error",
            kind="syntax",
            message=LOAD_ERRORS["syntax"].get(args.lang),
            detail=detail,
        )
        return 0
    except BaseException as e:  # noqa: BLE001 - anything the learner's module does on import
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)]
        where = f"line {frames[-1].lineno}" if frames else ""
        emit(
            protocol,
            event="load_error",
            kind="exception",
            message=LOAD_ERRORS["exception"].get(args.lang),
            detail=f"{type(e).__name__}: {checking.shorten(str(e))}"
            + (f" ({where})" if where else ""),
        )
        return 0
    emit(protocol, event="loaded")
    for check in checks:
        emit(protocol, event="start", check=check.name)
        result = run_check(check, module, args.lang)
        emit(protocol, event="result", **result.__dict__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
