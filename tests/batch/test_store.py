"""The results database: schema version, one transaction per grading, crash safety."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from grader.grading.store import GRADED, NOT_GRADED, SCHEMA_VERSION, Key, ResultStore, StoreError
from grader.results import CheckResult, Failure, Status, SubmissionResult


def result(score: float = 3.0) -> SubmissionResult:
    return SubmissionResult(
        exercise="counter",
        version="1",
        title="A counter",
        seed=42,
        score=score,
        max_score=4.0,
        checks=[
            CheckResult("a", "A", Status.PASSED, score, 3.0),
            CheckResult(
                "b", "B", Status.FAILED, 0.0, 1.0, failure=Failure("race", "lost an update")
            ),
        ],
    )


KEY = Key("alice", "counter", "1", "abc123")


def test_new_database_is_in_wal_mode_at_the_current_schema_version(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "results.db")
    assert store.schema_version == SCHEMA_VERSION
    store.close()
    raw = sqlite3.connect(tmp_path / "results.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(
        SCHEMA_VERSION
    )


def test_a_grading_is_stored_with_its_checks_and_read_back_whole(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "results.db")
    store.record(KEY, submission="subs/alice.py", result=result(), error=None, grading_s=1.5,
                 worker="local")
    stored = store.lookup(KEY)
    assert stored is not None and stored.outcome == GRADED
    assert (stored.score, stored.max_score, stored.seed, stored.passed) == (3.0, 4.0, 42, False)
    assert stored.result() == result()
    rows = list(store.check_rows("counter", "1"))
    assert [(r[2], r[3], r[6]) for r in rows] == [("a", "passed", None), ("b", "failed", "race")]
    assert store.lookup(Key("alice", "counter", "2", "abc123")) is None


def test_grading_again_replaces_the_row_and_counts_the_attempt(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "results.db")
    store.record(KEY, submission="s", result=None, error="sandbox failed", grading_s=0.1,
                 worker="local")
    assert store.lookup(KEY).outcome == NOT_GRADED
    store.record(KEY, submission="s", result=result(4.0), error=None, grading_s=1.0,
                 worker="local")
    stored = store.lookup(KEY)
    assert (stored.outcome, stored.score, stored.error, stored.attempts) == (GRADED, 4.0, None, 2)
    assert len(list(store.gradings("counter", "1"))) == 1


def test_a_database_from_a_newer_grader_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.db"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError, match="newer than this grader"):
        ResultStore(path)


def test_a_process_killed_inside_a_transaction_leaves_no_partial_grading(tmp_path: Path) -> None:
    path = tmp_path / "results.db"
    ResultStore(path).close()
    # A real process starts writing a grading and is SIGKILLed before the commit.
    script = f"""
import os, signal, sqlite3
db = sqlite3.connect({str(path)!r}, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO gradings (student, exercise, version, content_hash, outcome, submission,"
           " grading_s, worker, graded_at) VALUES ('bob', 'counter', '1', 'h', 'graded', 's', 1,"
           " 'w', 'now')")
os.kill(os.getpid(), signal.SIGKILL)
"""
    child = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert child.returncode == -9
    store = ResultStore(path)
    assert store.lookup(Key("bob", "counter", "1", "h")) is None
    store.record(KEY, submission="s", result=result(), error=None, grading_s=1.0, worker="w")
    assert store.lookup(KEY) is not None


def test_a_second_batch_on_the_same_database_is_refused_until_the_first_closes(
    tmp_path: Path,
) -> None:
    first = ResultStore(tmp_path / "results.db")
    with pytest.raises(StoreError, match="another grader batch is using"):
        ResultStore(tmp_path / "results.db")
    first.close()
    ResultStore(tmp_path / "results.db").close()
