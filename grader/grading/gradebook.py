"""The batch's outputs: gradebook.csv, one HTML page per student, and the class report, all
streamed from the store; with `ClassStats`, the class's aggregates built one grading at a time.

It reads the store and writes files (each atomically); it grades nothing, and leaves how a
page looks to `report` (`render_html`, `render_class_report`).
"""

from __future__ import annotations

import csv
import heapq
import html
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.grading.options import BatchOptions, BatchSummary
from grader.grading.roster import ClassList
from grader.grading.store import Key, ResultStore, StoredGrading
from grader.results import Status, SubmissionResult

if TYPE_CHECKING:
    from grader.spec import Exercise

GRADEBOOK_NAME = "gradebook.csv"
CLASS_REPORT_NAME = "index.html"
STUDENTS_FOLDER = "students"


def safe_name(student: str) -> str:
    """A file name for a student's report: readable, and distinct for distinct ids."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", student).strip("._") or "student"
    if cleaned != student:
        import hashlib

        cleaned += "-" + hashlib.sha256(student.encode()).hexdigest()[:8]
    return cleaned



def _points(value: float) -> str:
    return f"{value:g}"


def percent(score: float, max_score: float) -> str:
    """A score as a percentage of the maximum, one decimal at most: 44.4, 100."""
    return f"{round(100 * score / max_score, 1):g}" if max_score else ""


def _graded_at(stamp: str) -> str:
    """The store's timestamp to the second, in UTC: 2026-12-01T22:30:05Z."""
    return stamp[:19] + "Z" if len(stamp) >= 19 else stamp


def _student_href(student: str) -> str:
    """A student's page, relative to the class report."""
    return f"{STUDENTS_FOLDER}/{safe_name(student)}.html"


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
                        "href": _student_href(student),
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
    from grader.report.class_report import render_class_report

    page = render_class_report(exercise, stats, summary, sandboxes=_sandbox_lines(stats.sandboxes),
                               student_href=_student_href)
    _write_atomically(out / CLASS_REPORT_NAME, page)



def _sandbox_lines(used: dict[str, int]) -> list[dict[str, Any]]:
    """Which sandboxes graded the class, and what each could not keep out (class report)."""
    from grader.sandbox import CANNOT_CONTAIN, FILE_SYSTEM_ISOLATED, stronger_hint

    return [{"name": name, "count": count, "isolated": name in FILE_SYSTEM_ISOLATED,
             "cannot": CANNOT_CONTAIN.get(name, ""),
             "hint": "" if name in FILE_SYSTEM_ISOLATED else stronger_hint()}
            for name, count in sorted(used.items())]
