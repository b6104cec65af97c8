"""Modelled `threading.Thread` and `threading.Timer`.

Owns: starting a real OS thread that, under the explorer, becomes a managed thread (and forks
the happens-before clock), `join` and `is_alive` as scheduling points, and `Timer` on the
virtual clock. It must not run a managed thread's body outside `Scheduler.bootstrap`.
"""

from __future__ import annotations

import threading as _threading
from collections.abc import Callable
from typing import Any

from grader.explore.runtime import Blocked, ManagedThread, current
from grader.explore.sync.event import Event


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
        if sched.hb is not None:
            sched.hb.fork(parent, mt)
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
        if mt.state == "done" and sched.hb is not None:
            sched.hb.join(me, mt.vc)

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
