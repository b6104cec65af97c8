"""The `threading`, `queue`, `time` (and more) modules an instrumented learner module sees.

Each shim is a module object: the modelled names come from `grader.explore.sync`; every
other name falls through to the real module (`current_thread`, `get_ident`, ..., which stay
correct because managed threads are real threads). `local` is modelled: the OS threads that
carry the explorer's threads serve one schedule after another (`carriers`), and a value must
not outlive its schedule. The queue shim is CPython's own
`queue.py`, run over modelled locks and conditions, with one scheduling point per operation
and `SimpleQueue` replaced by the pure-Python version. Check code that needs a modelled
primitive in a scenario imports it from here: `from grader.explore.shims import threading`.

Other ways a learner's code reaches a lock are routed here too: `_thread` (`allocate_lock`,
`LockType`, `RLock`, `start_new_thread`), `multiprocessing`'s synchronisation primitives
(`grader.explore.sync.mp`), `concurrent.futures`'s `Future`, `wait` and `as_completed`
(CPython's own code over modelled primitives; executors stay real), `importlib.import_module`,
`__import__` and `sys.modules`
(which hand out these shims for the shimmed names), and the locks the standard library makes
for the learner (`functools.cached_property`'s RLock on 3.10 and 3.11, `_threading_local`),
which `route_standard_library` points at the models.
"""

from __future__ import annotations

import _thread as _real_thread
import _threading_local as _real_threading_local
import functools
import importlib as _real_importlib
import inspect
import queue as _real_queue
import sys as _real_sys
import threading as _real_threading
import time as _real_time
from collections.abc import Iterator, MutableMapping
from types import ModuleType, SimpleNamespace
from typing import Any

from grader.explore import rewrite
from grader.explore.rewrite import access, point, point_value, store
from grader.explore.runtime import current
from grader.explore.sync import clock
from grader.explore.sync.barrier import Barrier, BrokenBarrierError
from grader.explore.sync.condition import Condition
from grader.explore.sync.event import Event
from grader.explore.sync.local import local
from grader.explore.sync.locks import Lock, RLock
from grader.explore.sync.semaphore import BoundedSemaphore, Semaphore
from grader.explore.sync.thread import Thread, Timer


def _proxy(name: str, real: ModuleType, names: dict[str, Any]) -> ModuleType:
    module = ModuleType(name, real.__doc__)
    module.__dict__.update(names)

    def __getattr__(attr: str) -> Any:
        return getattr(real, attr)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__all__ = list(getattr(real, "__all__", []))  # type: ignore[attr-defined]
    return module


threading = _proxy("threading", _real_threading, {
    "Thread": Thread, "Timer": Timer, "Lock": Lock, "RLock": RLock, "Condition": Condition,
    "Semaphore": Semaphore, "BoundedSemaphore": BoundedSemaphore, "Event": Event,
    "Barrier": Barrier, "BrokenBarrierError": BrokenBarrierError, "local": local,
})

time = _proxy("time", _real_time, {
    name: getattr(clock, name)
    for name in ("sleep", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns",
                 "time", "time_ns")
})


def _queue_internals() -> SimpleNamespace:
    """The `threading` CPython's queue.py sees: silent parts, named for a deadlock report."""
    roles = ("an item in", "a free slot in", "task_done on")
    made: dict[int, int] = {}

    def condition(lock: Any) -> Condition:
        n = made.get(id(lock), 0)
        made[id(lock)] = n + 1
        return Condition(lock, _silent=True, _kind=f"{roles[n % 3]} Queue")

    def semaphore(value: int = 1) -> Semaphore:
        sem = Semaphore(value)
        sem._silent = True
        sem._cond._kind = "an item in SimpleQueue"
        return sem

    return SimpleNamespace(Lock=lambda: Lock(_silent=True), Condition=condition,
                           Semaphore=semaphore)


def _build_queue() -> ModuleType:
    source = inspect.getsource(_real_queue)
    path = _real_queue.__file__ or "queue.py"
    tree = rewrite.rewrite(source, path, points=False)
    internals = _queue_internals()

    def shim_for_queue(name: str) -> Any:
        if name == "threading":
            return internals
        return time if name == "time" else _real_importlib.import_module(name)

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


def _start_new_thread(function: Any, args: tuple[Any, ...], kwargs: Any = None) -> int:
    """_thread.start_new_thread: under the explorer a managed (daemon) thread."""
    if current() is None:
        return _real_thread.start_new_thread(function, args, *([kwargs] if kwargs else []))
    thread = Thread(target=function, args=args, kwargs=kwargs or {}, daemon=True)
    thread.start()
    return thread.ident or 0


_thread = _proxy("_thread", _real_thread, {
    "allocate_lock": Lock, "allocate": Lock,
    "LockType": Lock, "RLock": RLock,
    "start_new_thread": _start_new_thread, "start_new": _start_new_thread,
    "_local": local,
})

# CPython's pure-Python local keys on the OS thread's Thread object: the model keys on the
# managed thread, which is new in every schedule.
_threading_local = _proxy("_threading_local", _real_threading_local, {"local": local})


def _build_multiprocessing() -> ModuleType:
    """Built on first use: importing `multiprocessing` costs more than most checks need."""
    import multiprocessing as real

    from grader.explore.sync import mp

    return _proxy("multiprocessing", real, {
        name: getattr(mp, name) for name in mp.ROUTED})


def _build_futures() -> ModuleType:
    """`concurrent.futures` with a modelled `Future`, `wait` and `as_completed`.

    The classes are CPython's own `concurrent/futures/_base.py`, run over silent modelled
    locks, conditions and events (as the queue shim is), with one scheduling point per public
    `Future` method. Its exceptions are the real ones, so `except CancelledError` catches
    either kind. Executors stay real: a real executor makes real futures, and `wait` and
    `as_completed` given any real future use the real functions (the explorer then loses
    control and falls back to real threads, as it did before this shim).
    """
    import concurrent.futures as real
    import concurrent.futures._base as real_base

    source = inspect.getsource(real_base)
    path = real_base.__file__ or "concurrent/futures/_base.py"
    tree = rewrite.rewrite(source, path, points=False)

    def condition(lock: Any = None) -> Condition:
        return Condition(RLock(_silent=True) if lock is None else lock, _silent=True,
                         _kind="the result of a Future")

    def event() -> Event:
        made = Event()
        made._silent = True
        made._cond._kind = "a Future to finish"
        return made

    internals = SimpleNamespace(Lock=lambda: Lock(_silent=True), Condition=condition,
                                Event=event)

    def shim_for_futures(name: str) -> Any:
        if name == "threading":
            return internals
        return time if name == "time" else _real_importlib.import_module(name)

    namespace: dict[str, Any] = {"__name__": "grader.explore.shims._futures", "__file__": path,
                                 "__grader_shim__": shim_for_futures}
    exec(compile(tree, path, "exec", dont_inherit=True), namespace)
    exceptions = ("Error", "CancelledError", "TimeoutError", "InvalidStateError",
                  "BrokenExecutor")
    for name in exceptions:
        if hasattr(real_base, name):
            namespace[name] = getattr(real_base, name)

    def _op(future: Any, op: str) -> None:
        mt = current()
        if mt is not None:
            mt.sched.point(mt, f"{op} {mt.sched.label(future, 'Future', None)}")

    base = namespace["Future"]
    methods = ("cancel", "cancelled", "running", "done", "add_done_callback", "result",
               "exception", "set_running_or_notify_cancel", "set_result", "set_exception")

    def stepping(name: str) -> Any:
        method = getattr(base, name)

        @functools.wraps(method)
        def step(self: Any, *args: Any, **kwargs: Any) -> Any:
            _op(self, name)
            return method(self, *args, **kwargs)

        return step

    future = type("Future", (base,), {
        "__module__": "concurrent.futures", "__qualname__": "Future",
        **{name: stepping(name) for name in methods if hasattr(base, name)}})

    def modelled(fs: Any) -> bool:
        return all(isinstance(f, base) for f in fs)

    def wait(fs: Any, timeout: float | None = None, return_when: str = real.ALL_COMPLETED
             ) -> Any:
        fs = list(fs)
        if modelled(fs):
            return namespace["wait"](fs, timeout, return_when)
        return real.wait(fs, timeout, return_when)

    def as_completed(fs: Any, timeout: float | None = None) -> Any:
        fs = list(fs)
        if modelled(fs):
            return namespace["as_completed"](fs, timeout)
        return real.as_completed(fs, timeout)

    wait.__doc__, as_completed.__doc__ = real.wait.__doc__, real.as_completed.__doc__
    names: dict[str, Any] = {"Future": future, "wait": wait, "as_completed": as_completed}
    for name in exceptions:
        if hasattr(real, name):
            names[name] = getattr(real, name)
    return _proxy("concurrent.futures", real, names)


def _build_concurrent() -> ModuleType:
    """The `concurrent` package, whose `futures` is the shim (`import concurrent.futures`)."""
    import concurrent as real

    return _proxy("concurrent", real, {"futures": module("concurrent.futures")})


def _build_collections() -> ModuleType:
    """`collections` with an instrumented `Counter`: its pure-Python methods are steps.

    `Counter.update(mapping)` reads a count and writes the sum back in a Python loop; on real
    threads another thread can run in between. The class here is CPython's own `Counter`
    source, instrumented like the learner's code and subclassing the real `Counter` (so
    `isinstance(c, collections.Counter)` holds and pickling gives a real `Counter`). The C
    helper `_count_elements` (counting an iterable) stays one step, as under the GIL.
    """
    import ast
    import collections as real

    path = real.__file__ or "collections/__init__.py"
    tree = ast.parse(inspect.getsource(real), filename=path)
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Counter")
    node.bases = [ast.Name("__grader_real_counter__", ast.Load())]

    class _SkipRealCounter(ast.NodeTransformer):
        """`super()` -> `super(Counter, self)`, `Counter` being the real class (see below):
        what the original meant, i.e. `dict`."""

        def visit_Call(self, call: ast.Call) -> Any:
            self.generic_visit(call)
            if isinstance(call.func, ast.Name) and call.func.id == "super" and not call.args:
                call.args = [ast.Name("Counter", ast.Load()), ast.Name("self", ast.Load())]
            return call

    node = _SkipRealCounter().visit(node)
    code = compile(rewrite.rewrite_tree(ast.Module([node], []), path), path, "exec",
                   dont_inherit=True)
    namespace = dict(vars(real))
    namespace.update(hook_globals())
    namespace["__grader_real_counter__"] = real.Counter
    exec(code, namespace)
    counter = namespace["Counter"]
    counter.__module__ = "collections"
    # Inside its methods `Counter` is the real class: `isinstance` accepts both kinds, and
    # results of arithmetic are plain Counters.
    namespace["Counter"] = real.Counter

    def __reduce__(self: Any) -> Any:
        return real.Counter, (dict(self),)

    counter.__reduce__ = __reduce__
    return _proxy("collections", real, {"Counter": counter})


class _Forwarding(ModuleType):
    """A module proxy whose attribute writes reach the real module (`sys.stdout = ...`)."""

    def __init__(self, real: ModuleType, names: dict[str, Any]) -> None:
        super().__init__(real.__name__, real.__doc__)
        object.__setattr__(self, "_grader_real", real)
        self.__dict__.update(names)

    def __getattr__(self, attr: str) -> Any:
        return getattr(object.__getattribute__(self, "_grader_real"), attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr in self.__dict__:
            self.__dict__[attr] = value
        else:
            setattr(object.__getattribute__(self, "_grader_real"), attr, value)

    def __delattr__(self, attr: str) -> None:
        delattr(object.__getattribute__(self, "_grader_real"), attr)


class _ModulesView(MutableMapping):  # type: ignore[type-arg]
    """`sys.modules` as instrumented code sees it: the shims for the shimmed names."""

    def __getitem__(self, name: str) -> Any:
        if name in SHIMMED and name in _real_sys.modules:
            return module(name)
        return _real_sys.modules[name]

    def __setitem__(self, name: str, value: Any) -> None:
        _real_sys.modules[name] = value

    def __delitem__(self, name: str) -> None:
        del _real_sys.modules[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(_real_sys.modules))

    def __len__(self) -> int:
        return len(_real_sys.modules)

    def copy(self) -> dict[str, Any]:
        return {name: self[name] for name in self}


def _import_module(name: str, package: str | None = None) -> ModuleType:
    """importlib.import_module, handing out the shims for the shimmed names."""
    real = _real_importlib.import_module(name, package)
    return module(real.__name__) if real.__name__ in SHIMMED else real


def dunder_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                  level: int = 0) -> ModuleType:
    """`__import__` as instrumented code sees it (a module global shadowing the builtin)."""
    real = __import__(name, globals, locals, fromlist, level)
    if level == 0 and name in SHIMMED and (fromlist or "." not in name):
        return module(name)
    if level == 0 and not fromlist and name.split(".")[0] == "concurrent" and "." in name:
        return module("concurrent")  # `__import__("concurrent.futures")` is the package
    return real


importlib = _Forwarding(_real_importlib, {"import_module": _import_module})
sys = _Forwarding(_real_sys, {"modules": _ModulesView()})

_MODULES: dict[str, ModuleType] = {
    "threading": threading, "time": time, "queue": queue, "_thread": _thread,
    "importlib": importlib, "sys": sys, "_threading_local": _threading_local,
}
_LAZY = {"multiprocessing": _build_multiprocessing, "collections": _build_collections,
         "concurrent.futures": _build_futures, "concurrent": _build_concurrent}

#: The rewrite decides which imports go to a shim (one list, in `rewrite`); each has one here.
SHIMMED = rewrite.SHIMMED


def module(name: str) -> ModuleType:
    """The shim standing in for the standard module `name` in instrumented code."""
    shim = _MODULES.get(name)
    if shim is None:
        shim = _MODULES[name] = _LAZY[name]()
    return shim


def route_standard_library() -> None:
    """Point the lock factories standard-library code calls for the learner at the models.

    `functools.cached_property` (3.10, 3.11) makes an RLock per property when the learner's
    class body runs; `_threading_local.local` one per local. Idempotent. The models are real
    locks outside an exploration, so other code in the process is not affected.
    """
    if hasattr(functools, "RLock"):
        functools.RLock = RLock  # type: ignore[attr-defined, misc]
    local = _real_sys.modules.get("_threading_local")
    if local is not None and hasattr(local, "RLock"):
        local.RLock = RLock


# -- the namespace an instrumented module starts with -----------------------------------------
def shim(name: str) -> ModuleType:
    return module(name)


def star_import(name: str, namespace: dict[str, Any]) -> None:
    """`from threading import *`, with the modelled names."""
    import importlib

    module = shim(name)
    real = importlib.import_module(name)
    names = getattr(real, "__all__", None) or [n for n in dir(real) if n[:1] != "_"]
    for attr in names:
        namespace[attr] = getattr(module, attr)


def _dunder_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                   level: int = 0) -> ModuleType:
    return dunder_import(name, globals, locals, fromlist, level)


def hook_globals() -> dict[str, Any]:
    """The names instrumented code calls: put them in the namespace it runs in."""
    import operator

    return {"__import__": _dunder_import, "__grader_point__": point, "__grader_value__": point_value,
            "__grader_access__": access, "__grader_store__": store,
            "__grader_shim__": shim, "__grader_op__": operator,
            "__grader_star__": star_import}
