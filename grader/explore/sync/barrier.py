"""Modelled `threading.Barrier`: CPython's filling/draining/resetting/broken state machine.

Owns: the barrier's state and count, over a modelled Condition. It must not keep a wait queue
of its own: waiting is the Condition's.
"""

from __future__ import annotations

import threading as _threading
from collections.abc import Callable
from typing import Any

from grader.explore.sync.base import _Model
from grader.explore.sync.condition import Condition
from grader.explore.sync.locks import Lock

BrokenBarrierError = _threading.BrokenBarrierError


class Barrier(_Model):
    """threading.Barrier: CPython's filling/draining/resetting/broken state machine."""

    _kind = "Barrier"

    def __init__(self, parties: int, action: Callable[[], Any] | None = None,
                 timeout: float | None = None) -> None:
        if parties < 1:
            raise ValueError("parties must be >= 1")
        self._init_model()
        self._cond = Condition(Lock(_silent=True), _silent=True, _kind="Barrier")
        self._cond._where = self._where
        self._action = action
        self._timeout = timeout
        self._parties = parties
        self._state = 0  # 0 filling, 1 draining, -1 resetting, -2 broken
        self._count = 0

    def _snapshot(self) -> Any:
        return (self._state, self._count)

    def _restore(self, snapshot: Any) -> None:
        self._state, self._count = snapshot

    def __repr__(self) -> str:
        return f"<modelled Barrier waiters={self._count}/{self._parties}>"

    def wait(self, timeout: float | None = None) -> int:
        mt = self._m()
        if mt is not None:
            self._point(mt, "wait on")
        if timeout is None:
            timeout = self._timeout
        with self._cond:
            self._enter()
            index = self._count
            self._count += 1
            try:
                if index + 1 == self._parties:
                    self._release()
                else:
                    self._wait(timeout)
                return index
            finally:
                self._count -= 1
                self._exit()

    def _enter(self) -> None:
        while self._state in (-1, 1):
            self._cond.wait()
        if self._state < 0:
            raise BrokenBarrierError
        assert self._state == 0

    def _release(self) -> None:
        try:
            if self._action:
                self._action()
            self._state = 1
            self._cond.notify_all()
        except BaseException:
            self._break()
            raise

    def _wait(self, timeout: float | None) -> None:
        if not self._cond.wait_for(lambda: self._state != 0, timeout):
            self._break()
            raise BrokenBarrierError
        if self._state < 0:
            raise BrokenBarrierError
        assert self._state == 1

    def _exit(self) -> None:
        if self._count == 0:
            if self._state in (-1, 1):
                self._state = 0
                self._cond.notify_all()

    def reset(self) -> None:
        mt = self._m()
        if mt is not None:
            self._point(mt, "reset")
        with self._cond:
            if self._count > 0:
                if self._state == 0:
                    self._state = -1
                elif self._state == -2:
                    self._state = -1
            else:
                self._state = 0
            self._cond.notify_all()

    def abort(self) -> None:
        mt = self._m()
        if mt is not None:
            self._point(mt, "abort")
        with self._cond:
            self._break()

    def _break(self) -> None:
        self._state = -2
        self._cond.notify_all()

    @property
    def parties(self) -> int:
        return self._parties

    @property
    def n_waiting(self) -> int:
        if self._state == 0:
            return self._count
        return 0

    @property
    def broken(self) -> bool:
        return self._state == -2
