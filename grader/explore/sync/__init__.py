"""Modelled `threading` and `time` primitives, one module per family, one for one with the
standard library (`locks`, `condition`, `semaphore`, `event`, `barrier`, `thread`, `clock`;
`mp` for the `multiprocessing` primitives used from threads, imported only when a learner's
module imports `multiprocessing`).

Each primitive works in two modes, decided at every call: outside an exploration (the calling
thread is not managed) it is the real thing, delegating to a real lock or to CPython's own
algorithm over real locks; inside one, its state is a model the scheduler can see, every
operation is a scheduling point, and blocking disables the thread instead of blocking the OS
thread. The models follow CPython's semantics: `notify` wakes the longest waiter first, there
are no spurious wakeups, whoever wins a contended lock is the scheduler's choice, and timeouts
run on virtual time. A primitive made before a run (a module-level lock) starts every run from
the state it had when the exploration first touched it.

This package owns the models only: it must not schedule (that is `runtime`), route a learner's
imports to itself (that is `shims`), or judge a run. Modules inside `grader.explore` import the
submodules directly; this `__init__` is for check code (`from grader.explore import sync`).
"""

from grader.explore.runtime import Abort
from grader.explore.sync.barrier import Barrier, BrokenBarrierError
from grader.explore.sync.clock import monotonic, pause, perf_counter, sleep, time
from grader.explore.sync.condition import Condition
from grader.explore.sync.event import Event
from grader.explore.sync.locks import Lock, RLock
from grader.explore.sync.semaphore import BoundedSemaphore, Semaphore
from grader.explore.sync.thread import Thread, Timer

__all__ = [
    "Abort", "Barrier", "BoundedSemaphore", "BrokenBarrierError", "Condition", "Event", "Lock",
    "RLock", "Semaphore", "Thread", "Timer", "monotonic", "pause", "perf_counter", "sleep", "time",
]
