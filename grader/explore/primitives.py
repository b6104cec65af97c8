"""Modelled `threading` and `time` primitives, one for one with the standard library.

Each primitive works in two modes, decided at every call: outside an exploration (the calling
thread is not managed) it is the real thing, delegating to a real lock or to CPython's own
algorithm over real locks; inside one, its state is a model the scheduler can see, every
operation is a scheduling point, and blocking disables the thread instead of blocking the OS
thread. The models follow CPython's semantics: `notify` wakes the longest waiter first, there
are no spurious wakeups, whoever wins a contended lock is the scheduler's choice, and timeouts
run on virtual time. A primitive made before a run (a module-level lock) starts every run from
the state it had when the exploration first touched it.
"""

from __future__ import annotations

import _thread
import threading as _threading
import time as _time
from collections import deque
from collections.abc import Callable
from typing import Any

from grader.explore.runtime import (
    Abort,
    Blocked,
    ManagedThread,
    current,
    learner_location,
)

_real_monotonic = _time.monotonic
_real_time = _time.time
_real_perf_counter = _time.perf_counter
_real_sleep = _time.sleep

VIRTUAL_EPOCH = 1_700_000_000.0  # what time.time() reads at virtual time 0
VIRTUAL_MONOTONIC = 1_000.0

BrokenBarrierError = _threading.BrokenBarrierError


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
        if mt.sched.shadow is not None:
            mt.sched.hb_join(mt, self._clock)
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
        if mt.sched.shadow is not None:
            self._clock = mt.sched.hb_release(mt)

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
        if mt.sched.shadow is not None:
            self._clock = mt.sched.hb_release(mt)
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

    def __init__(self) -> None:
        self._real = _threading.RLock()
        self._owner: ManagedThread | None = None
        self._count = 0
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
        if mt.sched.shadow is not None:
            mt.sched.hb_join(mt, self._clock)
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
            if mt.sched.shadow is not None:
                self._clock = mt.sched.hb_release(mt)

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
        if mt.sched.shadow is not None:
            self._clock = mt.sched.hb_release(mt)
        return state

    def _acquire_restore(self, mt: ManagedThread, state: Any) -> None:
        if self._owner is not None:
            mt.sched.block(mt, lambda: self._owner is None, None,
                           Blocked(self._label(mt), self._holder))
        self._owner, self._count = mt, state
        if mt.sched.shadow is not None:
            mt.sched.hb_join(mt, self._clock)

    def _force_restore(self, mt: ManagedThread, state: Any) -> None:
        self._owner, self._count = mt, state

    def _at_fork_reinit(self) -> None:
        self._real = _threading.RLock()
        self._owner, self._count = None, 0

    def __repr__(self) -> str:
        return f"<modelled RLock owner={self._holder()!r} count={self._count}>"


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
    if secs > 0:
        sched.block(mt, None, sched.now + secs, Blocked(f"sleep {secs:g}s"))


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


class Thread(_threading.Thread):
    """threading.Thread: a real thread; started under the explorer, a managed one."""

    _grader_mt: ManagedThread | None = None

    def __init__(self, *args: Any, daemon: bool | None = None, **kwargs: Any) -> None:
        if daemon is None:
            parent = current()
            if parent is not None:  # the OS threads under the explorer are daemons; models not
                daemon = parent.daemon
        super().__init__(*args, daemon=daemon, **kwargs)

    def start(self) -> None:
        parent = current()
        if parent is None:
            super().start()
            return
        sched = parent.sched
        if self._grader_mt is not None and self._grader_mt.sched is sched:
            raise RuntimeError("threads can only be started once")
        sched.point(parent, "start thread")
        mt = sched.new_thread(None, self.daemon)
        mt.name = f"T{mt.index}"
        if sched.shadow is not None:
            sched.hb_fork(parent, mt)
        self._grader_mt = mt
        user_run = self.run

        def run_under_scheduler() -> None:
            sched.bootstrap(mt, user_run)

        # An instance attribute, left in place: the new thread looks `run` up after `start`
        # has returned in this thread.
        self.run = run_under_scheduler  # type: ignore[method-assign]
        super().start()

    def _managed(self) -> tuple[ManagedThread | None, ManagedThread | None]:
        me = current()
        mt = self._grader_mt
        if me is None or mt is None or mt.sched is not me.sched:
            return me, None
        return me, mt

    def join(self, timeout: float | None = None) -> None:
        me, mt = self._managed()
        if me is None or mt is None:
            super().join(timeout)
            return
        if mt is me:
            raise RuntimeError("cannot join current thread")
        sched = me.sched
        sched.point(me, f"join {mt.name}")
        if mt.state != "done":
            deadline = None if timeout is None else sched.now + max(timeout, 0.0)
            sched.block(me, lambda: mt.state == "done", deadline, Blocked(f"join {mt.name}"))
        if mt.state == "done" and sched.shadow is not None:
            sched.hb_join(me, mt.vc)

    def is_alive(self) -> bool:
        me, mt = self._managed()
        if mt is None:
            return super().is_alive()
        sched = mt.sched
        assert me is not None
        sched.point(me, f"is_alive {mt.name}")
        return mt.state != "done"


class Timer(Thread):
    """threading.Timer on the virtual clock."""

    def __init__(self, interval: float, function: Callable[..., Any],
                 args: Any = None, kwargs: Any = None) -> None:
        super().__init__()
        self.interval = interval
        self.function = function
        self.args = args if args is not None else []
        self.kwargs = kwargs if kwargs is not None else {}
        self.finished = Event()

    def cancel(self) -> None:
        self.finished.set()

    def run(self) -> None:
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


__all__ = [
    "Abort", "Barrier", "BoundedSemaphore", "BrokenBarrierError", "Condition", "Event", "Lock",
    "RLock", "Semaphore", "Thread", "Timer", "monotonic", "perf_counter", "sleep", "time",
]
