"""Modelled `threading.Event`, over a modelled Condition.

Owns: the flag. It must not keep a wait queue of its own: waiting is the Condition's.
"""

from __future__ import annotations

from typing import Any

from grader.explore.sync.base import _Model
from grader.explore.sync.condition import Condition
from grader.explore.sync.locks import Lock


class Event(_Model):
    """threading.Event over a modelled Condition."""

    _kind = "Event"

    def __init__(self) -> None:
        self._init_model()
        self._cond = Condition(Lock(_silent=True), _silent=True, _kind="Event")
        self._cond._where = self._where
        self._flag = False

    def _snapshot(self) -> Any:
        return self._flag

    def _restore(self, snapshot: Any) -> None:
        self._flag = snapshot

    def __repr__(self) -> str:
        return f"<modelled Event {'set' if self._flag else 'unset'}>"

    def is_set(self) -> bool:
        mt = self._m()
        if mt is not None:
            self._point(mt, "test")
        return self._flag

    isSet = is_set

    def set(self) -> None:
        mt = self._m()
        if mt is not None:
            self._point(mt, "set")
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def clear(self) -> None:
        mt = self._m()
        if mt is not None:
            self._point(mt, "clear")
        with self._cond:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        mt = self._m()
        if mt is not None:
            self._point(mt, "wait on")
        with self._cond:
            signaled = self._flag
            if not signaled:
                signaled = self._cond.wait(timeout)
            return signaled
