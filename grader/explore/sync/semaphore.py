"""Modelled `threading.Semaphore` and `threading.BoundedSemaphore`.

Owns: the counter, following CPython's algorithm over a modelled Condition. It must not keep
a wait queue of its own: waiting is the Condition's.
"""

from __future__ import annotations

from typing import Any

from grader.explore.sync.base import _Model
from grader.explore.sync.clock import monotonic
from grader.explore.sync.condition import Condition
from grader.explore.sync.locks import Lock


class Semaphore(_Model):
    """threading.Semaphore, CPython's algorithm over a modelled Condition."""

    _kind = "Semaphore"

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._init_model()
        self._cond = Condition(Lock(_silent=True), _silent=True,
                               _kind=f"{type(self).__name__}")
        self._cond._where = self._where
        self._value = value

    def _snapshot(self) -> Any:
        return self._value

    def _restore(self, snapshot: Any) -> None:
        self._value = snapshot

    def __repr__(self) -> str:
        return f"<modelled {type(self).__name__} value={self._value}>"

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        mt = self._m()
        if mt is not None:
            self._point(mt, "acquire")
        rc = False
        endtime = None
        with self._cond:
            while self._value == 0:
                if not blocking:
                    break
                if timeout is not None:
                    if endtime is None:
                        endtime = monotonic() + timeout
                    else:
                        timeout = endtime - monotonic()
                        if timeout <= 0:
                            break
                self._cond.wait(timeout)
            else:
                self._value -= 1
                rc = True
        return rc

    __enter__ = acquire

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        mt = self._m()
        if mt is not None:
            self._point(mt, "release")
        with self._cond:
            self._value += n
            self._cond.notify(n)

    def __exit__(self, *exc: object) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    """threading.BoundedSemaphore: releasing past the initial value raises ValueError."""

    _kind = "BoundedSemaphore"

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial_value = value

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        mt = self._m()
        if mt is not None:
            self._point(mt, "release")
        with self._cond:
            if self._value + n > self._initial_value:
                raise ValueError("Semaphore released too many times")
            self._value += n
            self._cond.notify(n)
