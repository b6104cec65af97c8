"""The batch results database: one SQLite file per output folder.

Owns the schema (documented in docs/batch.md, versioned by ``PRAGMA
user_version``), opening and migrating it, and writing one grading per
transaction so that a batch killed at any instant (Ctrl-C, ``kill -9``, a power
cut) leaves only whole gradings behind. It does not grade, render or decide
what to grade; the batch asks it what is already there.

A grading is keyed by (student, exercise, version, content_hash): the same
student's unchanged submission under the same exercise version is never graded
twice, while a new submission or a new exercise version gets a row of its own.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from grader.results import SubmissionResult

#: Bump when the schema changes; add the step to `_MIGRATIONS` and to docs/batch.md.
SCHEMA_VERSION = 1

#: Outcomes of one grading attempt.
GRADED = "graded"  # the submission was graded (whatever its score)
NOT_GRADED = "not-graded"  # the grader could not grade it (GradingError); retried next run

_SCHEMA_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE gradings (
    student      TEXT NOT NULL,
    exercise     TEXT NOT NULL,
    version      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('graded', 'not-graded')),
    score        REAL,
    max_score    REAL,
    seed         INTEGER,
    passed       INTEGER,
    error        TEXT,
    result       TEXT,
    submission   TEXT NOT NULL,
    grading_s    REAL NOT NULL,
    worker       TEXT NOT NULL,
    graded_at    TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (student, exercise, version, content_hash)
);
CREATE TABLE check_results (
    student      TEXT NOT NULL,
    exercise     TEXT NOT NULL,
    version      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    check_id     TEXT NOT NULL,
    status       TEXT NOT NULL,
    points       REAL NOT NULL,
    max_points   REAL NOT NULL,
    kind         TEXT,
    message      TEXT,
    PRIMARY KEY (student, exercise, version, content_hash, check_id),
    FOREIGN KEY (student, exercise, version, content_hash)
        REFERENCES gradings (student, exercise, version, content_hash) ON DELETE CASCADE
);
CREATE INDEX check_results_by_check ON check_results (exercise, version, check_id, status);
"""

_MIGRATIONS: dict[int, str] = {1: _SCHEMA_V1}  # version reached -> script from the one before


class StoreError(Exception):
    """The results database cannot be used (newer schema, not a database, unwritable)."""


@dataclass(frozen=True)
class Key:
    student: str
    exercise: str
    version: str
    content_hash: str


@dataclass
class StoredGrading:
    """One row of `gradings`, with the result decoded on demand."""

    key: Key
    outcome: str
    score: float | None
    max_score: float | None
    seed: int | None
    passed: bool | None
    error: str | None
    result_json: str | None
    submission: str
    grading_s: float
    worker: str
    graded_at: str
    attempts: int

    def result(self) -> SubmissionResult | None:
        if self.result_json is None:
            return None
        return SubmissionResult.from_dict(json.loads(self.result_json))


_COLUMNS = (
    "student, exercise, version, content_hash, outcome, score, max_score, seed, passed, "
    "error, result, submission, grading_s, worker, graded_at, attempts"
)


def _row(row: tuple) -> StoredGrading:
    return StoredGrading(
        key=Key(*row[:4]),
        outcome=row[4],
        score=row[5],
        max_score=row[6],
        seed=row[7],
        passed=None if row[8] is None else bool(row[8]),
        error=row[9],
        result_json=row[10],
        submission=row[11],
        grading_s=row[12],
        worker=row[13],
        graded_at=row[14],
        attempts=row[15],
    )


class ResultStore:
    """The database of one output folder. Use from one thread (the batch coordinator).

    One batch at a time writes it: opening takes an exclusive flock on
    `<db>.lock` (released by the kernel even after kill -9), so a second batch on
    the same output folder is refused instead of grading everything twice.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = open(path.with_name(path.name + ".lock"), "a+b")  # noqa: SIM115
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise StoreError(
                f"another grader batch is using {path}; wait for it or use another --out folder"
            ) from None
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a grading whose commit returned survives a power cut, not only a crash.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as error:
            self._lock.close()
            raise StoreError(f"{path} cannot be used as a results database: {error}") from None
        except StoreError:
            self._lock.close()
            raise

    def _migrate(self) -> None:
        current = self._db.execute("PRAGMA user_version").fetchone()[0]
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this grader's "
                f"{SCHEMA_VERSION}; upgrade grader or use another --out folder"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            self._db.execute("BEGIN IMMEDIATE")
            for statement in _MIGRATIONS[version].split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(version),),
            )
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", (_now(),)
            )
            self._db.execute(f"PRAGMA user_version = {version}")
            self._db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (or, with None, delete) one `meta` entry, in its own transaction."""
        if value is None:
            self._db.execute("DELETE FROM meta WHERE key=?", (key,))
        else:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def now(self) -> str:
        """The timestamp `record` would write now (comparable with `graded_at`)."""
        return _now()

    def lookup(self, key: Key) -> StoredGrading | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM gradings WHERE student=? AND exercise=? AND version=? "
            "AND content_hash=?",
            (key.student, key.exercise, key.version, key.content_hash),
        ).fetchone()
        return _row(row) if row else None

    def record(
        self,
        key: Key,
        *,
        submission: str,
        result: SubmissionResult | None,
        error: str | None,
        grading_s: float,
        worker: str,
    ) -> None:
        """Write one grading (or one failure to grade) and its checks in one transaction."""
        outcome = GRADED if result is not None else NOT_GRADED
        values = (
            outcome,
            result.score if result else None,
            result.max_score if result else None,
            result.seed if result else None,
            int(result.passed) if result else None,
            error,
            json.dumps(result.to_dict(), sort_keys=True) if result else None,
            submission,
            grading_s,
            worker,
            _now(),
        )
        ident = (key.student, key.exercise, key.version, key.content_hash)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "DELETE FROM check_results WHERE student=? AND exercise=? AND version=? "
                "AND content_hash=?",
                ident,
            )
            self._db.execute(
                f"INSERT INTO gradings ({_COLUMNS}) VALUES ({', '.join('?' * 16)}) "
                "ON CONFLICT (student, exercise, version, content_hash) DO UPDATE SET "
                "outcome=excluded.outcome, score=excluded.score, max_score=excluded.max_score, "
                "seed=excluded.seed, passed=excluded.passed, error=excluded.error, "
                "result=excluded.result, submission=excluded.submission, "
                "grading_s=excluded.grading_s, worker=excluded.worker, "
                "graded_at=excluded.graded_at, attempts=gradings.attempts + 1",
                (*ident, *values, 1),
            )
            if result is not None:
                self._db.executemany(
                    "INSERT INTO check_results (student, exercise, version, content_hash, "
                    "check_id, status, points, max_points, kind, message) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            *ident,
                            check.id,
                            check.status.value,
                            check.points,
                            check.max_points,
                            check.failure.kind if check.failure else None,
                            (check.failure.message if check.failure else check.message) or None,
                        )
                        for check in result.checks
                    ],
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def gradings(self, exercise: str, version: str) -> Iterator[StoredGrading]:
        """Every row for this exercise version, by student (streamed, not loaded at once)."""
        cursor = self._db.execute(
            f"SELECT {_COLUMNS} FROM gradings WHERE exercise=? AND version=? "
            "ORDER BY student, graded_at",
            (exercise, version),
        )
        for row in cursor:
            yield _row(row)

    def check_rows(self, exercise: str, version: str) -> Iterator[tuple]:
        """(student, content_hash, check_id, status, points, max_points, kind, message)."""
        yield from self._db.execute(
            "SELECT student, content_hash, check_id, status, points, max_points, kind, message "
            "FROM check_results WHERE exercise=? AND version=? ORDER BY student, check_id",
            (exercise, version),
        )

    def close(self) -> None:
        self._db.close()
        self._lock.close()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
