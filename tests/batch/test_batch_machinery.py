"""The batch loop itself, with a stand-in grading: resuming a --regrade, faults, the window.

Real gradings are in test_batch_grading.py; here the grading is a function that
answers at once, so these tests pin down the coordinator's bookkeeping.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
from pathlib import Path

import pytest

from grader.grading import GradingError, submission_hash
from grader.grading.batch import BatchOptions, LocalBackend, run_batch
from grader.results import CheckResult, Status, SubmissionResult
from grader.spec import load_exercise

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def exercise():
    return load_exercise(REPO / "exercises" / "counter")


def instant(exercise, path: Path, options) -> SubmissionResult:
    """Full marks, unless the file says `infra` (a GradingError) or `crash` (a grader bug)."""
    text = Path(path).read_text()
    if "infra" in text:
        raise GradingError("the sandbox could not start")
    if "crash" in text:
        raise RuntimeError("grader bug\nsecond line")
    checks = [CheckResult(c.id, c.title, Status.PASSED, c.points, c.points)
              for c in exercise.all_checks]
    return SubmissionResult(exercise.id, exercise.version, exercise.title, 7,
                            exercise.max_score, exercise.max_score, checks)


def make_class(root: Path, **students: str) -> Path:
    root.mkdir()
    for student, text in students.items():
        (root / f"{student}.py").write_text(text)
    return root


def attempts(out: Path) -> dict[str, int]:
    db = sqlite3.connect(out / "results.db")
    try:
        return dict(db.execute("SELECT student, attempts FROM gradings"))
    finally:
        db.close()


def run(exercise, folder: Path, out: Path, *, regrade: bool = False, **kwargs):
    backend = LocalBackend(exercise, jobs=2, grade=instant)
    try:
        return run_batch(exercise, folder, BatchOptions(out=out, regrade=regrade),
                         backend=backend, tty=False, **kwargs)
    finally:
        backend.close()


def test_an_interrupted_regrade_resumes_without_regrading_what_it_already_did(
    exercise, tmp_path: Path
) -> None:
    folder = make_class(tmp_path / "class", a="a = 1", b="b = 1", c="c = 1", d="d = 1")
    out = tmp_path / "out"
    assert run(exercise, folder, out).graded == 4
    calls = 0

    def interrupt_on_third(path: Path) -> str:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return submission_hash(path)

    interrupted = run(exercise, folder, out, regrade=True, hash_submission=interrupt_on_third)
    assert interrupted.interrupted and interrupted.exit_code == 130
    after = attempts(out)
    # a and b were handed out (each finished, or was cancelled before it started); c and d never.
    assert (after["c"], after["d"]) == (1, 1)
    assert interrupted.graded == sum(after[s] - 1 for s in "ab")
    resumed = run(exercise, folder, out)
    assert (resumed.graded, resumed.skipped) == (4 - interrupted.graded, interrupted.graded)
    assert attempts(out) == {"a": 2, "b": 2, "c": 2, "d": 2}
    assert run(exercise, folder, out).graded == 0  # the regrade is over


def test_submissions_that_cannot_be_graded_are_listed_with_why_and_retried(
    exercise, tmp_path: Path
) -> None:
    folder = make_class(tmp_path / "class", ok="x = 1", sandbox="infra", bug="crash")
    out = tmp_path / "out"
    summary = run(exercise, folder, out)
    assert summary.exit_code == 1
    assert summary.not_graded == [
        ("bug", "RuntimeError: grader bug"),
        ("sandbox", "the sandbox could not start"),
    ]
    with open(out / "gradebook.csv", newline="") as handle:
        status = {row["student"]: row["status"] for row in csv.DictReader(handle)}
    assert status == {"bug": "not-graded", "ok": "passed", "sandbox": "not-graded"}
    assert "the sandbox could not start" in (out / "index.html").read_text()
    (folder / "sandbox.py").write_text("fixed = 1")
    again = run(exercise, folder, out)
    assert (again.graded, again.skipped, [s for s, _ in again.not_graded]) == (1, 1, ["bug"])


def test_roster_students_without_a_submission_are_in_the_gradebook_as_missing(
    exercise, tmp_path: Path
) -> None:
    folder = make_class(tmp_path / "class", octocat="x = 1")
    roster = tmp_path / "roster.csv"
    roster.write_text("identifier,github_username\ns1,octocat\ns2,ghost\n")
    out = tmp_path / "out"
    backend = LocalBackend(exercise, jobs=1, grade=instant)
    summary = run_batch(exercise, folder, BatchOptions(out=out, roster=roster), backend=backend,
                        tty=False)
    backend.close()
    assert summary.exit_code == 0 and summary.missing == ["s2"]
    with open(out / "gradebook.csv", newline="") as handle:
        rows = {row["student"]: row["status"] for row in csv.DictReader(handle)}
    assert rows == {"s1": "passed", "s2": "missing"}


class CountingBackend(LocalBackend):
    """Counts gradings handed out and not yet finished, to see the batch's window."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.outstanding = 0
        self.most = 0

    def submit(self, job):
        with self.lock:
            self.outstanding += 1
            self.most = max(self.most, self.outstanding)
        future = super().submit(job)
        future.add_done_callback(lambda _: self._done())
        return future

    def _done(self) -> None:
        with self.lock:
            self.outstanding -= 1


def test_at_most_two_gradings_per_slot_are_in_flight_whatever_the_class_size(
    exercise, tmp_path: Path
) -> None:
    folder = make_class(tmp_path / "class", **{f"s{i:03d}": f"x = {i}" for i in range(60)})
    backend = CountingBackend(exercise, jobs=2, grade=instant)
    summary = run_batch(exercise, folder, BatchOptions(out=tmp_path / "out"), backend=backend,
                        tty=False)
    backend.close()
    assert summary.graded == 60
    assert backend.most <= 4
