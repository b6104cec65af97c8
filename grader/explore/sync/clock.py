"""Modelled `time`: `monotonic`, `perf_counter`, `time` (and their `_ns`) and `sleep`.

Owns: the virtual clock as the learner reads it, and `sleep` as a yield and a timed wait on
it. The real functions are bound here at import, before any learner code runs, so a learner's
patch of `time` cannot reach them. It must not read the wall clock inside an exploration.
"""

from __future__ import annotations

import time as _time

from grader.explore.runtime import Blocked, current

_real_monotonic = _time.monotonic
_real_time = _time.time
_real_perf_counter = _time.perf_counter
_real_sleep = _time.sleep

VIRTUAL_EPOCH = 1_700_000_000.0  # what time.time() reads at virtual time 0
VIRTUAL_MONOTONIC = 1_000.0


def monotonic() -> float:
    mt = current()
    if mt is None:
        return _real_monotonic()
    return VIRTUAL_MONOTONIC + mt.sched.now


def perf_counter() -> float:
    mt = current()
    if mt is None:
        return _real_perf_counter()
    return VIRTUAL_MONOTONIC + mt.sched.now


def time() -> float:
    mt = current()
    if mt is None:
        return _real_time()
    return VIRTUAL_EPOCH + mt.sched.now


def monotonic_ns() -> int:
    return int(monotonic() * 1e9)


def perf_counter_ns() -> int:
    return int(perf_counter() * 1e9)


def time_ns() -> int:
    return int(time() * 1e9)


#: How long `sleep(0)` waits on the virtual clock. A real `sleep(0)` gives the processor away;
#: as a timed wait (not only a scheduling point) a thread that polls with it sleeps while it
#: polls, as one polling with `sleep(0.001)` does: a check that waits until a thread waits
#: sees it wait, and a fair schedule runs the others instead of the poll.
YIELD_SECONDS = 1e-6


def sleep(secs: float) -> None:
    """time.sleep: under the explorer a yield, then a wait on the virtual clock."""
    mt = current()
    if mt is None:
        _real_sleep(secs)
        return
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    sched = mt.sched
    sched.point(mt, f"sleep {secs:g}s")
    sched.block(mt, None, sched.now + (secs or YIELD_SECONDS), Blocked(f"sleep {secs:g}s"))


def pause() -> None:
    """A scheduling point in a check's own code, where another thread may run (never a wait:
    a thread paused inside a critical section is not waiting for anything)."""
    mt = current()
    if mt is not None:
        mt.sched.point(mt, "pause")
