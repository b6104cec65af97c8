"""Modelled `threading.local`: one dictionary per managed thread under the explorer.

Owns: which dictionary an attribute of a local lives in. Under the explorer that is the running
managed thread's, which is new in every schedule, so a value a thread stored in one schedule
is never seen in the next, whichever OS thread carries it (`carriers`); outside an exploration
it is the OS thread's, as with the real `threading.local`. The design is CPython's own
`_threading_local`: each attribute operation puts the caller's dictionary in place as the
object's `__dict__` under a lock, and a subclass's `__init__` runs once in every thread that
first touches the object, with the arguments the object was made with. The lock is a silent
modelled RLock (no scheduling point of its own): a property of a subclass may be instrumented
code that reaches a scheduling point while it holds the lock, and another managed thread then
waits in the model, not in a real lock.
"""

from __future__ import annotations

import threading as _threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from weakref import ref

from grader.explore.runtime import current
from grader.explore.sync.locks import RLock


class _SilentRLock(RLock):
    _silent = True  # set before the model's plumbing runs: not numbered among the learner's


def _owner() -> Any:
    mt = current()
    return mt if mt is not None else _threading.current_thread()


class _Impl:
    __slots__ = ("dicts", "args", "lock", "__weakref__")

    def __init__(self, args: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        self.dicts: dict[int, tuple[Any, dict[str, Any]]] = {}  # id(owner) -> (ref, dict)
        self.args = args
        self.lock = _SilentRLock()

    def get(self) -> dict[str, Any] | None:
        owner = _owner()
        entry = self.dicts.get(id(owner))
        if entry is None or entry[0]() is not owner:  # none yet, or a dead owner's id reused
            return None
        return entry[1]

    def create(self) -> dict[str, Any]:
        owner = _owner()
        key = id(owner)
        wrimpl = ref(self)

        def owner_gone(wr: Any, key: int = key) -> None:
            impl = wrimpl()
            if impl is not None and impl.dicts.get(key, (None,))[0] is wr:
                del impl.dicts[key]

        values: dict[str, Any] = {}
        self.dicts[key] = (ref(owner, owner_gone), values)
        return values


@contextmanager
def _patch(self: local) -> Iterator[None]:
    impl = object.__getattribute__(self, "_local__impl")
    values = impl.get()
    if values is None:
        values = impl.create()
        args, kw = impl.args
        self.__init__(*args, **kw)
    with impl.lock:
        object.__setattr__(self, "__dict__", values)
        yield


class local:
    """threading.local, per managed thread under the explorer."""

    __slots__ = ("_local__impl", "__dict__")

    def __new__(cls, /, *args: Any, **kw: Any) -> local:
        if (args or kw) and (cls.__init__ is object.__init__):
            raise TypeError("Initialization arguments are not supported")
        self = object.__new__(cls)
        impl = _Impl((args, kw))
        object.__setattr__(self, "_local__impl", impl)
        # the creating thread's dictionary exists before __init__ runs, so it is not run twice
        impl.create()
        return self

    def __getattribute__(self, name: str) -> Any:
        with _patch(self):
            return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "__dict__":
            raise AttributeError(
                f"{self.__class__.__name__!r} object attribute '__dict__' is read-only")
        with _patch(self):
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name == "__dict__":
            raise AttributeError(
                f"{self.__class__.__name__!r} object attribute '__dict__' is read-only")
        with _patch(self):
            object.__delattr__(self, name)
