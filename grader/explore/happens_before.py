"""The happens-before race detector: vector clocks and a shadow of every shared access.

Owns: forking and joining the threads' vector clocks (thread start and join, and the clock a
lock release or an event hands on), the shadow of the last write and reads of each
(object, attribute), and the notes for accesses no synchronisation orders. Its notes are advice
shown beside a verdict, never a verdict: it must not fail a run, and must not schedule.
"""

from __future__ import annotations

from typing import Any

from grader.explore import messages


class HappensBefore:
    """One run's detector; `threads` is the scheduler's list of threads (for their names)."""

    def __init__(self, threads: list[Any]) -> None:
        self.threads = threads
        # (id(obj), attr) -> [obj, last write, {thread: last read}].
        self.shadow: dict[tuple[int, str], list[Any]] = {}
        self.races: dict[tuple[Any, ...], str] = {}

    def fork(self, parent: Any, child: Any) -> None:
        child.vc = dict(parent.vc)
        child.vc[child.index] = child.vc.get(child.index, 0) + 1
        parent.vc[parent.index] += 1

    @staticmethod
    def join(into: Any, clock: dict[int, int] | None) -> None:
        if clock:
            vc = into.vc
            for t, c in clock.items():
                if vc.get(t, 0) < c:
                    vc[t] = c

    @staticmethod
    def release(mt: Any) -> dict[int, int]:
        clock = dict(mt.vc)
        mt.vc[mt.index] = mt.vc.get(mt.index, 0) + 1
        return clock

    def access(self, mt: Any, obj: Any, attr: str, write: bool, site: int) -> None:
        """Record an access to obj.attr; note it when it races with an earlier one."""
        if mt.index < 0:
            return  # the `always` check reads atomically
        key = (id(obj), attr)
        entry = self.shadow.get(key)
        if entry is None:
            entry = self.shadow[key] = [obj, None, {}]
        vc = mt.vc
        me = mt.index
        last_write = entry[1]
        if last_write is not None and last_write[0] != me and last_write[1] > vc.get(
                last_write[0], 0):
            self.race(obj, attr, last_write, (me, vc[me], site, True), write)
        if write:
            for other, (clock, where) in entry[2].items():
                if other != me and clock > vc.get(other, 0):
                    self.race(obj, attr, (other, clock, where, False), (me, vc[me], site), True)
            entry[1] = (me, vc[me], site, True)
            entry[2] = {}
        else:
            entry[2][me] = (vc[me], site)

    def race(self, obj: Any, attr: str, first: tuple[Any, ...], second: tuple[Any, ...],
             write: bool) -> None:
        key = (type(obj).__name__, attr, *sorted((first[2], second[2])))
        if key in self.races:
            return
        name = f"{type(obj).__name__}.{attr}"
        a = self.threads[first[0]].name if first[0] < len(self.threads) else "?"
        b = self.threads[second[0]].name if second[0] < len(self.threads) else "?"
        verb_a = "writes" if (len(first) > 3 and first[3]) else "reads"
        verb_b = "writes" if write else "reads"
        self.races[key] = messages.race(name, a, verb_a, first[2], b, verb_b, second[2])
