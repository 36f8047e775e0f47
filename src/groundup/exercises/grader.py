"""Grade a learner's file: run its checks in a separate process with time limits.

The worker reports one check at a time. If a check runs past its limit (an endless loop,
a huge allocation), the worker is killed, the check is reported as timed out, and a fresh
worker goes on with the remaining checks. Nothing the learner's code does can hang or
crash groundup itself.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from groundup.exercises.checking import CheckResult
from groundup.i18n import Msg

TIMEOUT = Msg(
    "stopped after {seconds:g} s: an endless loop, or far too much work?",
    "nach {seconds:g} s abgebrochen: eine Endlosschleife oder viel zu viel Arbeit?",
)
NOT_RUN = Msg(
    "not run: your file could not be loaded", "nicht ausgeführt: Ihre Datei ließ sich nicht laden"
)
WORKER_DIED = Msg(
    "the process running your code ended unexpectedly (exit code {code})",
    "der Prozess mit Ihrem Code endete unerwartet (Exit-Code {code})",
)
LOAD_TIMEOUT = Msg(
    "loading your file took longer than {seconds:g} s",
    "das Laden Ihrer Datei dauerte länger als {seconds:g} s",
)


@dataclass
class GradeReport:
    exercise: str
    file: Path
    results: list[CheckResult] = field(default_factory=list)
    load_error: dict[str, str] | None = None
    output: str = ""  # what the learner's code printed (tail)

    @property
    def passed(self) -> bool:
        return self.load_error is None and bool(self.results) and all(r.ok for r in self.results)

    def failed_names(self) -> list[str]:
        return [r.name for r in self.results if not r.ok]


def check_names(exercise: str) -> list[str]:
    module = importlib.import_module(f"groundup.exercises.{exercise}.checks")
    return [c.name for c in module.CHECKS]


def check_titles(exercise: str, lang: str) -> dict[str, Msg]:
    module = importlib.import_module(f"groundup.exercises.{exercise}.checks")
    return {c.name: c.title for c in module.CHECKS}


def grade(
    exercise: str,
    file: str | os.PathLike[str],
    lang: str = "en",
    check_timeout: float = 30.0,
    load_timeout: float = 90.0,
    only: list[str] | None = None,
) -> GradeReport:
    """Run the exercise's checks (or the `only` ones) on `file`, each within `check_timeout` s."""
    path = Path(file).resolve()
    report = GradeReport(exercise=exercise, file=path)
    titles = check_titles(exercise, lang)
    if only is not None:
        titles = {name: titles[name] for name in only}
    remaining = list(titles)
    output_parts: list[str] = []
    while remaining:
        events, stderr, code, timed_out_check = _run_worker(
            exercise, path, lang, remaining, check_timeout, load_timeout
        )
        output_parts.append(stderr)
        done: set[str] = set()
        for event in events:
            if event["event"] == "load_error":
                report.load_error = {k: event[k] for k in ("kind", "message", "detail")}
            elif event["event"] == "result":
                event.pop("event")
                report.results.append(CheckResult(**event))
                done.add(event["name"])
        if report.load_error is None and not any(e["event"] == "loaded" for e in events):
            if timed_out_check == "<load>":
                message = LOAD_TIMEOUT.get(lang, seconds=load_timeout)
            else:
                message = WORKER_DIED.get(lang, code=code)
            report.load_error = {
                "kind": "crash",
                "message": message,
                "detail": stderr.strip()[-500:],
            }
        if report.load_error is not None:
            break
        remaining = [name for name in remaining if name not in done]
        if not remaining:
            break
        current = remaining.pop(0)
        if timed_out_check == "<load>":
            report.load_error = {
                "kind": "timeout",
                "message": LOAD_TIMEOUT.get(lang, seconds=load_timeout),
                "detail": "",
            }
            break
        status, got = (
            ("timeout", TIMEOUT.get(lang, seconds=check_timeout))
            if timed_out_check == current
            else ("error", WORKER_DIED.get(lang, code=code))
        )
        report.results.append(
            CheckResult(
                name=current, ok=False, title=titles[current].get(lang), status=status, got=got
            )
        )
    report.output = "".join(output_parts)[-2000:]
    return report


def _run_worker(
    exercise: str,
    path: Path,
    lang: str,
    checks: list[str],
    check_timeout: float,
    load_timeout: float,
) -> tuple[list[dict], str, int | None, str | None]:
    """Run one worker; returns its events, its stderr, its exit code and the check that timed out."""
    cmd = [
        sys.executable,
        "-m",
        "groundup.exercises.worker",
        "--exercise", exercise,
        "--file", str(path),
        "--lang", lang,
        "--checks", ",".join(checks),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    env.pop("PYTHONPATH", None)
    with (
        tempfile.TemporaryDirectory(prefix="groundup-check-") as cwd,
        tempfile.TemporaryFile("w+") as err,
    ):
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
            text=True, start_new_session=True,
        )  # fmt: skip
        assert proc.stdout is not None
        events: list[dict] = []
        current = "<load>"
        deadline = time.monotonic() + load_timeout
        timed_out: str | None = None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        buffer = ""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = current
                _kill(proc)
                break
            if not sel.select(timeout=min(left, 0.5)):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536).decode("utf-8", "replace")
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split("\n")
            for line in lines:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                events.append(event)
                if event["event"] == "start":
                    current = event["check"]
                    deadline = time.monotonic() + check_timeout
                elif event["event"] == "result":
                    current = "<between>"
        sel.close()
        code = proc.wait(timeout=10) if timed_out is None else proc.poll()
        err.seek(0)
        return events, err.read(), code, timed_out


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait(timeout=10)
