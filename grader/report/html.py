"""The HTML report: one self-contained page a learner can read offline, on a phone or on paper.

Owns turning a `SubmissionResult` into the values `templates/report.html.j2`
shows: the timeline geometry (one lane per thread, one row per step, context
switches marked), the deadlock's who-waits-for-what, the process tree, and the
learner's source with the lines a failing check involves highlighted and
never-executed lines marked. Everything learner-controlled reaches the page through Jinja2's
autoescape; the page loads nothing (inline CSS and SVG, no script, and a
Content-Security-Policy that forbids any fetch).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from grader.report.learner_text import visible_controls
from grader.report.status import MARKS, WORDS, check_message, points_text, score_line
from grader.report.trace import (
    TimelineLayout,
    count_switches,
    deadlock_cycle,
    short_file,
    timeline_layout,
)
from grader.report.visibility import HIDDEN_MESSAGE, learner_copy
from grader.results import CheckResult, Failure, ProcessInfo, Status, SubmissionResult

TEMPLATE = "report.html.j2"
_PY_LINE_END = re.compile(r"\r\n|\r|\n")
#: Learner output beyond this many characters is cut in the page.
OUTPUT_CHARS = 20_000

# Timeline geometry, in SVG user units (pixels at scale 1).
LANE_WIDTH = 250
GUTTER = 40
HEADER = 34
ROW = 48
BOX_HEIGHT = 40
#: Steps beyond this many are left out of the middle of the drawing (the table keeps all).
SVG_STEP_LIMIT = 80
#: Characters that fit on one line of a timeline box at the chosen font size.
BOX_CHARS = 34


def _clip(text: str, limit: int = BOX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class SvgBox:
    x: int
    y: int
    width: int
    height: int
    step: int
    thread: str
    line1: str
    line2: str
    full: str
    switch: bool
    # where the switch arrow starts (the previous step's box, bottom centre)
    from_x: int = 0
    from_y: int = 0


@dataclass
class SvgTimeline:
    width: int
    height: int
    lanes: list[dict[str, Any]]
    boxes: list[SvgBox]
    switches: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    gap: dict[str, Any] | None = None  # where the drawing skips steps, and how many


def timeline_svg_model(layout: TimelineLayout, limit: int = SVG_STEP_LIMIT) -> SvgTimeline:
    """Place each step of a laid-out trace on the SVG canvas.

    A trace longer than `limit` keeps its first and last steps in the drawing,
    with a gap row saying how many were left out; the table keeps them all.
    """
    shown = list(layout.boxes)
    gap_after: int | None = None
    if len(shown) > limit:
        head = limit // 2
        shown = shown[:head] + shown[-(limit - head) :]
        gap_after = head
    rows_drawn = len(shown) + (1 if gap_after is not None else 0)
    width = GUTTER + LANE_WIDTH * max(1, len(layout.lanes))
    height = HEADER + ROW * rows_drawn + 8
    lanes = [
        {
            "name": name,
            "x": GUTTER + i * LANE_WIDTH,
            "centre": GUTTER + i * LANE_WIDTH + LANE_WIDTH // 2,
        }
        for i, name in enumerate(layout.lanes)
    ]
    boxes: list[SvgBox] = []
    gap: dict[str, Any] | None = None
    for position, box in enumerate(shown):
        row = position
        if gap_after is not None and position >= gap_after:
            row += 1
        if gap_after is not None and position == gap_after:
            gap = {"y": HEADER + gap_after * ROW + 28, "left": len(layout.boxes) - len(shown)}
        x = GUTTER + box.lane * LANE_WIDTH + 8
        y = HEADER + row * ROW + 4
        svg_box = SvgBox(
            x=x,
            y=y,
            width=LANE_WIDTH - 16,
            height=BOX_HEIGHT,
            step=box.index + 1,
            thread=box.thread,
            line1=_clip(f"{box.location}  {box.operation}"),
            line2=_clip(box.source),
            full=f"step {box.index + 1}: {box.thread} at {box.location}: {box.operation}: {box.source}",
            switch=box.switch,
        )
        # an arrow only between neighbouring drawn steps (none across the gap)
        if box.switch and boxes and boxes[-1].step == box.index:
            previous = boxes[-1]
            svg_box.from_x = previous.x + previous.width // 2
            svg_box.from_y = previous.y + previous.height
        else:
            svg_box.from_x = svg_box.from_y = -1
        boxes.append(svg_box)
    rows = [
        {
            "step": b.index + 1,
            "thread": b.thread,
            "location": b.location,
            "operation": b.operation,
            "source": b.source,
            "switch": b.switch,
        }
        for b in layout.boxes
    ]
    return SvgTimeline(width, height, lanes, boxes, layout.switches, rows, gap)


def process_rows(processes: list[ProcessInfo]) -> list[dict[str, Any]]:
    """Processes in tree order (each after its parent), with their depth in the tree."""
    pids = {p.pid for p in processes}
    children: dict[int | None, list[ProcessInfo]] = {}
    for p in processes:
        parent = p.parent if p.parent in pids else None
        children.setdefault(parent, []).append(p)
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()

    def visit(parent: int | None, depth: int) -> None:
        for p in children.get(parent, []):
            if p.pid in seen:
                continue
            seen.add(p.pid)
            # zombies and orphans are always left behind; a running child is when the check is over
            flagged = p.state in ("zombie", "orphan") or (p.state == "running" and depth > 0)
            rows.append({"p": p, "depth": depth, "flagged": flagged})
            visit(p.pid, depth + 1)

    visit(None, 0)
    for p in processes:  # a cycle in parent links: show what was left, flat
        if p.pid not in seen:
            rows.append({"p": p, "depth": 0, "flagged": False})
    return rows


def _failure_lines(failure: Failure) -> set[tuple[str, int]]:
    lines = {(s.file, s.line) for s in failure.trace}
    lines |= {(b.file, b.line) for b in failure.deadlock}
    for entry in failure.lines:
        try:
            lines.add((str(entry["file"]), int(entry["line"])))
        except (KeyError, TypeError, ValueError):
            continue
    return lines


def _source_lines(text: str) -> list[str]:
    """Lines numbered as Python numbers them (str.splitlines also splits at form feeds and
    other separators Python does not count, which would shift every mark after them)."""
    lines = _PY_LINE_END.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _same_file(a: str, b: str) -> bool:
    return a == b or PurePosixPath(a).name == PurePosixPath(b).name


def source_files(result: SubmissionResult) -> list[dict[str, Any]]:
    """The learner's files, line by line, marked: involved in a failing check, never executed."""
    failing: list[tuple[CheckResult, set[tuple[str, int]]]] = [
        (c, _failure_lines(c.failure))
        for c in result.checks
        if c.failure is not None and c.status is not Status.PASSED
    ]
    files = []
    for name, text in result.source.items():
        uncovered: set[int] = set()
        for cov_name, missing in result.coverage.items():
            if _same_file(cov_name, name):
                uncovered |= set(missing)
        lines = []
        for number, code in enumerate(_source_lines(text), start=1):
            hit_by = [
                c.id
                for c, where in failing
                if any(_same_file(f, name) and n == number for f, n in where)
            ]
            lines.append(
                {"number": number, "code": code, "hit_by": hit_by, "uncovered": number in uncovered}
            )
        files.append(
            {
                "name": name,
                "lines": lines,
                "hits": sum(1 for line in lines if line["hit_by"]),
                "uncovered": sum(1 for line in lines if line["uncovered"]),
                "has_coverage": any(_same_file(c, name) for c in result.coverage),
            }
        )
    return files


def _check_view(check: CheckResult) -> dict[str, Any]:
    failure = check.failure
    view: dict[str, Any] = {
        "c": check,
        "anchor": "check-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in check.id),
        "word": WORDS[check.status],
        "mark": MARKS[check.status],
        "css": check.status.value,
        "score": score_line(check),
        "message": check_message(check),
        "hidden_note": HIDDEN_MESSAGE if not check.visible else "",
        "timeline": None,
        "cycle": [],
        "processes": [],
    }
    if failure is not None:
        if failure.trace:
            view["timeline"] = timeline_svg_model(timeline_layout(failure.trace))
            view["switches"] = count_switches(failure.trace)
        if failure.deadlock:
            view["cycle"] = deadlock_cycle(failure.deadlock)
        if failure.processes:
            view["processes"] = process_rows(failure.processes)
    return view


def templates_dir() -> Path:
    """The HTML templates: top-level `templates/` in a checkout, bundled ones when installed."""
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent / "templates"
    if (checkout / TEMPLATE).is_file():
        return checkout
    return package / "_bundled" / "templates"


@functools.lru_cache(maxsize=4)
def _environment(folder: Path) -> jinja2.Environment:
    # Cached per folder: compiling the template costs ~25 ms, rendering ~1 ms,
    # and a class batch renders hundreds of pages. Jinja2 still reloads the
    # template when its file changes (auto_reload).
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["points"] = points_text
    env.filters["short_file"] = short_file
    env.filters["visible_controls"] = visible_controls
    return env


def render_html(result: SubmissionResult, *, learner_view: bool = True) -> str:
    """One self-contained HTML page for one submission.

    With `learner_view`, hidden checks show only title and status (and their
    traces highlight nothing in the source).
    """
    shown = learner_copy(result) if learner_view else result
    output = shown.output[:OUTPUT_CHARS]
    output_cut = shown.output_truncated or len(shown.output) > OUTPUT_CHARS
    counts = {status: 0 for status in Status}
    for check in shown.checks:
        counts[check.status] += 1
    template = _environment(templates_dir()).get_template(TEMPLATE)
    return template.render(
        r=shown,
        verdict=shown.verdict(),
        checks=[_check_view(c) for c in shown.checks],
        counts={s.value: n for s, n in counts.items()},
        percent=round(100 * shown.score / shown.max_score) if shown.max_score else 0,
        files=source_files(shown),
        output=output,
        output_cut=output_cut,
        learner_view=learner_view,
        box_height=BOX_HEIGHT,
        header=HEADER,
        lane_width=LANE_WIDTH,
        gutter=GUTTER,
        row=ROW,
    )
