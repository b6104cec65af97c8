"""The learner-facing prose of one run's failure: what a learner reads when a schedule fails.

Owns: `RunFailure` and the sentences for an exception, a deadlock, a livelock, an `always`
property that failed, a data race the happens-before detector noticed, and a failure that
the same schedule did not repeat. It must not decide
whether a run failed, nor look at the scheduler's state: its callers hand it what they saw.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from grader.explore.places import SITES, exception_location, short_path, source_line


@dataclass
class RunFailure:
    kind: str  # "invariant" | "exception" | "deadlock" | "livelock"
    message: str
    thread: str = ""
    exc_type: str = ""
    location: tuple[str, int] = ("", 0)
    details: str = ""
    deadlock: list[dict[str, Any]] = field(default_factory=list)


def exception(thread: str, exc: BaseException) -> RunFailure:
    """Thread `thread` raised `exc` (the learner's exception)."""
    where = exception_location(exc)
    place = f" at {short_path(where[0])}:{where[1]}" if where[0] else ""
    text = str(exc)
    message = (f"Thread {thread} raised {type(exc).__name__}"
               f"{': ' + text if text else ''}{place}.")
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:])
    return RunFailure("exception", message, thread=thread,
                      exc_type=type(exc).__name__, location=where, details=details)


def deadlock(waiting: Iterable[tuple[str, Any]]) -> RunFailure:
    """No thread can continue: `waiting` is (thread name, `Blocked`) for each blocked thread."""
    blocked = []
    for name, what in waiting:
        file, line = what.location
        blocked.append({
            "thread": name, "file": short_path(file), "line": line,
            "source": source_line(file, line), "waits_for": what.label,
            "held_by": what.holder(),
        })
    parts = []
    for b in blocked:
        held = f" held by {b['held_by']}" if b["held_by"] else ""
        parts.append(f"{b['thread']} waits for {b['waits_for']}{held}"
                     f" at {b['file']}:{b['line']}")
    message = ("Deadlock: no thread can continue. " + "; ".join(parts) + "."
               if parts else "Deadlock: no thread can continue.")
    return RunFailure("deadlock", message, deadlock=blocked)


def livelock(max_steps: int, thread: str, file: str, line: int) -> RunFailure:
    """The threads ran past the step budget even when scheduled fairly."""
    where = f" (last at {short_path(file)}:{line})" if file else ""
    return RunFailure(
        "livelock",
        f"The threads did not finish within {max_steps} steps, even when "
        f"scheduled fairly: they keep running without making progress{where}.",
        thread=thread, location=(file, line))


def invariant(thread: str, what: str) -> RunFailure:
    """A property that must hold at every moment (`always`) failed."""
    return RunFailure(
        "invariant",
        f"A property that must hold at every moment failed while the threads ran: {what}.",
        thread=thread)


def race(name: str, a: str, verb_a: str, site_a: int, b: str, verb_b: str, site_b: int) -> str:
    """The note for two unordered accesses to `name` (a `Type.attr`) at two sites."""

    def where(site: int) -> str:
        path, line, _ = SITES[site]
        return f"{short_path(path)}:{line}"

    return (f"{name}: {a} {verb_a} it at {where(site_a)} and {b} {verb_b} it "
            f"at {where(site_b)}, and nothing (no common lock, join, event or "
            "queue) orders the two")


def not_reproduced(scenario: str, run_number: int) -> str:
    """Why a failure comes without a timeline: the same schedule, run again, did not fail."""
    text = (f"the explorer saw this on schedule {run_number}, but the same schedule run again "
            "did not fail the same way: your code does something different each time the "
            "threads interleave the same way, so no timeline or replay can show it. Does it "
            "depend on id() of objects, the time, random numbers, or files?")
    if scenario in ("", "scenario"):
        return text[:1].upper() + text[1:]
    return f"Scenario {scenario!r}: {text}"
