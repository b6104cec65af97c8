"""Modelled `threading.Condition`: FIFO notify, no spurious wakeups.

Owns: the queue of waiters and which of them a notify wakes (the longest waiter first, as
CPython does); a woken waiter competes for the lock again. Outside an exploration it is a real
`threading.Condition` over the lock's real half. It must not wake a waiter spuriously.
"""

from __future__ import annotations

import threading as _threading
from collections import deque
from collections.abc import Callable
from typing import Any

from grader.explore.runtime import Blocked, ManagedThread
from grader.explore.sync.base import _Model
from grader.explore.sync.locks import Lock, RLock


class _Waiter:
    __slots__ = ("notified",)

    def __init__(self) -> None:
        self.notified = False


class Condition(_Model):
    """threading.Condition: FIFO notify, no spurious wakeups, the woken waiter re-competes."""

    _kind = "Condition"

    def __init__(self, lock: Any = None, _silent: bool = False, _kind: str | None = None
                 ) -> None:
        if lock is None:
            lock = RLock()
        self._lock = lock
        self._silent = _silent
        if _kind:
            self._kind = _kind
        self._waiters: deque[_Waiter] = deque()
        self._real_cond: Any = None
        self.acquire = lock.acquire
        self.release = lock.release
        self._init_model()

    def _restore(self, snapshot: Any) -> None:
        self._waiters = deque()

    def _keys(self) -> tuple[Any, ...]:
        return (self, self._lock)

    def _real(self) -> Any:
        if self._real_cond is None:
            lock = self._lock
            real = lock._real if isinstance(lock, (Lock, RLock)) else lock
            self._real_cond = _threading.Condition(real)
        return self._real_cond

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc: object) -> None:
        return self._lock.__exit__(*exc)

    def __repr__(self) -> str:
        return f"<modelled Condition({self._lock!r}, {len(self._waiters)})>"

    def _owned(self, mt: ManagedThread) -> bool:
        lock = self._lock
        if isinstance(lock, (Lock, RLock)):
            return lock._is_owned_by(mt)
        raise TypeError("a modelled Condition needs a threading.Lock or RLock")

    def wait(self, timeout: float | None = None) -> bool:
        mt = self._m()
        if mt is None:
            return self._real().wait(timeout)
        if not self._owned(mt):
            raise RuntimeError("cannot wait on un-acquired lock")
        self._point(mt, "wait on")
        sched = mt.sched
        waiter = _Waiter()
        self._waiters.append(waiter)
        saved = self._lock._release_save(mt)
        deadline = None if timeout is None else sched.now + max(timeout, 0.0)
        try:
            timed_out = sched.block(mt, lambda: waiter.notified, deadline,
                                    Blocked(f"notify on {self._label(mt)}"))
        except BaseException:
            self._remove(waiter)
            self._lock._force_restore(mt, saved)
            raise
        self._lock._acquire_restore(mt, saved)
        if timed_out:
            self._remove(waiter)  # a notify that picks it before it gets here is wasted
            return False
        return True

    def _remove(self, waiter: _Waiter) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        mt = self._m()
        if mt is None:
            return self._real().wait_for(predicate, timeout)
        endtime = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if endtime is None:
                    endtime = mt.sched.now + waittime
                else:
                    waittime = endtime - mt.sched.now
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        mt = self._m()
        if mt is None:
            self._real().notify(n)
            return
        if not self._owned(mt):
            raise RuntimeError("cannot notify on un-acquired lock")
        self._point(mt, "notify")
        while n > 0 and self._waiters:
            self._waiters.popleft().notified = True
            n -= 1

    def notify_all(self) -> None:
        mt = self._m()
        if mt is None:
            self._real().notify_all()
            return
        if not self._owned(mt):
            raise RuntimeError("cannot notify on un-acquired lock")
        self._point(mt, "notify_all")
        while self._waiters:
            self._waiters.popleft().notified = True

    notifyAll = notify_all
