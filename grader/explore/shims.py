"""The `threading`, `queue` and `time` modules an instrumented learner module sees.

Each shim is a module object: the modelled names come from `grader.explore.primitives`; every
other name falls through to the real module (`current_thread`, `get_ident`, `local`, ...,
which stay correct because managed threads are real threads). The queue shim is CPython's own
`queue.py`, run over modelled locks and conditions, with one scheduling point per operation
and `SimpleQueue` replaced by the pure-Python version. Check code that needs a modelled
primitive in a scenario imports it from here: `from grader.explore.shims import threading`.
"""

from __future__ import annotations

import inspect
import queue as _real_queue
import threading as _real_threading
import time as _real_time
from types import ModuleType, SimpleNamespace
from typing import Any

from grader.explore import instrument, primitives
from grader.explore.runtime import current


def _proxy(name: str, real: ModuleType, names: dict[str, Any]) -> ModuleType:
    module = ModuleType(name, real.__doc__)
    module.__dict__.update(names)

    def __getattr__(attr: str) -> Any:
        return getattr(real, attr)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__all__ = list(getattr(real, "__all__", []))  # type: ignore[attr-defined]
    return module


threading = _proxy("threading", _real_threading, {
    name: getattr(primitives, name)
    for name in ("Thread", "Timer", "Lock", "RLock", "Condition", "Semaphore",
                 "BoundedSemaphore", "Event", "Barrier", "BrokenBarrierError")
})

time = _proxy("time", _real_time, {
    name: getattr(primitives, name)
    for name in ("sleep", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns",
                 "time", "time_ns")
})


def _queue_internals() -> SimpleNamespace:
    """The `threading` CPython's queue.py sees: silent parts, named for a deadlock report."""
    roles = ("an item in", "a free slot in", "task_done on")
    made: dict[int, int] = {}

    def condition(lock: Any) -> primitives.Condition:
        n = made.get(id(lock), 0)
        made[id(lock)] = n + 1
        return primitives.Condition(lock, _silent=True, _kind=f"{roles[n % 3]} Queue")

    def semaphore(value: int = 1) -> primitives.Semaphore:
        sem = primitives.Semaphore(value)
        sem._silent = True
        sem._cond._kind = "an item in SimpleQueue"
        return sem

    return SimpleNamespace(Lock=lambda: primitives.Lock(_silent=True), Condition=condition,
                           Semaphore=semaphore)


def _build_queue() -> ModuleType:
    source = inspect.getsource(_real_queue)
    path = _real_queue.__file__ or "queue.py"
    tree = instrument.rewrite(source, path, points=False)
    internals = _queue_internals()

    def shim_for_queue(name: str) -> Any:
        return internals if name == "threading" else time

    namespace: dict[str, Any] = {"__name__": "grader.explore.shims._queue", "__file__": path,
                                 "__grader_shim__": shim_for_queue}
    exec(compile(tree, path, "exec", dont_inherit=True), namespace)
    # One class of exception for everyone: `except queue.Empty` must catch either kind.
    namespace["Empty"] = _real_queue.Empty
    namespace["Full"] = _real_queue.Full
    if hasattr(_real_queue, "ShutDown"):
        namespace["ShutDown"] = _real_queue.ShutDown

    class _Points:
        def _op(self, op: str) -> None:
            mt = current()
            if mt is not None:
                label = mt.sched.label(self, type(self).__name__, None)
                mt.sched.point(mt, f"{op} {label}")

        def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
            self._op("put")
            return super().put(item, block, timeout)  # type: ignore[misc]

        def get(self, block: bool = True, timeout: float | None = None) -> Any:
            self._op("get")
            return super().get(block, timeout)  # type: ignore[misc]

        def qsize(self) -> int:
            self._op("qsize")
            return super().qsize()  # type: ignore[misc]

        def empty(self) -> bool:
            self._op("empty")
            return super().empty()  # type: ignore[misc]

    class _TaskPoints(_Points):
        def full(self) -> bool:
            self._op("full")
            return super().full()  # type: ignore[misc]

        def task_done(self) -> None:
            self._op("task_done")
            return super().task_done()  # type: ignore[misc]

        def join(self) -> None:
            self._op("join")
            return super().join()  # type: ignore[misc]

    def make(name: str, base: type, mixin: type) -> type:
        cls = type(name, (mixin, base), {"__module__": "queue", "__qualname__": name})
        return cls

    names = {
        "Queue": make("Queue", namespace["Queue"], _TaskPoints),
        "LifoQueue": make("LifoQueue", namespace["LifoQueue"], _TaskPoints),
        "PriorityQueue": make("PriorityQueue", namespace["PriorityQueue"], _TaskPoints),
        "SimpleQueue": make("SimpleQueue", namespace["_PySimpleQueue"], _Points),
        "Empty": _real_queue.Empty,
        "Full": _real_queue.Full,
    }
    if hasattr(_real_queue, "ShutDown"):
        names["ShutDown"] = _real_queue.ShutDown
    return _proxy("queue", _real_queue, names)


queue = _build_queue()

_MODULES = {"threading": threading, "time": time, "queue": queue}


def module(name: str) -> ModuleType:
    """The shim standing in for the standard module `name` in instrumented code."""
    return _MODULES[name]
