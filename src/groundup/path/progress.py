"""The learner's progress: which steps they passed, kept in SQLite under GROUNDUP_HOME.

Every change is one transaction, so an interrupted `groundup check` never leaves a
half-written record.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from groundup.files import groundup_home

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    step TEXT NOT NULL,
    at TEXT NOT NULL,
    passed INTEGER NOT NULL,
    checks_passed INTEGER NOT NULL,
    checks_total INTEGER NOT NULL,
    file_sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_step ON attempts(step);
"""


@dataclass(frozen=True)
class StepProgress:
    step: str
    passed_at: str | None  # first passing attempt, ISO time
    attempts: int


class ProgressStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or groundup_home() / "progress.sqlite3"

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        conn.executescript(SCHEMA)
        return conn

    def record(
        self, step: str, passed: bool, checks_passed: int, checks_total: int, file_sha256: str
    ) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as conn, conn:  # `with conn` commits or rolls back
            conn.execute(
                "INSERT INTO attempts (step, at, passed, checks_passed, checks_total, file_sha256)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (step, now, int(passed), checks_passed, checks_total, file_sha256),
            )

    def summary(self) -> dict[str, StepProgress]:
        if not self.path.exists():
            return {}
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT step, MIN(CASE WHEN passed THEN at END), COUNT(*) FROM attempts GROUP BY step"
            ).fetchall()
        return {step: StepProgress(step, passed_at, n) for step, passed_at, n in rows}

    def passed(self) -> set[str]:
        return {s for s, p in self.summary().items() if p.passed_at is not None}
