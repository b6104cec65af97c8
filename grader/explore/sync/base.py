"""The shared plumbing of every modelled primitive (`_Model`), in the two modes they all have.

Owns: finding the managed caller, starting each run from the state a primitive had when the
exploration first touched it (snapshots), labels ("Lock#1 (bank.py:8)") and announcing an
operation as a scheduling point. It must not model any one primitive's semantics, and must
not block a thread itself: blocking is `Scheduler.block` with a predicate.
"""

from __future__ import annotations

from typing import Any

from grader.explore.places import learner_location
from grader.explore.runtime import ManagedThread, current


class _Model:
    """Shared plumbing: find the managed caller and start each run from a clean state."""

    _kind = "Primitive"
    _silent = False  # internal parts of a bigger primitive: no scheduling points of their own

    def _init_model(self) -> None:
        mt = current()
        self._run = mt.sched.token if mt is not None else None
        self._where = learner_location(3)
        if mt is not None and not self._silent:
            mt.sched.label(self, self._kind, self._where)  # numbered in order of creation

    def _m(self) -> ManagedThread | None:
        mt = current()
        if mt is None:
            return None
        sched = mt.sched
        if self._run is not sched.token:
            self._run = sched.token
            key = id(self)
            if key in sched.snapshots:
                self._restore(sched.snapshots[key][1])
            else:
                sched.snapshots[key] = (self, self._snapshot())
        if self._silent and sched.footprint is not None:
            for obj in self._keys():  # a part of a bigger primitive: no point of its own
                sched.touch(obj, None, True)
        return mt

    def _keys(self) -> tuple[Any, ...]:
        """The objects an operation on this primitive touches (partial-order reduction)."""
        return (self,)

    def _snapshot(self) -> Any:
        return None

    def _restore(self, snapshot: Any) -> None:
        pass

    def _label(self, mt: ManagedThread) -> str:
        return mt.sched.label(self, self._kind, self._where)

    def _point(self, mt: ManagedThread, op: str) -> None:
        if not self._silent:
            mt.sched.point(mt, f"{op} {self._label(mt)}", self._keys())
