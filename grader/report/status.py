"""How a check's status is named and marked, the same in every format.

A status is never told by colour alone: each has a mark and a word, and
renderers add colour on top.
"""

from __future__ import annotations

from grader.results import CheckResult, Status

MARKS: dict[Status, str] = {
    Status.PASSED: "✓",
    Status.FAILED: "✗",
    Status.ERROR: "!",
    Status.TIMEOUT: "◔",  # a clock face; common fonts lack ⌛
    Status.SKIPPED: "–",
}

WORDS: dict[Status, str] = {
    Status.PASSED: "passed",
    Status.FAILED: "failed",
    Status.ERROR: "error",
    Status.TIMEOUT: "timed out",
    Status.SKIPPED: "skipped",
}


def points_text(value: float) -> str:
    """Points without a needless `.0`: 2, 1.5."""
    return f"{value:g}"


def score_line(check: CheckResult) -> str:
    return f"{points_text(check.points)}/{points_text(check.max_points)}"


def check_message(check: CheckResult) -> str:
    """What went wrong, in one or two sentences: the check's message, else its failure's."""
    if check.message:
        return check.message
    return check.failure.message if check.failure is not None else ""
