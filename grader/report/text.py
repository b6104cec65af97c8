"""The terminal report: what a learner reads after `grader check`.

Short on purpose: score and verdict first, then one line per check; for a check
that did not pass, its message, hint, the shrunk interleaving as a compact
timeline, who waits for what in a deadlock, the processes involved, and the
command that replays it. Hidden checks show only title and status. ANSI colour
only when asked for.
"""

from __future__ import annotations

from grader.report.learner_text import visible_controls
from grader.report.status import MARKS, WORDS, check_message, points_text, score_line
from grader.report.trace import (
    count_switches,
    deadlock_cycle,
    deadlock_sentences,
    same_interleaving,
    step_count,
    timeline_lines,
)
from grader.report.visibility import HIDDEN_MESSAGE, learner_copy
from grader.results import CheckResult, Failure, Status, SubmissionResult

_COLOURS: dict[Status, str] = {
    Status.PASSED: "32",  # green
    Status.FAILED: "31",  # red
    Status.ERROR: "31",
    Status.TIMEOUT: "33",  # yellow
    Status.SKIPPED: "2",  # dim
}

#: Learner output beyond this many lines is cut in the terminal (the HTML shows more).
OUTPUT_LINES = 20
#: A failure's details (a traceback, an assertion's explanation) beyond this many lines are cut.
DETAIL_LINES = 30


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def bold(self, text: str) -> str:
        return self.paint(text, "1")

    def dim(self, text: str) -> str:
        return self.paint(text, "2")


def render_text(result: SubmissionResult, *, color: bool = False) -> str:
    """The learner's terminal report for one submission (hidden checks redacted)."""
    return text_report(learner_copy(result), color=color)


def text_report(shown: SubmissionResult, *, color: bool = False) -> str:
    """The terminal report of `shown` as given: hidden checks in full unless already redacted.

    `render(..., learner_view=False)` uses it for instructors (`grader check --staff`).
    """
    style = _Style(color)
    lines: list[str] = []
    heading = f"{shown.title or shown.exercise} ({shown.exercise} v{shown.version})"
    lines.append(style.bold(heading))
    verdict_code = _COLOURS[Status.PASSED] if shown.passed else _COLOURS[Status.FAILED]
    score = f"Score {points_text(shown.score)}/{points_text(shown.max_score)}"
    lines.append(f"{style.bold(score)}  {style.paint(shown.verdict(), verdict_code)}")
    lines.append("")
    width = max((len(score_line(c)) for c in shown.checks), default=3)
    for check in shown.checks:
        lines.extend(_check_lines(check, width, style, shown.checks))
    if shown.output:
        lines.append("")
        lines.extend(_output_lines(shown, style))
    lines.append("")
    if getattr(shown, "sandbox", None):
        lines.append(style.dim(f"Sandbox {shown.sandbox}"))
    lines.append(style.dim(f"Seed {shown.seed}"))
    if shown.replay:
        lines.append(f"Replay: {visible_controls(shown.replay.command())}")
    return "\n".join(lines) + "\n"


def shared_interleaving(check: CheckResult, checks: list[CheckResult]
                        ) -> tuple[CheckResult | None, list[CheckResult]]:
    """(the earlier check showing this check's interleaving, the later checks it also explains).

    One failing interleaving is drawn once: under the first check it fails, which
    names the others; each of those points back to it.
    """
    if check.failure is None or not check.failure.trace:
        return None, []
    same = [c for c in checks if c.failure is not None
            and same_interleaving(c.failure.trace, check.failure.trace)]
    first = same[0] if same else None
    if first is not None and first is not check:
        return first, []
    return None, [c for c in same if c is not check]


def _check_lines(check: CheckResult, width: int, style: _Style,
                 checks: list[CheckResult] | None = None) -> list[str]:
    mark = style.paint(MARKS[check.status], _COLOURS[check.status])
    line = f"{mark} {score_line(check):>{width}}  {check.title}"
    if check.status is not Status.PASSED:
        line += style.dim(f"  [{WORDS[check.status]}]")
    lines = [line]
    indent = " " * (width + 4)
    if check.status is Status.PASSED:
        lines.extend(indent + style.dim(text) for text in exploration_lines(check))
        return lines
    if not check.visible and check.failure is None and not check.message:
        lines.append(indent + style.dim(HIDDEN_MESSAGE))
        return lines
    message = check_message(check)
    if message:
        lines.extend(indent + part for part in visible_controls(message).split("\n"))
    failure = check.failure
    if failure is not None:
        shown_in, also = shared_interleaving(check, checks or [check])
        lines.extend(indent + part for part in _failure_lines(failure, shown_in, also))
    if check.hint:
        hint_lines = check.hint.strip().splitlines()
        lines.append(indent + style.paint("Hint: ", "36") + hint_lines[0])
        lines.extend(indent + "      " + part for part in hint_lines[1:])
    if failure is not None and failure.replay:
        lines.append(indent + "Replay this failure: " + visible_controls(failure.replay.command()))
    lines.extend(indent + style.dim(text) for text in exploration_lines(check))
    return lines


def exploration_lines(check: CheckResult) -> list[str]:
    """What the explorer's bounded search covered, one line per scenario of the check."""
    lines = []
    for record in check.exploration:
        name = record.get("scenario") or "scenario"
        seconds = record.get("seconds") or 0.0
        lines.append(visible_controls(f"Explored {name}: {record.get('text', '')} "
                                      f"({seconds:.2f} s)"))
    return lines


def _failure_lines(failure: Failure, shown_in: CheckResult | None = None,
                   also: list[CheckResult] | None = None) -> list[str]:
    lines: list[str] = []
    if failure.trace and shown_in is not None:
        lines.append(f'The same interleaving fails this check: see "{shown_in.title}" above.')
    elif failure.trace:
        switches = count_switches(failure.trace)
        steps = step_count(failure.trace)
        lines.append(
            f"Interleaving that fails ({steps} step{'' if steps == 1 else 's'}, {switches} context"
            f" switch{'' if switches == 1 else 'es'}; >> marks a switch):"
        )
        lines.extend("  " + t for t in timeline_lines(failure.trace))
        if also:
            titles = "; ".join(f'"{c.title}"' for c in also)
            lines.append(f"This interleaving also fails: {titles}.")
    if failure.deadlock and shown_in is None:
        lines.append("Who waits for what:")
        lines.extend("  " + s for s in deadlock_sentences(failure.deadlock))
        cycle = deadlock_cycle(failure.deadlock)
        if cycle:
            lines.append("  Cycle: " + " -> ".join(cycle))
    if failure.processes:
        lines.append("Processes:")
        for p in failure.processes:
            parent = f" parent {p.parent}" if p.parent is not None else ""
            extra = f" - {p.note}" if p.note else ""
            state = f" {p.state}" if p.state else ""
            lines.append(f"  pid {p.pid}{parent} {p.name}{state} cpu {p.cpu_s:.2f}s{extra}")
    if failure.details:
        detail_lines = failure.details.rstrip().split("\n")
        lines.extend(detail_lines[:DETAIL_LINES])
        if len(detail_lines) > DETAIL_LINES:
            lines.append(f"... ({len(detail_lines) - DETAIL_LINES} more lines in the HTML report)")
    # thread names, sources and notes come from the learner too
    return [visible_controls(line) for line in lines]


def _output_lines(result: SubmissionResult, style: _Style) -> list[str]:
    printed = visible_controls(result.output).rstrip("\n").split("\n")
    lines = [style.bold("Your code printed:")]
    lines.extend("  " + line for line in printed[:OUTPUT_LINES])
    if len(printed) > OUTPUT_LINES or result.output_truncated:
        lines.append(style.dim("  ... (output cut; the HTML report shows more)"))
    return lines


def check_feedback(check: CheckResult, checks: list[CheckResult] | None = None) -> str:
    """Plain text feedback for one check (no colour): message, failure, hint, replay.

    The body JUnit and Gradescope put under a check; empty for a passed check
    without a message. Does not redact: callers pass a learner copy when needed.
    """
    lines: list[str] = []
    message = check_message(check)
    if message:
        lines.extend(visible_controls(message).split("\n"))
    if check.failure is not None:
        shown_in, also = shared_interleaving(check, checks or [check])
        lines.extend(_failure_lines(check.failure, shown_in, also))
    if check.hint:
        lines.append("Hint: " + check.hint.strip())
    if check.failure is not None and check.failure.replay:
        lines.append("Replay this failure: " + check.failure.replay.command())
    return "\n".join(lines)
