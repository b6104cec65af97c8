"""A log of the lock operations each managed thread performs, for checks of fast paths.

A check that must show a call takes no lock at all (lazy's `get` once the value is set)
cannot tell from the outside: an uncontended `acquire` returns at once, and a lock may hide
in any object. Under the explorer every modelled primitive announces its operations through
one method (`_Model._point`), so wrapping that method for the length of a check sees every
`acquire` of a Lock, RLock, Semaphore or Condition, and every `wait` on a Condition, Event or
Barrier, whichever object holds it, and which managed thread did it. Only what the learner's
code does directly is logged: a primitive's silent internal parts (the lock inside an
Event) are not, so `Event.is_set`, which takes no lock in CPython, stays free.

    with lock_operations() as log:
        mark = log.mark()          # in a managed thread: where its log is now
        lazy.get()
        taken = log.since(mark)    # the operations that thread performed since the mark
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from grader.explore.runtime import ManagedThread, current
from grader.explore.sync import base

#: The operations that take a lock or may block: what a fast path must not do.
LOCKING_OPERATIONS = ("acquire", "wait on")


@dataclass
class OperationLog:
    """Per managed thread (by name), the locking operations it performed, in order."""

    by_thread: dict[str, list[str]] = field(default_factory=dict)

    def record(self, thread: str, operation: str) -> None:
        self.by_thread.setdefault(thread, []).append(operation)

    def mark(self) -> tuple[str, int]:
        """Where the calling managed thread's log stands now."""
        mt = current()
        name = mt.name if mt is not None else ""
        return name, len(self.by_thread.get(name, []))

    def since(self, mark: tuple[str, int]) -> list[str]:
        """The operations the marked thread performed after the mark."""
        name, start = mark
        return self.by_thread.get(name, [])[start:]


@contextmanager
def lock_operations() -> Iterator[OperationLog]:
    """Log every locking operation of managed threads while the block runs."""
    log = OperationLog()
    original = base._Model._point

    def logged_point(self: base._Model, mt: ManagedThread, op: str) -> None:
        if not self._silent and op in LOCKING_OPERATIONS:
            log.record(mt.name, f"{op} {self._label(mt)}")
        original(self, mt, op)

    base._Model._point = logged_point  # type: ignore[method-assign]
    try:
        yield log
    finally:
        base._Model._point = original  # type: ignore[method-assign]
