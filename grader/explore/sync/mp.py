"""`multiprocessing` synchronisation primitives a learner uses from threads, routed to models.

Owns the `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Condition`, `Event`, `Barrier`,
`Value` and `Array` an instrumented module gets from `import multiprocessing`. Each object holds
a real `multiprocessing` primitive and a model from `grader.explore.sync`, and picks one
at every call: the model when the caller is a thread under the explorer, the real primitive
otherwise. Pickling (to hand the object to a child process) gives the real primitive, so a
`Process` child sees ordinary `multiprocessing` objects. Inside one exploration only the
scenario's threads use the object, so the two halves never need to agree; between
explorations the model is back in its initial state.

`multiprocessing`'s argument names and errors are kept: `acquire(block=True, timeout=None)`,
`ValueError` when a `Lock` or a bounded semaphore is released too often, `AssertionError` when
an `RLock` is released by a thread that does not own it. It must not model anything itself:
the semantics under the explorer are the `threading` models'.
"""

from __future__ import annotations

import multiprocessing as _mp
from collections.abc import Callable
from typing import Any

from grader.explore.places import learner_location
from grader.explore.runtime import current
from grader.explore.sync import barrier, condition, event, locks, semaphore


def _timeout(timeout: float | None) -> float:
    return -1 if timeout is None else max(timeout, 0.0)


class _Routed:
    """One real `multiprocessing` object and its model; `_real` and `_model` are set by
    subclasses."""

    _real: Any
    _model: Any

    def _managed(self) -> bool:
        return current() is not None

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._real.__reduce_ex__(protocol)

    def __getattr__(self, name: str) -> Any:  # anything we do not route: the real object's
        if name in ("_real", "_model"):
            raise AttributeError(name)
        return getattr(self._real, name)


class Lock(_Routed):
    """multiprocessing.Lock: a non-recursive lock any thread may release."""

    def __init__(self, *, ctx: Any = None) -> None:
        self._real = (ctx or _mp).Lock()
        self._model = locks.Lock()
        self._model._where = learner_location(2)

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        if self._managed():
            if not block:
                return self._model.acquire(False)
            return self._model.acquire(True, _timeout(timeout))
        return self._real.acquire(block, timeout)

    def release(self) -> None:
        if self._managed():
            try:
                self._model.release()
            except RuntimeError:
                raise ValueError("semaphore or lock released too many times") from None
            return
        self._real.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<routed multiprocessing.Lock {self._real!r}>"


class RLock(Lock):
    """multiprocessing.RLock: recursive, released only by its owner."""

    def __init__(self, *, ctx: Any = None) -> None:
        self._real = (ctx or _mp).RLock()
        self._model = locks.RLock()
        self._model._where = learner_location(2)

    def release(self) -> None:
        if self._managed():
            try:
                self._model.release()
            except RuntimeError:
                raise AssertionError(
                    "attempt to release recursive lock not owned by thread") from None
            return
        self._real.release()

    def __repr__(self) -> str:
        return f"<routed multiprocessing.RLock {self._real!r}>"


class Semaphore(_Routed):
    """multiprocessing.Semaphore, with `get_value()`."""

    _model_kind: Callable[[int], Any] = semaphore.Semaphore

    def __init__(self, value: int = 1, *, ctx: Any = None) -> None:
        self._real = self._make_real(ctx or _mp, value)
        self._model = type(self)._model_kind(value)
        self._model._where = learner_location(2)
        self._model._cond._where = self._model._where

    @staticmethod
    def _make_real(ctx: Any, value: int) -> Any:
        return ctx.Semaphore(value)

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        if self._managed():
            return self._model.acquire(block, timeout if block else None)
        return self._real.acquire(block, timeout)

    def release(self) -> None:
        if self._managed():
            self._model.release()
            return
        self._real.release()

    def get_value(self) -> int:
        if self._managed():
            return self._model._value
        return self._real.get_value()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    """multiprocessing.BoundedSemaphore: a release past the initial value is a ValueError."""

    _model_kind = semaphore.BoundedSemaphore

    @staticmethod
    def _make_real(ctx: Any, value: int) -> Any:
        return ctx.BoundedSemaphore(value)

    def release(self) -> None:
        if self._managed():
            try:
                self._model.release()
            except ValueError:
                raise ValueError("semaphore or lock released too many times") from None
            return
        self._real.release()


class Condition(_Routed):
    """multiprocessing.Condition over a routed Lock or RLock (a new RLock by default)."""

    def __init__(self, lock: Any = None, *, ctx: Any = None) -> None:
        if lock is None:
            lock = RLock(ctx=ctx)
        if not isinstance(lock, Lock):
            raise TypeError("a multiprocessing Condition under the grader needs a "
                            "multiprocessing.Lock or RLock")
        self._lock = lock
        self._real = (ctx or _mp).Condition(lock._real)
        self._model = condition.Condition(lock._model)
        self._model._where = learner_location(2)

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        return self._lock.acquire(block, timeout)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        return (self._model if self._managed() else self._real).wait(timeout)

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        return (self._model if self._managed() else self._real).wait_for(predicate, timeout)

    def notify(self, n: int = 1) -> None:
        (self._model if self._managed() else self._real).notify(n)

    def notify_all(self) -> None:
        (self._model if self._managed() else self._real).notify_all()


class Event(_Routed):
    """multiprocessing.Event."""

    def __init__(self, *, ctx: Any = None) -> None:
        self._real = (ctx or _mp).Event()
        self._model = event.Event()
        self._model._where = learner_location(2)

    def is_set(self) -> bool:
        return (self._model if self._managed() else self._real).is_set()

    def set(self) -> None:
        (self._model if self._managed() else self._real).set()

    def clear(self) -> None:
        (self._model if self._managed() else self._real).clear()

    def wait(self, timeout: float | None = None) -> bool:
        return (self._model if self._managed() else self._real).wait(timeout)


class Barrier(_Routed):
    """multiprocessing.Barrier."""

    def __init__(self, parties: int, action: Callable[[], Any] | None = None,
                 timeout: float | None = None, *, ctx: Any = None) -> None:
        self._real = (ctx or _mp).Barrier(parties, action, timeout)
        self._model = barrier.Barrier(parties, action, timeout)
        self._model._where = learner_location(2)

    def _pick(self) -> Any:
        return self._model if self._managed() else self._real

    def wait(self, timeout: float | None = None) -> int:
        return self._pick().wait(timeout)

    def reset(self) -> None:
        self._pick().reset()

    def abort(self) -> None:
        self._pick().abort()

    @property
    def parties(self) -> int:
        return self._real.parties

    @property
    def n_waiting(self) -> int:
        return self._pick().n_waiting

    @property
    def broken(self) -> bool:
        return self._pick().broken


def Value(typecode_or_type: Any, *args: Any, lock: Any = True, ctx: Any = None) -> Any:  # noqa: N802
    """multiprocessing.Value, synchronised by a routed RLock (unless `lock` says otherwise)."""
    if lock is True:
        lock = RLock(ctx=ctx)
    return (ctx or _mp).Value(typecode_or_type, *args, lock=lock)


def Array(typecode_or_type: Any, size_or_initializer: Any, *, lock: Any = True,  # noqa: N802
          ctx: Any = None) -> Any:
    """multiprocessing.Array, synchronised by a routed RLock (unless `lock` says otherwise)."""
    if lock is True:
        lock = RLock(ctx=ctx)
    return (ctx or _mp).Array(typecode_or_type, size_or_initializer, lock=lock)


ROUTED = ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event", "Barrier",
          "Value", "Array")
