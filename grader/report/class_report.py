"""The class report: one HTML page of a batch's aggregates (score distribution, pass rate per
check, the commonest failure kinds, the slowest gradings, who was not graded).

It renders what the batch gathered (a `ClassStats` and a `BatchSummary`, as plain
attributes) with the report templates; it reads no store and grades nothing.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from grader.report.html import templates_dir
from grader.report.status import points_text

TEMPLATE = "class_report.html.j2"


@functools.lru_cache(maxsize=4)
def _environment(folder: Path) -> jinja2.Environment:
    # Not the learner page's environment (report.html): that one trims blocks, and this
    # template's output has always kept its whitespace as written.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def render_class_report(
    exercise: Any,
    stats: Any,
    summary: Any,
    *,
    sandboxes: list[dict[str, Any]],
    student_href: Callable[[str], str],
) -> str:
    """The class report page.

    `stats` is the batch's `ClassStats`, `summary` its `BatchSummary`; `sandboxes` says which
    sandboxes graded the class and what each could not keep out; `student_href` links a
    student's own page.
    """
    env = _environment(templates_dir())
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
         "href": student_href(student)}
        for seconds, student in sorted(stats.slowest, reverse=True)
    ]
    mean = sum(scores) / len(scores) if scores else 0.0
    ordered = sorted(scores)
    median = ordered[len(ordered) // 2] if ordered else 0.0
    return env.get_template(TEMPLATE).render(
        exercise={"id": exercise.id, "title": exercise.title, "version": exercise.version},
        max_score=points_text(stats.max_score),
        graded=len(scores),
        total=summary.total,
        mean=f"{mean:.2f}",
        median=points_text(median),
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
        sandboxes=sandboxes,
        generated=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    )
