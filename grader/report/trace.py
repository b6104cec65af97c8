"""How an interleaving and a deadlock are told: shared by every renderer.

Owns the presentation of `Failure.trace` and `Failure.deadlock`: the order of the
thread lanes, which steps began a context switch, a compact one-line-per-step
form for plain text, and the sentence that says who waits for what. It draws
nothing (the HTML renderer turns `TimelineLayout` into SVG) and reads no files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from grader.results import BlockedThread, TraceStep

#: Steps beyond this many are elided in the middle of a plain-text timeline.
TEXT_STEP_LIMIT = 40


_GAP = re.compile(r"(\d+) steps? (?:omitted|left out)")


def gap_size(step: TraceStep) -> int | None:
    """For the row a long trace has in place of the steps it left out: how many; else None."""
    if step.thread or step.file or step.line:
        return None
    found = _GAP.search(step.operation)
    return int(found.group(1)) if found else None


def step_count(trace: list[TraceStep]) -> int:
    """How many steps the interleaving had, the left-out ones included."""
    return sum(1 if gap_size(s) is None else gap_size(s) or 0 for s in trace)


def thread_lanes(trace: list[TraceStep]) -> list[str]:
    """The threads of a trace, in the order they first ran (one lane each)."""
    lanes: list[str] = []
    for step in trace:
        if step.thread not in lanes and gap_size(step) is None:
            lanes.append(step.thread)
    return lanes


def switch_flags(trace: list[TraceStep]) -> list[bool]:
    """Whether each step began a context switch.

    A step switches when the explorer said so, or when its thread differs from
    the previous step's thread (the explorer may not mark every switch). A row
    standing for left-out steps is never a switch.
    """
    flags: list[bool] = []
    previous: str | None = None
    for step in trace:
        if gap_size(step) is not None:
            flags.append(False)
            continue
        flags.append(step.switch or (previous is not None and step.thread != previous))
        previous = step.thread
    return flags


def count_switches(trace: list[TraceStep]) -> int:
    return sum(switch_flags(trace)[1:]) if trace else 0


def same_interleaving(a: list[TraceStep], b: list[TraceStep]) -> bool:
    """Whether two traces show the same interleaving (every step alike, in order)."""
    def key(trace: list[TraceStep]) -> list[tuple[str, str, int, str]]:
        return [(s.thread, s.file, s.line, s.operation) for s in trace]

    return bool(a) and key(a) == key(b)


def short_file(path: str) -> str:
    """A learner's file as they know it: an absolute sandbox path shortened to its name."""
    return PurePosixPath(path).name if path.startswith("/") else path


def step_location(step: TraceStep | BlockedThread) -> str:
    return f"{short_file(step.file)}:{step.line}"


def timeline_lines(trace: list[TraceStep], limit: int = TEXT_STEP_LIMIT) -> list[str]:
    """The trace as aligned text lines: `T1  counter.py:7  read self.value  | self.n += 1`.

    Context switches are marked with `>>` in front of the step that begins one.
    A trace longer than `limit` keeps its first and last steps and says how many
    were left out.
    """
    if not trace:
        return []
    flags = switch_flags(trace)
    real = [s for s in trace if gap_size(s) is None] or trace
    thread_width = max(len(s.thread) for s in real)
    where_width = max(len(step_location(s)) for s in real)
    op_width = min(28, max(len(s.operation) for s in real))
    indexed = list(enumerate(trace))
    if len(trace) > limit:
        head = limit // 2
        tail = limit - head
        indexed = indexed[:head] + [(-1, None)] + indexed[-tail:]
    lines: list[str] = []
    for index, step in indexed:
        if step is None:
            lines.append(f"   ... {step_count(trace[head:-tail])} steps left out ...")
            continue
        if gap_size(step) is not None:
            lines.append(f"   ... {gap_size(step)} steps left out ...")
            continue
        mark = ">>" if flags[index] and index > 0 else "  "
        text = (
            f"{mark} {step.thread:<{thread_width}}  {step_location(step):<{where_width}}  "
            f"{step.operation:<{op_width}}  | {step.source.strip()}"
        )
        lines.append(text.rstrip())
    return lines


def deadlock_sentences(blocked: list[BlockedThread]) -> list[str]:
    """One sentence per blocked thread: where it stands, what it waits for, who holds that."""
    sentences = []
    for b in blocked:
        holder = f", held by {b.held_by}" if b.held_by else ""
        sentences.append(
            f"{b.thread} waits for {b.waits_for}{holder}, at {step_location(b)}: {b.source.strip()}"
        )
    return sentences


def deadlock_cycle(blocked: list[BlockedThread]) -> list[str]:
    """The wait-for cycle among blocked threads (thread names, the first repeated at the end).

    Empty when the holders do not close a cycle (for example a thread waiting
    on an event nobody will set).
    """
    holder_of = {b.thread: b.held_by for b in blocked if b.held_by}
    for start in holder_of:
        path = [start]
        current = holder_of.get(start)
        while current is not None and current not in path:
            path.append(current)
            current = holder_of.get(current)
        if current == start:
            return [*path, start]
    return []


@dataclass(frozen=True)
class TimelineBox:
    """One step placed on the timeline: its lane, its row and what it shows."""

    index: int
    lane: int
    row: int
    thread: str
    location: str
    operation: str
    source: str
    switch: bool
    gap: int | None = None  # a row standing for this many left-out steps (no lane of its own)


@dataclass(frozen=True)
class TimelineLayout:
    """A trace placed on a grid: one column (lane) per thread, one row per step."""

    lanes: list[str]
    boxes: list[TimelineBox]
    switches: int


def timeline_layout(trace: list[TraceStep]) -> TimelineLayout:
    lanes = thread_lanes(trace)
    flags = switch_flags(trace)
    boxes = [
        TimelineBox(
            index=i,
            lane=lanes.index(step.thread) if gap_size(step) is None else 0,
            row=i,
            thread=step.thread,
            location=step_location(step),
            operation=step.operation,
            source=step.source.strip(),
            switch=flags[i] and i > 0,
            gap=gap_size(step),
        )
        for i, step in enumerate(trace)
    ]
    return TimelineLayout(lanes=lanes, boxes=boxes, switches=count_switches(trace))
