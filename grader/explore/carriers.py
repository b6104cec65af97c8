"""OS threads that carry the explorer's own threads, reused from one schedule to the next.

Every schedule runs the scenario's main thread and its threads T1..Tn (the threads a learner's
code starts are `sync.thread.Thread`, real new threads, and not carried here). Starting and
joining an OS thread costs more than a short schedule: measured on a 2-core machine
(CPython 3.11, threads on one CPU), a schedule of two threads that do nothing took about
580 us on new threads and about 250 us on carriers, and the counter's `no-lost-updates` check
went from 2.7 s to 1.6 s.

What a carried thread must not inherit from the schedule before it, and how it does not:
- its context variables (`decimal`'s context among them): each job runs in a new
  `contextvars.Context`;
- its thread name: set for each job, and attributes code set on `current_thread()` (a
  hand-made thread-local) are removed;
- its CPU affinity: each job runs with the affinity of the thread that started it (an
  exploration pins its threads to one CPU, `one_cpu`, and the next one may pick another);
- a trace or profile function the code set (`sys.settrace`): put back to the one the
  carrier started with (coverage's tracer, when coverage is measured);
- its `threading.local` values: instrumented code gets `sync.local.local`, which keeps one
  dictionary per managed thread (a new one every schedule), not per OS thread.

A carrier whose job never ends (a thread blocked in a call the explorer does not model; see
`fallback`) is not taken back: it stays blocked, a daemon, and a new carrier serves the next
schedule. After `fork` the child has no carriers and makes its own.
"""

from __future__ import annotations

import _thread
import contextvars
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

_FREE: list[_Carrier] = []
_FREE_LOCK = _thread.allocate_lock()


class _Carrier:
    def __init__(self) -> None:
        self.work = _thread.allocate_lock()
        self.work.acquire()
        self.job: tuple[Callable[..., Any], tuple[Any, ...], str, Any] | None = None
        self.done: Any = None  # the running job's lock, released when it ends
        self.thread = threading.Thread(target=self._loop, name="grader-explore-carrier",
                                       daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        own = set(vars(self.thread))  # the Thread object's own attributes, before any job
        # what a new thread got (coverage's tracer, when coverage is measured)
        trace, profile = sys.gettrace(), sys.getprofile()
        while True:
            self.work.acquire()
            job, self.job = self.job, None
            if job is None:
                return
            function, args, name, affinity = job
            attributes = vars(self.thread)
            for key in [k for k in attributes if k not in own]:
                del attributes[key]  # set on `current_thread()` by an earlier schedule
            self.thread.name = name
            if sys.gettrace() is not trace:
                sys.settrace(trace)
            if sys.getprofile() is not profile:
                sys.setprofile(profile)
            if affinity is not None:  # every time: the code of a job may have changed it
                try:
                    os.sched_setaffinity(0, affinity)
                except OSError:
                    pass
            done = self.done
            try:
                contextvars.Context().run(function, *args)
            except BaseException:  # noqa: BLE001 - the explorer's bootstrap reports its own
                pass
            finally:
                # what the schedule made is not kept alive by an idle carrier
                del function, args, job
                done.release()


class Carried:
    """One job on a carrier: `start()` it, then `join(timeout)` (True when it ended)."""

    def __init__(self, target: Callable[..., Any], args: tuple[Any, ...], name: str) -> None:
        self.target, self.args, self.name = target, args, name
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.carrier: _Carrier | None = None
        self.ended = False

    def start(self) -> None:
        with _FREE_LOCK:
            carrier = _FREE.pop() if _FREE else None
        if carrier is None:
            carrier = _Carrier()
        self.carrier = carrier
        carrier.done = self.done
        carrier.job = (self.target, self.args, self.name, _affinity())
        carrier.work.release()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; its carrier then serves another one."""
        if self.ended:
            return True
        if not self.done.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            return False  # still running (blocked for good, maybe): the carrier is not reused
        self.ended = True
        with _FREE_LOCK:
            _FREE.append(self.carrier)  # type: ignore[arg-type]
        return True

    def is_alive(self) -> bool:
        return self.carrier is not None and not self.ended and self.done.locked()


def _affinity() -> Any:
    """The calling thread's CPUs, or None where there is no affinity call."""
    get = getattr(os, "sched_getaffinity", None)
    if get is None or not hasattr(os, "sched_setaffinity"):
        return None
    try:
        return get(0)
    except OSError:
        return None


def start(target: Callable[..., Any], args: tuple[Any, ...], name: str) -> Carried:
    job = Carried(target, args, name)
    job.start()
    return job


def idle() -> int:
    """How many carriers wait for a job (for tests)."""
    with _FREE_LOCK:
        return len(_FREE)


def _forget_after_fork() -> None:
    global _FREE_LOCK
    _FREE.clear()  # their threads do not exist in the child
    _FREE_LOCK = _thread.allocate_lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
