"""Call learner code with a deadline, and clear away what it started if it overruns.

`call_with_deadline(fn, *args, deadline_s=...)` runs the call in a daemon
thread of the check process. If it returns or raises in time, that is passed
through. If it overruns, every process the call created (seen by a
`ProcessWatch`) is killed with SIGKILL and reaped when it is our child, which
usually unblocks the stuck call; then `Overran` is raised, carrying the watch so
the check can say who was stuck. The check process stays clean for the checks
after it. This module owns the deadline and the clean-up; verdicts are the
check's.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

from grader.processes.inspector import ProcessWatch


class Overran(TimeoutError):
    """The call did not finish within its deadline (its processes have been killed)."""

    def __init__(self, deadline_s: float, watch: ProcessWatch) -> None:
        super().__init__(f"the call did not finish within {deadline_s:.0f}s")
        self.deadline_s = deadline_s
        self.watch = watch


def kill_created(watch: ProcessWatch) -> list[int]:
    """SIGKILL every still-living process seen by `watch` (helpers included); reap our children."""
    killed = []
    me = os.getpid()
    for seen in watch.processes:
        try:
            proc = psutil.Process(seen.pid)
            if abs(proc.create_time() - seen.created) > 0.01:
                continue
            os.kill(seen.pid, signal.SIGKILL)
            killed.append(seen.pid)
            if proc.ppid() == me:
                _reap(seen.pid)
        except (psutil.NoSuchProcess, ProcessLookupError, PermissionError, psutil.AccessDenied):
            continue
    return killed


def _reap(pid: int, timeout_s: float = 2.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # someone else (the learner's own join) reaped it
        if done:
            return
        time.sleep(0.005)


def call_with_deadline(fn: Callable[..., Any], *args: Any, deadline_s: float,
                       watch: ProcessWatch | None = None, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` within `deadline_s`; raises `Overran` (after clean-up) otherwise.

    Pass an entered `watch` to inspect the processes afterwards; otherwise one
    is made for the call.
    """
    own_watch = watch is None
    watch = watch or ProcessWatch()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    if own_watch:
        watch.__enter__()
    thread = threading.Thread(target=run, name="learner-call", daemon=True)
    try:
        thread.start()
        thread.join(deadline_s)
        if thread.is_alive():
            kill_created(watch)
            thread.join(5)
            raise Overran(deadline_s, watch)
    finally:
        if own_watch:
            watch.__exit__(None, None, None)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
