"""Modelled `threading.Lock` and `threading.RLock`.

Owns: who holds the lock, the recursion count of an RLock, and the happens-before clock a
release hands to the next acquirer. Outside an exploration each delegates to a real lock. It
must not pick the winner of a contended lock: that is the scheduler's choice.
"""

from __future__ import annotations

import _thread
import threading as _threading
from typing import Any

from grader.explore.runtime import Blocked, ManagedThread, current
from grader.explore.sync.base import _Model


class Lock(_Model):
    """threading.Lock: any thread may release it; a blocked acquirer is disabled."""

    _kind = "Lock"

    def __init__(self, _silent: bool = False) -> None:
        self._real = _thread.allocate_lock()
        self._locked = False
        self._owner: ManagedThread | None = None
        self._silent = _silent
        self._init_model()

    def _snapshot(self) -> Any:
        return None

    def _restore(self, snapshot: Any) -> None:
        self._locked, self._owner, self._clock = False, None, None

    _clock: dict[int, int] | None = None  # vector clock of the last release (race detector)

    def _holder(self) -> str | None:
        return self._owner.name if self._owner is not None else None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        mt = self._m()
        if mt is None:
            return self._real.acquire(blocking, timeout)
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        if timeout < 0 and timeout != -1:
            raise ValueError("timeout value must be a non-negative number")
        self._point(mt, "acquire")
        return self._model_acquire(mt, blocking, timeout)

    def _model_acquire(self, mt: ManagedThread, blocking: bool = True,
                       timeout: float = -1) -> bool:
        if self._locked:
            if not blocking:
                return False
            sched = mt.sched
            deadline = None if timeout == -1 else sched.now + timeout
            timed_out = sched.block(mt, lambda: not self._locked, deadline,
                                    Blocked(self._label(mt), self._holder))
            if timed_out:
                return False
        self._locked, self._owner = True, mt
        if mt.sched.hb is not None:
            mt.sched.hb.join(mt, self._clock)
        return True

    def release(self) -> None:
        mt = self._m()
        if mt is None:
            self._real.release()
            return
        if not self._locked:
            raise RuntimeError("release unlocked lock")
        self._point(mt, "release")
        if not self._locked:
            raise RuntimeError("release unlocked lock")
        self._locked, self._owner = False, None
        if mt.sched.hb is not None:
            self._clock = mt.sched.hb.release(mt)

    def locked(self) -> bool:
        mt = self._m()
        if mt is None:
            return self._real.locked()
        self._point(mt, "test")
        return self._locked

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()

    # what Condition needs
    def _is_owned_by(self, mt: ManagedThread) -> bool:
        return self._locked

    def _release_save(self, mt: ManagedThread) -> Any:
        self._locked, self._owner = False, None
        if mt.sched.hb is not None:
            self._clock = mt.sched.hb.release(mt)
        return None

    def _acquire_restore(self, mt: ManagedThread, state: Any) -> None:
        self._model_acquire(mt)

    def _force_restore(self, mt: ManagedThread, state: Any) -> None:
        self._locked, self._owner = True, mt

    def _at_fork_reinit(self) -> None:
        self._real = _thread.allocate_lock()
        self._locked, self._owner = False, None

    def __repr__(self) -> str:
        mt = current()
        locked = self._locked if mt is not None else self._real.locked()
        return f"<{'locked' if locked else 'unlocked'} modelled Lock at {id(self):#x}>"


class RLock(_Model):
    """threading.RLock: owned, counted; only the owner may release it."""

    _kind = "RLock"

    def __init__(self, _silent: bool = False) -> None:
        self._real = _threading.RLock()
        self._owner: ManagedThread | None = None
        self._count = 0
        self._silent = _silent
        self._init_model()

    _clock: dict[int, int] | None = None

    def _restore(self, snapshot: Any) -> None:
        self._owner, self._count, self._clock = None, 0, None

    def _holder(self) -> str | None:
        return self._owner.name if self._owner is not None else None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        mt = self._m()
        if mt is None:
            return self._real.acquire(blocking, timeout)
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        self._point(mt, "acquire")
        if self._owner is mt:
            self._count += 1
            return True
        if self._owner is not None:
            if not blocking:
                return False
            sched = mt.sched
            deadline = None if timeout is None or timeout < 0 else sched.now + timeout
            if sched.block(mt, lambda: self._owner is None, deadline,
                           Blocked(self._label(mt), self._holder)):
                return False
        self._owner, self._count = mt, 1
        if mt.sched.hb is not None:
            mt.sched.hb.join(mt, self._clock)
        return True

    def release(self) -> None:
        mt = self._m()
        if mt is None:
            self._real.release()
            return
        if self._owner is not mt:
            raise RuntimeError("cannot release un-acquired lock")
        self._point(mt, "release")
        self._count -= 1
        if self._count == 0:
            self._owner = None
            if mt.sched.hb is not None:
                self._clock = mt.sched.hb.release(mt)

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _is_owned(self) -> bool:
        mt = self._m()
        if mt is None:
            return self._real._is_owned()
        return self._owner is mt

    def _is_owned_by(self, mt: ManagedThread) -> bool:
        return self._owner is mt

    def _release_save(self, mt: ManagedThread) -> Any:
        state = self._count
        self._owner, self._count = None, 0
        if mt.sched.hb is not None:
            self._clock = mt.sched.hb.release(mt)
        return state

    def _acquire_restore(self, mt: ManagedThread, state: Any) -> None:
        if self._owner is not None:
            mt.sched.block(mt, lambda: self._owner is None, None,
                           Blocked(self._label(mt), self._holder))
        self._owner, self._count = mt, state
        if mt.sched.hb is not None:
            mt.sched.hb.join(mt, self._clock)

    def _force_restore(self, mt: ManagedThread, state: Any) -> None:
        self._owner, self._count = mt, state

    def _at_fork_reinit(self) -> None:
        self._real = _threading.RLock()
        self._owner, self._count = None, 0

    def __repr__(self) -> str:
        return f"<modelled RLock owner={self._holder()!r} count={self._count}>"
