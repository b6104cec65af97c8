"""Grade a whole class: parallel and resumable.

Owns the batch loop: which submissions still need grading (asking the store),
handing them to a backend (threads on this machine, or Dask workers), and writing
each finished grading to the store at once; then it asks `gradebook` for the
batch's outputs.

It never grades by itself (`grade_submission` does), never touches the database
schema (`store` does), never renders (`gradebook` and `report` do), and holds at most
a window of in-flight gradings (two per slot) plus one full result at a time; per
student it keeps only a few short strings (its hash, a gradebook link), so memory
stays small whatever the class size.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from grader.grading.gradebook import (
    STUDENTS_FOLDER,
    _points,
    _write_student_report,
    write_outputs,
)
from grader.grading.machine_share import ReadersWriterShare
from grader.grading.options import BatchOptions, BatchSummary
from grader.grading.progress import Progress, format_duration
from grader.grading.roster import ClassList, Submission, discover
from grader.grading.store import GRADED, Key, ResultStore
from grader.results import SubmissionResult

if TYPE_CHECKING:
    from grader.spec import Exercise

DATABASE_NAME = "results.db"


# --------------------------------------------------------------------------- backends


@dataclass(frozen=True)
class GradeJob:
    """One submission to grade, as the backend receives it."""

    submission: Submission
    content_hash: str


@dataclass
class StudentGrading:
    """What a backend hands back: a result, or why there is none."""

    result: SubmissionResult | None
    error: str | None
    grading_s: float
    worker: str


GradeFunction = Callable[["Exercise", Path, Any], SubmissionResult]


class GradingBackend(Protocol):
    """Runs gradings somewhere and hands back futures of `StudentGrading`."""

    name: str
    slots: int  # how many gradings it runs at once

    def submit(self, job: GradeJob) -> concurrent.futures.Future: ...

    def close(self) -> None: ...


def default_jobs() -> int:
    """One grading per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def grade_timed(
    exercise: Exercise,
    path: Path,
    *,
    sandbox: str | None,
    machine: Any,
    worker: str,
    grade: GradeFunction | None = None,
    exercise_ref: str | None = None,
) -> StudentGrading:
    """Grade one submission; a GradingError becomes an outcome, never an exception."""
    from grader.grading import GradeOptions, GradingError

    if grade is None:
        from grader.grading import grade_submission as grade
    options = GradeOptions(seed=None, sandbox=sandbox, machine=machine, exercise_ref=exercise_ref,
                           warm=True)
    started = time.monotonic()
    try:
        result = grade(exercise, path, options)
    except GradingError as error:
        return StudentGrading(None, str(error), time.monotonic() - started, worker)
    return StudentGrading(result, None, time.monotonic() - started, worker)


class LocalBackend:
    """Gradings on this machine: long-lived threads, each waiting on sandboxed children."""

    name = "local"

    def __init__(
        self,
        exercise: Exercise,
        *,
        jobs: int | None = None,
        sandbox: str | None = None,
        grade: GradeFunction | None = None,
        machine: ReadersWriterShare | None = None,
        exercise_ref: str | None = None,
    ) -> None:
        self.exercise = exercise
        self.exercise_ref = exercise_ref
        self.slots = jobs or default_jobs()
        self.sandbox = sandbox
        self.grade = grade
        self.machine = machine or ReadersWriterShare()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.slots, thread_name_prefix="grading"
        )

    def submit(self, job: GradeJob) -> concurrent.futures.Future:
        return self._pool.submit(
            grade_timed,
            self.exercise,
            job.submission.path,
            sandbox=self.sandbox,
            machine=self.machine,
            worker="local",
            grade=self.grade,
            exercise_ref=self.exercise_ref,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        from grader.sandbox.warm import POOL

        POOL.prune()  # the warm sessions of the pool's threads ended with them


# --------------------------------------------------------------------------- the batch


def _hash_submission(path: Path) -> str:
    from grader.grading import submission_hash

    return submission_hash(path)


def run_batch(
    exercise: Exercise,
    submissions: Path | ClassList,
    options: BatchOptions,
    *,
    backend: GradingBackend | None = None,
    progress_stream: TextIO | None = None,
    tty: bool | None = None,
    hash_submission: Callable[[Path], str] = _hash_submission,
) -> BatchSummary:
    """Grade every submission not yet in `options.out`'s database, then write the outputs.

    Interrupted by Ctrl-C, it stops handing out work, waits for the gradings in
    flight (a second Ctrl-C abandons them), writes the outputs for what is
    done and returns with `interrupted` set; every finished grading is already
    committed, so the next run resumes from there.
    """
    started = time.monotonic()
    if options.class_folder is None and not isinstance(submissions, ClassList):
        options.class_folder = Path(submissions)
    classlist = (
        submissions
        if isinstance(submissions, ClassList)
        else discover(submissions, exercise.entry, options.roster, exclude=options.out)
    )
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / STUDENTS_FOLDER).mkdir(exist_ok=True)
    summary = BatchSummary(
        total=len(classlist.submissions),
        missing=list(classlist.missing),
        warnings=list(classlist.warnings),
        out=options.out,
    )
    store = ResultStore(options.out / DATABASE_NAME)
    own_backend = backend is None
    if backend is None:
        backend = LocalBackend(
            exercise, jobs=options.jobs, sandbox=options.sandbox, exercise_ref=options.exercise_ref
        )
    progress = Progress(summary.total, progress_stream, tty=tty)
    for warning in classlist.warnings:
        progress.note(f"note: {warning}")
    hashes: dict[str, str] = {}
    # A --regrade is remembered until it completes, so an interrupted one resumes too:
    # rows graded before it started count as stale, rows graded since as done.
    marker = f"regrade-since:{exercise.id}:{exercise.version}"
    stale_before = store.get_meta(marker)
    if options.regrade and stale_before is None:
        stale_before = store.now()
        store.set_meta(marker, stale_before)
    try:
        _grade_all(
            exercise, classlist, options, store, backend, progress, summary, hashes,
            hash_submission, stale_before,
        )
        if not summary.interrupted and stale_before is not None:
            store.set_meta(marker, None)
    finally:
        if own_backend:
            backend.close()
        progress.close()
    try:
        write_outputs(exercise, classlist, store, options, hashes, summary)
    finally:
        store.close()
    summary.elapsed_s = time.monotonic() - started
    return summary


def _grade_all(
    exercise: Exercise,
    classlist: ClassList,
    options: BatchOptions,
    store: ResultStore,
    backend: GradingBackend,
    progress: Progress,
    summary: BatchSummary,
    hashes: dict[str, str],
    hash_submission: Callable[[Path], str],
    stale_before: str | None,
) -> None:
    pending: dict[concurrent.futures.Future, GradeJob] = {}
    queue = iter(classlist.submissions)
    exhausted = False

    def refill() -> None:
        nonlocal exhausted
        window = max(2, 2 * backend.slots)  # enough queued work that no slot idles; no more
        while not exhausted and len(pending) < window:
            submission = next(queue, None)
            if submission is None:
                exhausted = True
                return
            try:
                content_hash = hash_submission(submission.path)
            except OSError as error:
                why = f"its files cannot be read ({error.strerror or error})"
                summary.not_graded.append((submission.student, why))
                progress.finish(submission.student, f"not graded: {why}", graded=False)
                continue
            hashes[submission.student] = content_hash
            key = Key(submission.student, exercise.id, exercise.version, content_hash)
            stored = store.lookup(key)
            if (
                stored is not None
                and stored.outcome == GRADED
                and (stale_before is None or stored.graded_at > stale_before)
            ):
                summary.skipped += 1
                progress.skip(submission.student)
                continue
            job = GradeJob(submission, content_hash)
            pending[backend.submit(job)] = job

    try:
        refill()
        while pending:
            done, _ = concurrent.futures.wait(
                list(pending), timeout=1.0, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                job = pending.pop(future)
                _finish(exercise, job, future, store, options, progress, summary)
            refill()
    except KeyboardInterrupt:
        summary.interrupted = True
        progress.note(
            f"interrupted: waiting for {len(pending)} grading(s) in flight "
            "(Ctrl-C again to abandon them; they are regraded next run)"
        )
        for future in list(pending):
            if future.cancel():
                pending.pop(future)
        for future in concurrent.futures.as_completed(list(pending)):
            _finish(exercise, pending.pop(future), future, store, options, progress, summary)


def _finish(
    exercise: Exercise,
    job: GradeJob,
    future: concurrent.futures.Future,
    store: ResultStore,
    options: BatchOptions,
    progress: Progress,
    summary: BatchSummary,
) -> None:
    student = job.submission.student
    try:
        outcome: StudentGrading = future.result()
    except Exception as error:  # the backend failed (a Dask worker died, a grader bug)
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        outcome = StudentGrading(None, f"{type(error).__name__}: {message}".rstrip(": "), 0.0, "?")
    key = Key(student, exercise.id, exercise.version, job.content_hash)
    result = outcome.result
    if result is not None:
        result.submission = str(job.submission.path)
        relative_replays(result, job.submission.path, options.class_folder)
    store.record(
        key,
        submission=str(job.submission.path),
        result=result,
        error=outcome.error,
        grading_s=outcome.grading_s,
        worker=outcome.worker,
    )
    summary.grading_s += outcome.grading_s
    if result is None:
        why = outcome.error or "unknown reason"
        summary.not_graded.append((student, why))
        progress.finish(student, f"not graded: {why}", graded=False)
        return
    summary.graded += 1
    problem = _write_student_report(options.out, student, result, options.learner_view)
    if problem:
        summary.warnings.append(problem)
        progress.note(f"note: {problem}")
    progress.finish(
        student,
        f"{_points(result.score)}/{_points(result.max_score)} "
        f"({format_duration(outcome.grading_s)}, seed {result.seed})",
        graded=True,
    )


def relative_replays(result: SubmissionResult, path: Path, class_folder: Path | None) -> None:
    """The submission and its replays named relative to the class folder, in place.

    A student page or a gradebook is read on another machine, or by the student: the
    instructor's absolute path means nothing there, the path inside the class folder does.
    """
    if class_folder is None:
        return
    try:
        relative = Path(os.path.relpath(Path(path).resolve(), Path(class_folder).resolve()))
    except ValueError:  # another drive (Windows): keep the command as it was
        return
    if relative.parts and relative.parts[0] == "..":
        return
    result.name_submission(str(relative))

