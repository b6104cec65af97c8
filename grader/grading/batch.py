"""Grade a whole class: parallel, resumable, with a gradebook and a class report.

Owns the batch loop: which submissions still need grading (asking the store),
handing them to a backend (threads on this machine, or Dask workers), writing
each finished grading to the store at once, and the batch's outputs
(gradebook.csv, one HTML report per student, the class report). Also owns the
machine share that lets `exclusive` checks run with the machine to themselves.

It never grades by itself (`grade_submission` does), never touches the database
schema (`store` does), and holds at most a window of in-flight gradings (two
per slot) plus one full result at a time; per student it keeps only a few short
strings (its hash, a gradebook link), so memory stays small whatever the class size.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import fcntl
import heapq
import html
import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from grader.grading.progress import Progress, format_duration
from grader.grading.roster import ClassList, Submission, discover
from grader.grading.store import GRADED, Key, ResultStore, StoredGrading
from grader.results import Status, SubmissionResult

if TYPE_CHECKING:
    from grader.spec import Exercise

DATABASE_NAME = "results.db"
GRADEBOOK_NAME = "gradebook.csv"
CLASS_REPORT_NAME = "index.html"
STUDENTS_FOLDER = "students"


# --------------------------------------------------------------------------- machine share


class ReadersWriterShare:
    """A readers-writer lock over the machine, as the `MachineShare` grading calls.

    Ordinary checks hold it shared (many gradings at once, one per core); a check
    marked `exclusive` holds it alone, so a speed or parallelism measurement
    never competes with another submission. Writers are preferred: once an
    exclusive check waits, no new shared holder enters, so it cannot starve.

    With `lock_file`, the share also spans processes on this machine (flock), which
    is how Dask worker processes on one host stay out of each other's way.

    A thread that holds the share and asks for it exclusively gives up its
    shared hold while it waits and takes it back afterwards, so a grading that
    nests `exclusive()` inside `shared()` cannot deadlock against another.
    """

    def __init__(self, lock_file: Path | None = None) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._held = threading.local()
        self._lock_file = lock_file
        self.exclusive_holds = 0  # how many exclusive sections ran (diagnostics, tests)
        self.readers_waiting = 0  # threads waiting to share (diagnostics, tests)

    @property
    def writers_waiting(self) -> int:
        return self._writers_waiting

    def _shared_depth(self) -> int:
        return getattr(self._held, "shared", 0)

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        if getattr(self._held, "exclusive", 0):
            yield  # already alone on the machine
            return
        self._acquire_shared()
        self._held.shared = self._shared_depth() + 1
        handle = self._flock(fcntl.LOCK_SH) if self._shared_depth() == 1 else None
        try:
            yield
        finally:
            if handle is not None:
                handle.close()
            self._held.shared = self._shared_depth() - 1
            self._release_shared()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        if getattr(self._held, "exclusive", 0):
            self._held.exclusive += 1
            try:
                yield
            finally:
                self._held.exclusive -= 1
            return
        given_up = self._shared_depth()
        for _ in range(given_up):
            self._release_shared()
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
            self.exclusive_holds += 1
        self._held.exclusive = 1
        handle = self._flock(fcntl.LOCK_EX)
        try:
            yield
        finally:
            if handle is not None:
                handle.close()
            self._held.exclusive = 0
            with self._cond:
                self._writer = False
                self._cond.notify_all()
            for _ in range(given_up):
                self._acquire_shared(reentering=True)

    def _acquire_shared(self, reentering: bool = False) -> None:
        with self._cond:
            # A thread taking back a hold it gave up does not wait behind new writers.
            self.readers_waiting += 1
            while self._writer or (self._writers_waiting and not reentering):
                self._cond.wait()
            self.readers_waiting -= 1
            self._readers += 1

    def _release_shared(self) -> None:
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    def _flock(self, mode: int) -> Any:
        if self._lock_file is None:
            return None
        handle = open(self._lock_file, "a+b")  # noqa: SIM115 - closed when the hold ends
        fcntl.flock(handle.fileno(), mode)
        return handle


# --------------------------------------------------------------------------- backends


@dataclass(frozen=True)
class GradeJob:
    """One submission to grade, as the backend receives it."""

    submission: Submission
    content_hash: str


@dataclass
class GradeOutcome:
    """What a backend hands back: a result, or why there is none."""

    result: SubmissionResult | None
    error: str | None
    grading_s: float
    worker: str


GradeFunction = Callable[["Exercise", Path, Any], SubmissionResult]


class GradingBackend(Protocol):
    """Runs gradings somewhere and hands back futures of `GradeOutcome`."""

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
) -> GradeOutcome:
    """Grade one submission; a GradingError becomes an outcome, never an exception."""
    from grader.grading import GradeOptions, GradingError

    if grade is None:
        from grader.grading import grade_submission as grade
    options = GradeOptions(seed=None, sandbox=sandbox, machine=machine, exercise_ref=exercise_ref)
    started = time.monotonic()
    try:
        result = grade(exercise, path, options)
    except GradingError as error:
        return GradeOutcome(None, str(error), time.monotonic() - started, worker)
    return GradeOutcome(result, None, time.monotonic() - started, worker)


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


# --------------------------------------------------------------------------- the batch


@dataclass
class BatchOptions:
    out: Path
    roster: Path | None = None
    regrade: bool = False
    jobs: int | None = None  # local backend only
    sandbox: str | None = None
    learner_view: bool = True  # student reports as learners may see them (hidden checks masked)
    exercise_ref: str | None = None  # how the user named the exercise, for replay commands
    # replay commands name submissions relative to this folder (default: the class folder)
    class_folder: Path | None = None


@dataclass
class BatchSummary:
    """What a batch did; `exit_code` is 0 when every submission has a grade."""

    total: int = 0
    graded: int = 0  # graded by this run
    skipped: int = 0  # already in the database
    not_graded: list[tuple[str, str]] = field(default_factory=list)  # (student, why)
    missing: list[str] = field(default_factory=list)  # roster students without a submission
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False
    out: Path | None = None
    elapsed_s: float = 0.0
    grading_s: float = 0.0  # summed wall time of this run's gradings, as the backend measured

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.not_graded else 0


def safe_name(student: str) -> str:
    """A file name for a student's report: readable, and distinct for distinct ids."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", student).strip("._") or "student"
    if cleaned != student:
        import hashlib

        cleaned += "-" + hashlib.sha256(student.encode()).hexdigest()[:8]
    return cleaned


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
        outcome: GradeOutcome = future.result()
    except Exception as error:  # the backend failed (a Dask worker died, a grader bug)
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        outcome = GradeOutcome(None, f"{type(error).__name__}: {message}".rstrip(": "), 0.0, "?")
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


def _points(value: float) -> str:
    return f"{value:g}"


def relative_replays(result: SubmissionResult, path: Path, class_folder: Path | None) -> None:
    """The submission and its replay commands named relative to the class folder, in place.

    A student page or a gradebook is read on another machine, or by the student: the
    instructor's absolute path means nothing there, the path inside the class folder does.
    """
    if class_folder is None:
        return
    import shlex

    try:
        relative = Path(os.path.relpath(Path(path).resolve(), Path(class_folder).resolve()))
    except ValueError:  # another drive (Windows): keep the command as it was
        return
    if relative.parts and relative.parts[0] == "..":
        return
    before, after = shlex.quote(str(path)), shlex.quote(str(relative))
    result.submission = str(relative)
    result.replay = result.replay.replace(before, after)
    for check in result.checks:
        if check.failure is not None and check.failure.replay:
            check.failure.replay = check.failure.replay.replace(before, after)


def percent(score: float, max_score: float) -> str:
    """A score as a percentage of the maximum, one decimal at most: 44.4, 100."""
    return f"{round(100 * score / max_score, 1):g}" if max_score else ""


def _graded_at(stamp: str) -> str:
    """The store's timestamp to the second, in UTC: 2026-12-01T22:30:05Z."""
    return stamp[:19] + "Z" if len(stamp) >= 19 else stamp


# --------------------------------------------------------------------------- outputs


def _student_report_path(out: Path, student: str) -> Path:
    return out / STUDENTS_FOLDER / f"{safe_name(student)}.html"


def _write_student_report(
    out: Path, student: str, result: SubmissionResult, learner_view: bool = True
) -> str | None:
    """Write the student's page; a rendering fault is returned as one sentence, not raised.

    The grading is already stored, so a report that cannot be rendered must not stop
    the batch: the next run writes whichever student page is missing.
    """
    path = _student_report_path(out, student)
    try:
        from grader.report import render_html
    except ImportError:  # the report layer is optional for a batch; keep a plain page
        page = (
            "<!doctype html><meta charset=utf-8><title>"
            + html.escape(student)
            + "</title><pre>"
            + html.escape(json.dumps(result.to_dict(), indent=2))
            + "</pre>"
        )
    else:
        try:
            page = render_html(result, learner_view=learner_view)
        except Exception as error:  # a template or renderer bug: the grade is safe in the store
            return f"the report of {student} could not be rendered ({type(error).__name__}: {error})"
    _write_atomically(path, page)
    return None


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


@dataclass
class ClassStats:
    """Aggregates for the class report, built one grading at a time."""

    max_score: float
    check_ids: list[str]
    check_titles: dict[str, str]
    scores: list[float] = field(default_factory=list)
    passed: Counter = field(default_factory=Counter)  # check id -> students passing
    attempted: Counter = field(default_factory=Counter)  # check id -> students graded
    kinds: Counter = field(default_factory=Counter)  # failure kind -> checks failing so
    examples: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> one example
    slowest: list[tuple[float, str]] = field(default_factory=list)  # min-heap of (s, student)
    students: list[dict[str, Any]] = field(default_factory=list)  # one small row each
    sandboxes: dict[str, int] = field(default_factory=dict)  # backend -> submissions it graded

    def add(self, student: str, stored: StoredGrading, result: SubmissionResult) -> None:
        self.scores.append(result.score)
        for check in result.checks:
            self.attempted[check.id] += 1
            if check.status is Status.PASSED:
                self.passed[check.id] += 1
            elif check.status is not Status.SKIPPED:
                kind = check.failure.kind if check.failure else check.status.value
                self.kinds[kind] += 1
                if kind not in self.examples:
                    message = check.failure.message if check.failure else check.message
                    self.examples[kind] = {
                        "student": student,
                        "check": check.title,
                        "message": message,
                        "href": f"{STUDENTS_FOLDER}/{safe_name(student)}.html",
                    }
        entry = (stored.grading_s, student)
        if len(self.slowest) < 10:
            heapq.heappush(self.slowest, entry)
        else:
            heapq.heappushpop(self.slowest, entry)

    def distribution(self, buckets: int = 10) -> list[dict[str, Any]]:
        """Students per score band: one band per point when the maximum is a small whole
        number, else `buckets` equal bands; full marks always get a band of their own."""
        top = self.max_score or 1.0
        whole = float(top).is_integer() and top <= 20
        bands = int(top) if whole else buckets
        counts = [0] * (bands + 1)
        for score in self.scores:
            band = bands if score >= top else min(bands - 1, int(bands * score / top))
            counts[band] += 1
        biggest = max(counts) or 1
        rows = []
        for band, count in enumerate(counts):
            if band == bands:
                label = f"{_points(top)} (full marks)"
            elif whole:
                label = f"{band}" if _only_whole(self.scores) else f"{band} to under {band + 1}"
            else:
                low, high = top * band / bands, top * (band + 1) / bands
                label = f"{low:.3g} to under {high:.3g}"
            rows.append({"label": label, "count": count, "width": round(100 * count / biggest)})
        return rows


def _only_whole(scores: list[float]) -> bool:
    return all(float(score).is_integer() for score in scores)


def write_outputs(
    exercise: Exercise,
    classlist: ClassList,
    store: ResultStore,
    options: BatchOptions,
    hashes: dict[str, str],
    summary: BatchSummary,
) -> None:
    """gradebook.csv, any missing student report, and the class report, streamed from the store."""
    checks = list(getattr(exercise, "all_checks", exercise.checks))
    check_ids = [check.id for check in checks]
    stats = ClassStats(
        max_score=float(exercise.max_score),
        check_ids=check_ids,
        check_titles={check.id: check.title for check in checks},
    )
    out = options.out
    not_graded = dict(summary.not_graded)
    gradebook = out / GRADEBOOK_NAME
    partial = gradebook.with_name(gradebook.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        per_check = [column for c in check_ids for column in (c, f"{c} status")]
        writer.writerow(["student", "score", "max", "percent", *per_check, "status", "seed",
                         "sandbox", "graded_at", "submission_hash"])
        blank_checks = [""] * len(per_check)
        for submission in classlist.submissions:
            student = submission.student
            content_hash = hashes.get(student)
            stored = (
                store.lookup(Key(student, exercise.id, exercise.version, content_hash))
                if content_hash
                else None
            )
            result = stored.result() if stored is not None else None
            row: dict[str, Any] = {"student": student, "href": None, "score": None}
            if result is not None:
                by_id = {check.id: check for check in result.checks}
                points = []
                for c in check_ids:
                    check = by_id.get(c)
                    points += ([_points(check.points), check.status.value] if check is not None
                               else ["", "not-run"])
                status = "passed" if result.passed else "failed"
                writer.writerow(
                    [
                        student,
                        _points(result.score),
                        _points(result.max_score),
                        percent(result.score, result.max_score),
                        *points,
                        status,
                        result.seed,
                        result.sandbox or "",
                        _graded_at(stored.graded_at),
                        result.submission_hash or content_hash,
                    ]
                )
                if result.sandbox:
                    stats.sandboxes[result.sandbox] = stats.sandboxes.get(result.sandbox, 0) + 1
                report = _student_report_path(out, student)
                if not report.exists():
                    problem = _write_student_report(out, student, result, options.learner_view)
                    if problem and problem not in summary.warnings:
                        summary.warnings.append(problem)
                stats.add(student, stored, result)
                row.update(
                    href=f"{STUDENTS_FOLDER}/{report.name}",
                    score=_points(result.score),
                    status=status,
                    seconds=f"{stored.grading_s:.1f}",
                )
            else:
                why = (
                    not_graded.get(student)
                    or (stored.error if stored is not None else None)
                    or "not graded yet (the batch was interrupted)"
                )
                writer.writerow([student, "", _points(stats.max_score), "", *blank_checks,
                                 "not-graded", "", "", "", content_hash or ""])
                not_graded.setdefault(student, why)
                row.update(status="not-graded", why=why)
            stats.students.append(row)
        for student in classlist.missing:
            writer.writerow([student, "", _points(stats.max_score), "", *blank_checks,
                             "missing", "", "", "", ""])
    os.replace(partial, gradebook)
    summary.not_graded = sorted(not_graded.items())
    _write_atomically(out / CLASS_REPORT_NAME, render_class_report(exercise, stats, summary))


def templates_folder() -> Path:
    """The project's HTML templates (the report layer's, when it is installed)."""
    try:
        from grader.report import templates_dir
    except ImportError:
        pass
    else:
        return Path(templates_dir())
    here = Path(__file__).resolve().parents[2] / "templates"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[1] / "_bundled" / "templates"


def _sandbox_lines(used: dict[str, int]) -> list[dict[str, Any]]:
    """Which sandboxes graded the class, and what each could not keep out (class report)."""
    from grader.sandbox import CANNOT_CONTAIN, FILE_SYSTEM_ISOLATED, stronger_hint

    return [{"name": name, "count": count, "isolated": name in FILE_SYSTEM_ISOLATED,
             "cannot": CANNOT_CONTAIN.get(name, ""),
             "hint": "" if name in FILE_SYSTEM_ISOLATED else stronger_hint()}
            for name, count in sorted(used.items())]


def render_class_report(exercise: Exercise, stats: ClassStats, summary: BatchSummary) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_folder())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    scores = stats.scores
    checks = [
        {
            "id": check_id,
            "title": stats.check_titles[check_id],
            "passed": stats.passed[check_id],
            "attempted": stats.attempted[check_id],
            "rate": round(100 * stats.passed[check_id] / stats.attempted[check_id])
            if stats.attempted[check_id]
            else 0,
        }
        for check_id in stats.check_ids
    ]
    kinds = [
        {"kind": kind, "count": count, "example": stats.examples.get(kind)}
        for kind, count in stats.kinds.most_common(10)
    ]
    slowest = [
        {"student": student, "seconds": f"{seconds:.1f}",
         "href": f"{STUDENTS_FOLDER}/{safe_name(student)}.html"}
        for seconds, student in sorted(stats.slowest, reverse=True)
    ]
    mean = sum(scores) / len(scores) if scores else 0.0
    ordered = sorted(scores)
    median = ordered[len(ordered) // 2] if ordered else 0.0
    return env.get_template("class_report.html.j2").render(
        exercise={"id": exercise.id, "title": exercise.title, "version": exercise.version},
        max_score=_points(stats.max_score),
        graded=len(scores),
        total=summary.total,
        mean=f"{mean:.2f}",
        median=_points(median),
        full_marks=sum(1 for s in scores if s >= stats.max_score),
        distribution=stats.distribution(),
        checks=checks,
        kinds=kinds,
        slowest=slowest,
        not_graded=[{"student": s, "why": why} for s, why in summary.not_graded],
        missing=summary.missing,
        students=stats.students,
        interrupted=summary.interrupted,
        warnings=summary.warnings[:50],
        sandboxes=_sandbox_lines(stats.sandboxes),
        generated=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    )
