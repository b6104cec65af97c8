"""Time limits derived from measured work, so they mean the same on an idle and a loaded machine.

`work_unit_s()` times the work every process exercise is made of, done the way
a reference solution does it, in this grading and at this moment: start a child
process (the default start method), send it 256 KiB over a pipe, get it back,
join it. The median of three is one unit. On a busy machine a unit takes
longer, and every limit built from it grows with it.

`deadline(floor_s, units)` is the larger of a floor (what the call needs on an
idle machine, with a wide margin) and `units` work units. `short_timeout(...)`
is the same for a learner-facing `timeout=` argument given to tasks that should
finish at once. A measurement is reused for a second, so a check that makes
many calls pays for it once. This module owns the measurement and the arithmetic;
which floor and how many units a call deserves is the check's.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection

PAYLOAD = b"\x5a" * (256 * 1024)
#: a measurement this old is taken again
REUSE_S = 1.0
_last: tuple[float, float] | None = None  # (taken at, unit)


def _echo(conn: Connection) -> None:
    conn.send_bytes(conn.recv_bytes())
    conn.close()


def _one_unit() -> float:
    start = time.perf_counter()
    mine, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=_echo, args=(theirs,), daemon=True)
    child.start()
    theirs.close()
    mine.send_bytes(PAYLOAD)
    mine.recv_bytes()
    mine.close()
    child.join()
    return time.perf_counter() - start


def work_unit_s() -> float:
    """Seconds one unit of reference-like work takes here, now (median of three)."""
    global _last
    now = time.monotonic()
    if _last is not None and now - _last[0] < REUSE_S:
        return _last[1]
    unit = statistics.median(_one_unit() for _ in range(3))
    _last = (time.monotonic(), unit)
    return unit


def deadline(floor_s: float, units: float = 300) -> float:
    """A deadline for a call: `floor_s`, or `units` work units when the machine is slower."""
    return max(floor_s, units * work_unit_s())


def short_timeout(floor_s: float = 1.0, units: float = 40) -> float:
    """A `timeout=` for tasks that return at once: `floor_s`, or `units` work units when slower.

    The floor was 0.6 s: a correct supervisor's worker that exits at once was starved past it
    (judged a timeout) while CPU burners ran beside it on 2 cores, the unit having been
    measured a moment before they started."""
    return max(floor_s, units * work_unit_s())
