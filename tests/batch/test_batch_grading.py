"""A whole class graded for real: grades, resuming after SIGKILL, no regrading, Dask.

The class mixes the counter exercise's reference and known-buggy solutions
(their manifests say which check must catch each) with hostile submissions: one
sleeps forever at import, one calls os._exit at import, one prints fake
results. Every solution here grades deterministically (no stress check decides
a grade by luck), so whole databases can be compared run against run.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.grading.batch import BatchOptions, run_batch
from grader.grading.roster import discover
from grader.spec import load_exercise

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions" / "counter"
ASSIGNMENT = "counter-lab-"  # GitHub Classroom clone layout: <assignment>-<username>/

SOLUTION_STUDENTS = {
    "ada": "reference.py",
    "brian": "correct_semaphore.py",
    "chen": "buggy_ignores_n.py",
    "dora": "buggy_class_state.py",
    "emil": "buggy_unlocked.py",
}
HOSTILE = {
    "sleeper": "import time\nwhile True:\n    time.sleep(1)\n",
    "exiter": "import os\nos._exit(0)\n",
    # Prints what a naive grader might read as results, and ignores n like buggy_ignores_n.
    "liar": (
        "import json, sys, threading\n"
        "print(json.dumps({'check': 'increments-add-up', 'status': 'passed', 'points': 2}))\n"
        "print('===== 7 passed in 0.01s =====')\n"
        "print('{\"score\": 9, \"max_score\": 9}', file=sys.stderr)\n"
        "class Counter:\n"
        "    def __init__(self, start=0):\n"
        "        self._value = start\n"
        "        self._lock = threading.Lock()\n"
        "    def increment(self, n=1):\n"
        "        print(json.dumps({'check': 'no-lost-updates', 'status': 'passed'}))\n"
        "        with self._lock:\n"
        "            self._value += 1\n"
        "    def value(self):\n"
        "        return self._value\n"
    ),
}


def manifest_expectation(path: Path) -> tuple[str, list[str]]:
    """('pass', []) or ('fail', [check ids]) from a solution's `# expect:` line."""
    for line in path.read_text().splitlines()[:5]:
        if line.startswith("# expect:"):
            words = line.split(":", 1)[1].split()
            return words[0], words[1:]
    raise AssertionError(f"{path} has no '# expect:' line")


@pytest.fixture(scope="module")
def exercise():
    return load_exercise(REPO / "exercises" / "counter")


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    for student, solution in SOLUTION_STUDENTS.items():
        folder = root / f"{ASSIGNMENT}{student}"
        folder.mkdir()
        shutil.copyfile(SOLUTIONS / solution, folder / "counter.py")
    for student, code in HOSTILE.items():
        folder = root / f"{ASSIGNMENT}{student}"
        folder.mkdir()
        (folder / "counter.py").write_text(code)
    return root


@pytest.fixture(scope="module")
def uninterrupted(exercise, class_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("uninterrupted")
    summary = run_batch(exercise, class_dir, BatchOptions(out=out, jobs=2), tty=False)
    return out, summary


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    """The gradebook's rows by student, without when each was graded (differs run to run)."""
    with open(out / "gradebook.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len({r["student"] for r in rows}), "a student appears twice"
    for row in rows:
        row.pop("graded_at")
    return {row["student"]: row for row in rows}


def database(out: Path) -> tuple[list[tuple], list[tuple]]:
    """The database's content, without what legitimately differs run to run (times, workers)."""
    db = sqlite3.connect(out / "results.db")
    gradings = db.execute(
        "SELECT student, exercise, version, content_hash, outcome, score, max_score, seed, "
        "passed, error, attempts FROM gradings ORDER BY student"
    ).fetchall()
    checks = db.execute(
        "SELECT student, content_hash, check_id, status, points, kind FROM check_results "
        "ORDER BY student, check_id"
    ).fetchall()
    db.close()
    return gradings, checks


def test_gradebook_has_one_row_per_student_with_the_right_grades(exercise, uninterrupted) -> None:
    out, summary = uninterrupted
    assert summary.not_graded == [] and summary.exit_code == 0
    book = gradebook(out)
    assert sorted(book) == sorted([*SOLUTION_STUDENTS, *HOSTILE])
    full = f"{exercise.max_score:g}"
    for student, solution in SOLUTION_STUDENTS.items():
        row = book[student]
        expect, must_fail = manifest_expectation(SOLUTIONS / solution)
        assert row["max"] == full
        if expect == "pass":
            assert (row["score"], row["status"]) == (full, "passed"), f"{student}: {row}"
        else:
            assert row["status"] == "failed", f"{student}: {row}"
            assert row[must_fail[0]] == "0", f"{student} should lose {must_fail[0]}: {row}"
            assert float(row["score"]) < exercise.max_score
        assert row["seed"].isdigit()


def test_hostile_submissions_are_graded_like_any_other_and_get_what_their_code_earns(
    exercise, uninterrupted
) -> None:
    out, _ = uninterrupted
    book = gradebook(out)
    for student in ("sleeper", "exiter"):
        assert (book[student]["score"], book[student]["status"]) == ("0", "failed"), book[student]
    liar = book["liar"]
    # Its printed "results" count for nothing: it loses increments-add-up, as its code deserves.
    assert liar["status"] == "failed" and liar["increments-add-up"] == "0"
    assert liar["score"] == book["chen"]["score"]


def test_every_student_gets_a_report_linked_from_the_class_report(uninterrupted) -> None:
    out, _ = uninterrupted
    index = (out / "index.html").read_text()
    for student in [*SOLUTION_STUDENTS, *HOSTILE]:
        assert (out / "students" / f"{student}.html").is_file()
        assert f'href="students/{student}.html"' in index
    assert "Pass rate per check" in index and "Most common failures" in index


def test_a_second_run_grades_nothing(exercise, class_dir: Path, uninterrupted) -> None:
    out, _ = uninterrupted
    before = database(out)
    summary = run_batch(exercise, class_dir, BatchOptions(out=out, jobs=2), tty=False)
    assert (summary.graded, summary.skipped) == (0, len(SOLUTION_STUDENTS) + len(HOSTILE))
    assert database(out) == before


def test_regrade_grades_again_and_counts_the_attempt(exercise, class_dir: Path, tmp_path) -> None:
    one = discover(class_dir, exercise.entry)
    one.submissions = [s for s in one.submissions if s.student == "ada"]
    out = tmp_path / "out"
    run_batch(exercise, one, BatchOptions(out=out, jobs=1), tty=False)
    again = run_batch(exercise, one, BatchOptions(out=out, jobs=1, regrade=True), tty=False)
    assert (again.graded, again.skipped) == (1, 0)
    gradings, _ = database(out)
    assert [(row[0], row[-1]) for row in gradings] == [("ada", 2)]


def batch_command(class_dir: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "batch", "counter", str(class_dir), "--out", str(out),
            *extra]


def graded_rows(out: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{out / 'results.db'}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT count(*) FROM gradings").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_a_run_killed_halfway_resumes_to_the_same_database(
    class_dir: Path, uninterrupted, tmp_path: Path
) -> None:
    reference_out, _ = uninterrupted
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    total = len(SOLUTION_STUDENTS) + len(HOSTILE)
    victim = subprocess.Popen(
        batch_command(class_dir, out, "-j", "2"), cwd=REPO, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while graded_rows(out) < total // 2:
            assert victim.poll() is None, "the batch ended before it could be killed halfway"
            assert time.monotonic() < deadline, "the batch graded nothing in 300 s"
            time.sleep(0.2)  # polling a real process's progress; the assertions do not rely on it
        os.kill(victim.pid, signal.SIGKILL)
    finally:
        try:  # whatever is left of the session this test started (sandboxes die by PDEATHSIG)
            os.killpg(victim.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        victim.wait(60)
    kept = graded_rows(out)
    assert total // 2 <= kept < total
    resumed = subprocess.run(
        batch_command(class_dir, out, "-j", "2"), cwd=REPO, env=env, capture_output=True,
        text=True, timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"{total - kept} graded, {kept} already graded" in resumed.stderr
    assert database(out) == database(reference_out)
    assert gradebook(out) == gradebook(reference_out)


def test_a_dask_local_cluster_gives_the_same_gradebook(
    exercise, class_dir: Path, uninterrupted, tmp_path: Path
) -> None:
    from grader.grading.distributed import DaskBackend, start_local_cluster

    reference_out, _ = uninterrupted
    out = tmp_path / "out"
    with start_local_cluster(workers=2, threads_per_worker=1) as cluster:
        backend = DaskBackend(exercise, cluster)
        try:
            workers = set(backend.client.nthreads())
            summary = run_batch(exercise, class_dir, BatchOptions(out=out), backend=backend,
                                tty=False)
        finally:
            backend.close()
    assert summary.exit_code == 0 and summary.graded == len(SOLUTION_STUDENTS) + len(HOSTILE)
    assert gradebook(out) == gradebook(reference_out)
    assert database(out) == database(reference_out)
    db = sqlite3.connect(out / "results.db")
    used = {row[0] for row in db.execute("SELECT worker FROM gradings")}
    assert used <= workers and all(w.startswith("tcp://127.0.0.1:") for w in used)
    # Replay commands name the submission inside the class folder, not the worker's scratch.
    for student, result in db.execute("SELECT student, result FROM gradings"):
        replay = json.loads(result)["replay"]
        assert f"grader check counter {ASSIGNMENT}{student} --seed" in replay, replay


def test_ctrl_c_finishes_the_gradings_in_flight_and_the_next_run_does_the_rest(
    class_dir: Path, tmp_path: Path
) -> None:
    small = tmp_path / "class"
    small.mkdir()
    for student in ("ada", "chen", "dora"):
        shutil.copytree(class_dir / f"{ASSIGNMENT}{student}", small / f"{ASSIGNMENT}{student}")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    batch = subprocess.Popen(
        batch_command(small, out, "-j", "1"), cwd=REPO, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 300
    while graded_rows(out) < 1:
        assert batch.poll() is None, "the batch ended before it could be interrupted"
        assert time.monotonic() < deadline, "the batch graded nothing in 300 s"
        time.sleep(0.1)  # polling a real process's progress; the assertions do not rely on it
    os.kill(batch.pid, signal.SIGINT)
    _, stderr = batch.communicate(timeout=300)
    assert batch.returncode == 130, stderr
    assert "interrupted" in stderr
    kept = graded_rows(out)
    assert kept >= 1
    assert (out / "gradebook.csv").is_file() and "interrupted" in (out / "index.html").read_text()
    resumed = subprocess.run(batch_command(small, out), cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{3 - kept} graded, {kept} already graded" in resumed.stderr
    assert sorted(gradebook(out)) == ["ada", "chen", "dora"]


def test_exclusive_checks_of_a_real_batch_run_with_the_machine_to_themselves(tmp_path: Path) -> None:
    from grader.grading.batch import LocalBackend
    from grader.grading.machine_share import ReadersWriterShare

    class RecordingShare(ReadersWriterShare):
        """Notes, at each exclusive hold, how many gradings still shared the machine."""

        def __init__(self) -> None:
            super().__init__()
            self.sharers_seen: list[int] = []

        def exclusive(self):
            outer = super().exclusive()

            class Hold:
                def __enter__(inner):
                    outer.__enter__()
                    self.sharers_seen.append(self._readers)

                def __exit__(inner, *exc):
                    return outer.__exit__(*exc)

            return Hold()

    pmap = load_exercise(REPO / "exercises" / "pmap")
    assert any(check.exclusive for check in pmap.checks)
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("reference", "correct_fork", "correct_task_queue"):
        shutil.copyfile(REPO / "solutions" / "pmap" / f"{name}.py", folder / f"{name}.py")
    share = RecordingShare()
    backend = LocalBackend(pmap, jobs=2, machine=share)
    try:
        summary = run_batch(pmap, folder, BatchOptions(out=tmp_path / "out"), backend=backend,
                            tty=False)
    finally:
        backend.close()
    assert summary.graded == 3
    assert share.sharers_seen == [0, 0, 0]  # each grading's exclusive phase ran alone


def test_gradebook_says_how_each_check_ended_when_and_what_was_graded(
    exercise, class_dir: Path, uninterrupted
) -> None:
    from datetime import datetime

    from grader.grading import submission_hash

    out, _ = uninterrupted
    book = gradebook(out)
    with open(out / "gradebook.csv", newline="") as handle:
        header = next(csv.reader(handle))
    for check in exercise.all_checks:  # each check's status right after its points
        assert header[header.index(check.id) + 1] == f"{check.id} status"
    chen = book["chen"]  # ignores n: fails increments-add-up, so the explorer check is skipped
    assert (chen["increments-add-up"], chen["increments-add-up status"]) == ("0", "failed")
    assert chen["no-lost-updates status"] == "skipped" and chen["imports status"] == "passed"
    assert book["emil"]["no-lost-updates status"] == "failed"
    assert book["sleeper"]["imports status"] == "timeout"
    for student, row in book.items():
        folder = class_dir / f"{ASSIGNMENT}{student}"
        assert row["submission_hash"] == submission_hash(folder)
        assert float(row["percent"]) == pytest.approx(
            round(100 * float(row["score"]) / float(row["max"]), 1))
    with open(out / "gradebook.csv", newline="") as handle:
        stamps = [row["graded_at"] for row in csv.DictReader(handle)]
    assert all(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ") for s in stamps)


def test_student_reports_replay_with_paths_inside_the_class_folder(class_dir: Path,
                                                                   uninterrupted) -> None:
    out, _ = uninterrupted
    page = (out / "students" / "chen.html").read_text()
    assert f"grader check counter {ASSIGNMENT}chen --seed" in page
    assert str(class_dir) not in page
