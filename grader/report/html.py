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
import markupsafe

from grader.report.learner_text import visible_controls
from grader.report.status import MARKS, WORDS, check_message, points_text, score_line
from grader.report.text import shared_interleaving
from grader.report.trace import (
    TimelineBox,
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
#: Lanes are narrower when there are many threads (labels wrap rather than being cut), down
#: to this width, so that the lanes fit in FIT_WIDTH when they can.
NARROW_LANE_WIDTH = 140
FIT_WIDTH = 880  # the report's column at a laptop's width
GUTTER = 40
HEADER = 34
ROW_GAP = 8
LINE_HEIGHT = 15
BOX_PADDING = 8
GAP_ROW = 30
#: Steps beyond this many are left out of the middle of the drawing (the table keeps all).
SVG_STEP_LIMIT = 80
#: Characters of the code font that fit on one line of a box, per lane width.
CHAR_WIDTH = 7.2

#: A step's first word that says it only looks (or enters a call): such steps inside a
#: helper function are folded out of the first drawing.
_LOOKING = {"read", "call", "loop"}


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces when it can be."""
    import textwrap

    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


@dataclass
class SvgBox:
    x: int
    y: int
    width: int
    height: int
    step: int
    thread: str
    where: list[str]  # "T1 · file.py:8", then the operation, wrapped
    code: list[str]  # the source line, wrapped
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
    gaps: list[dict[str, Any]] = field(default_factory=list)  # rows standing for left-out steps
    lane_width: int = LANE_WIDTH
    folded: int = 0  # helper steps this drawing leaves out (the full drawing has them)
    helpers: list[str] = field(default_factory=list)  # the helper functions folded


def helper_functions(result: SubmissionResult) -> dict[str, dict[int, str]]:
    """For each learner file, which lines lie in a helper function (a `_private` one).

    A dunder (`__init__`) is no helper; a nested function counts by its own name.
    """
    import ast

    from grader.parsing import parse_source

    helpers: dict[str, dict[int, str]] = {}
    for name, text in result.source.items():
        try:
            tree = parse_source(text, name)
        except (SyntaxError, ValueError):
            continue
        lines: dict[int, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    node.name.startswith("_") and not node.name.endswith("__"):
                for number in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    lines[number] = node.name
        helpers[name] = lines
    return helpers


def helper_step(step: TimelineBox, helpers: dict[str, dict[int, str]],
                learner_files: set[str]) -> str | None:
    """The helper a step belongs to, when the first drawing may fold it; else None.

    Folded: a step in a file that is not the learner's (the check's own code), and a
    step that only reads, loops or calls inside one of the learner's `_helper`
    functions, or calls one. Locks, waits, wake-ups and writes are never folded.
    """
    file, _, line = step.location.rpartition(":")
    if file and learner_files and file not in learner_files:
        return "the check's own code"
    first = step.operation.split(" ", 1)[0]
    if first not in _LOOKING:
        return None
    if first == "call":
        called = step.operation.split(" ", 1)[-1].rsplit(".", 1)[-1]
        if called.startswith("_") and not called.endswith("__"):
            return called
    try:
        return helpers.get(file, {}).get(int(line))
    except ValueError:
        return None


def timeline_svg_model(layout: TimelineLayout, limit: int = SVG_STEP_LIMIT,
                       fold: set[int] | None = None) -> SvgTimeline:
    """Place each step of a laid-out trace on the SVG canvas.

    Each box shows the thread, file:line and operation, then the source line, wrapped
    to the lane's width (never cut). Steps whose index is in `fold` are left out, and
    a trace longer than `limit` keeps its first and last steps, with a row saying how
    many were left out; the table keeps every step.
    """
    fold = fold or set()
    number: dict[int, int] = {}  # a step's number in the whole interleaving, left-out ones counted
    counted = 0
    for box in layout.boxes:
        counted += box.gap if box.gap is not None else 1
        number[box.index] = counted
    # many threads get narrower lanes (their labels wrap), so six fit a laptop's width
    lane_width = max(NARROW_LANE_WIDTH,
                     min(LANE_WIDTH, (FIT_WIDTH - GUTTER) // max(1, len(layout.lanes))))
    chars = int((lane_width - 16 - 2 * 6) / CHAR_WIDTH)
    items: list[TimelineBox | int] = []  # a box, or the number of steps a gap row stands for
    for box in layout.boxes:
        if box.gap is not None:
            items.append(box.gap)
        elif box.index not in fold:
            items.append(box)
    drawn = [i for i in items if not isinstance(i, int)]
    if len(drawn) > limit:
        head, tail = drawn[: limit // 2], drawn[-(limit - limit // 2):]
        left = len(drawn) - len(head) - len(tail)
        middle = [i for i in items[items.index(head[-1]) + 1: items.index(tail[0])]
                  if isinstance(i, int)]
        items = [*head, left + sum(middle), *tail]
    lanes = [
        {"name": name, "x": GUTTER + i * lane_width, "centre": GUTTER + i * lane_width + lane_width // 2}
        for i, name in enumerate(layout.lanes)
    ]
    boxes: list[SvgBox] = []
    gaps: list[dict[str, Any]] = []
    y = HEADER + 4
    previous: TimelineBox | None = None
    for item in items:
        if isinstance(item, int):
            gaps.append({"y": y + 18, "left": item})
            y += GAP_ROW
            previous = None
            continue
        box = item
        where = _wrap(f"{box.thread} · {box.location}  {box.operation}", chars)
        code = _wrap(box.source, chars)
        height = BOX_PADDING * 2 + LINE_HEIGHT * (len(where) + len(code)) - 3
        svg_box = SvgBox(
            x=GUTTER + box.lane * lane_width + 8, y=y, width=lane_width - 16, height=height,
            step=number[box.index], thread=box.thread, where=where, code=code,
            full=f"step {number[box.index]}: {box.thread} at {box.location}: {box.operation}: "
                 f"{box.source}",
            switch=box.switch or (previous is not None and previous.thread != box.thread),
        )
        # an arrow only between neighbouring drawn steps (none across a gap)
        if svg_box.switch and previous is not None and boxes:
            svg_box.from_x = boxes[-1].x + boxes[-1].width // 2
            svg_box.from_y = boxes[-1].y + boxes[-1].height
        else:
            svg_box.from_x = svg_box.from_y = -1
        boxes.append(svg_box)
        previous = box
        y += height + ROW_GAP
    width = GUTTER + lane_width * max(1, len(layout.lanes))
    rows = [
        {"step": number[b.index], "thread": b.thread, "location": b.location,
         "operation": b.operation, "source": b.source, "switch": b.switch, "gap": b.gap}
        for b in layout.boxes
    ]
    return SvgTimeline(width, y + 4, lanes, boxes, layout.switches, rows, gaps, lane_width,
                       folded=len(fold))


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


def _timelines(failure: Failure, result: SubmissionResult
               ) -> tuple[SvgTimeline, SvgTimeline | None]:
    """The drawing shown first (helper steps folded) and, when it folds any, the full one."""
    layout = timeline_layout(failure.trace)
    helpers = helper_functions(result)
    learner = set(result.source)
    folded: dict[int, str] = {}
    for box in layout.boxes:
        if box.gap is None:
            helper = helper_step(box, helpers, learner)
            if helper is not None:
                folded[box.index] = helper
    if not folded or len(folded) == len([b for b in layout.boxes if b.gap is None]):
        return timeline_svg_model(layout), None
    first = timeline_svg_model(layout, fold=set(folded))
    first.helpers = sorted(set(folded.values()))
    return first, timeline_svg_model(layout)


def _check_view(check: CheckResult, result: SubmissionResult | None = None,
                checks: list[CheckResult] | None = None) -> dict[str, Any]:
    failure = check.failure
    view: dict[str, Any] = {
        "c": check,
        "anchor": _anchor(check),
        "word": WORDS[check.status],
        "mark": MARKS[check.status],
        "css": check.status.value,
        "score": score_line(check),
        "message": check_message(check),
        "hidden_note": HIDDEN_MESSAGE if not check.visible else "",
        "timeline": None,
        "full_timeline": None,
        "shown_in": None,
        "also": [],
        "cycle": [],
        "processes": [],
    }
    if failure is not None:
        shown_in, also = shared_interleaving(check, checks or [check])
        if failure.trace and shown_in is not None:
            view["shown_in"] = {"title": shown_in.title, "anchor": _anchor(shown_in)}
        elif failure.trace:
            view["timeline"], view["full_timeline"] = _timelines(
                failure, result if result is not None else _no_source())
            view["switches"] = count_switches(failure.trace)
            view["also"] = [{"title": c.title, "anchor": _anchor(c)} for c in also]
        if failure.deadlock:
            view["cycle"] = deadlock_cycle(failure.deadlock)
        if failure.processes:
            view["processes"] = process_rows(failure.processes)
    return view


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def inline_code(text: str) -> markupsafe.Markup:
    """Escaped text with its `code spans` set in <code> (hints and messages quote code so)."""
    escaped = str(markupsafe.escape(visible_controls(text)))
    return markupsafe.Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))


def _anchor(check: CheckResult) -> str:
    return "check-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in check.id)


def _no_source() -> SubmissionResult:
    return SubmissionResult(exercise="", version="", title="", seed=0, score=0, max_score=0,
                            checks=[])


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
    env.filters["inline_code"] = inline_code
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
        checks=[_check_view(c, shown, shown.checks) for c in shown.checks],
        counts={s.value: n for s, n in counts.items()},
        percent=round(100 * shown.score / shown.max_score) if shown.max_score else 0,
        files=source_files(shown),
        output=output,
        output_cut=output_cut,
        learner_view=learner_view,
        header=HEADER,
        gutter=GUTTER,
        line_height=LINE_HEIGHT,
        box_padding=BOX_PADDING,
    )
