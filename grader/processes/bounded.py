"""Call learner code with a deadline, in the caller's own thread, and clear away what it started.

`call_with_deadline(fn, *args, deadline_s=...)` runs the call in the calling
thread: in a check that is the check process's main thread, so the learner's
`signal.signal` (a SIGCHLD reaper, a SIGALRM task timer), `os.fork`,
`os.setpgid` and every multiprocessing start method behave as in the learner's
own program. The deadline is enforced from outside the call: a watchdog thread
waits for it, then SIGKILLs every process the call created (seen by a
`ProcessWatch`; reaped when it is our child), which usually unblocks the stuck
call. If the call still does not come back, the watchdog interrupts the main
thread with a real-time signal of our own whose handler raises `_Interrupted`
(a BaseException, so `except Exception` in learner code does not swallow it).
If even that is swallowed, the parent's per-check time limit ends the child.
Either way `Overran` is raised, carrying the watch so the check can say who was
stuck.

Signal handlers and the real-time interval timer the learner set are put back
as they were after the call, so a learner's SIGCHLD reaper or pending alarm
cannot reach into the checks after it.

`slow_start(seconds)` makes every process started from this one sleep at its
start-up (forked ones in an at-fork hook, new interpreters in a `sitecustomize`),
to test that a timeout counts from a task's start and not from its worker's
start-up.

This module owns the deadline, the clean-up and start-up slowing; verdicts are
the check's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil

from grader.processes.inspector import ProcessWatch

#: the signal the watchdog interrupts the main thread with (a real-time one nobody else uses)
INTERRUPT_SIGNAL = signal.SIGRTMIN + 5 if hasattr(signal, "SIGRTMIN") else signal.SIGUSR2
#: handlers a learner may set; restored after every call
_KEPT_SIGNALS = [s for s in (signal.SIGCHLD, signal.SIGALRM, signal.SIGINT, signal.SIGTERM,
                             signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP, signal.SIGPIPE,
                             signal.SIGVTALRM, signal.SIGPROF)]
#: after the kill, how long the call gets to come back before the main thread is interrupted
GRACE_S = 3.0


class Overran(TimeoutError):
    """The call did not finish within its deadline (its processes have been killed)."""

    def __init__(self, deadline_s: float, watch: ProcessWatch) -> None:
        super().__init__(f"the call did not finish within {deadline_s:.0f}s")
        self.deadline_s = deadline_s
        self.watch = watch


class _Interrupted(BaseException):
    """Raised in the main thread by the watchdog's signal."""


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


@contextlib.contextmanager
def _signals_restored() -> Iterator[None]:
    """Put back the learner-settable handlers and the ITIMER_REAL timer after the block."""
    saved = {s: signal.getsignal(s) for s in _KEPT_SIGNALS}
    timer_before = signal.getitimer(signal.ITIMER_REAL)
    try:
        yield
    finally:
        if timer_before == (0.0, 0.0):
            signal.setitimer(signal.ITIMER_REAL, 0)
        for s, handler in saved.items():
            if handler is not None and signal.getsignal(s) is not handler:
                signal.signal(s, handler)


def call_with_deadline(fn: Callable[..., Any], *args: Any, deadline_s: float,
                       watch: ProcessWatch | None = None, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` within `deadline_s`; raises `Overran` (after clean-up) otherwise.

    Called from the main thread (as checks are), `fn` runs right there. Pass an
    entered `watch` to inspect the processes afterwards; otherwise one is made
    for the call.
    """
    own_watch = watch is None
    watch = watch or ProcessWatch()
    if own_watch:
        watch.__enter__()
    try:
        if threading.current_thread() is threading.main_thread():
            return _call_in_main_thread(fn, args, kwargs, deadline_s, watch)
        return _call_in_helper_thread(fn, args, kwargs, deadline_s, watch)
    finally:
        if own_watch:
            watch.__exit__(None, None, None)


def _call_in_main_thread(fn: Callable[..., Any], args: tuple, kwargs: dict, deadline_s: float,
                         watch: ProcessWatch) -> Any:
    returned = threading.Event()
    state = {"expired": False}
    guard = threading.Lock()
    main_ident = threading.main_thread().ident

    def watchdog() -> None:
        if returned.wait(deadline_s):
            return
        with guard:
            if returned.is_set():
                return
            state["expired"] = True
        kill_created(watch)
        for _ in range(20):  # keep knocking: a learner's `except BaseException` may swallow one
            if returned.wait(GRACE_S):
                return
            with guard:
                if returned.is_set():
                    return
                signal.pthread_kill(main_ident, INTERRUPT_SIGNAL)

    def interrupted(signum: int, frame: Any) -> None:
        if not returned.is_set():  # a knock that arrives after the call came back is ignored
            raise _Interrupted()

    previous = signal.signal(INTERRUPT_SIGNAL, interrupted)
    dog = threading.Thread(target=watchdog, name="learner-call-watchdog", daemon=True)
    outcome: dict[str, Any] = {}
    try:
        with _signals_restored():
            dog.start()
            try:
                try:
                    outcome["value"] = fn(*args, **kwargs)
                except _Interrupted:
                    raise
                except BaseException as exc:
                    outcome["error"] = exc
                with guard:
                    returned.set()
            except _Interrupted:
                state["expired"] = True
    finally:
        with guard:
            returned.set()
        signal.signal(INTERRUPT_SIGNAL, previous)
        dog.join(5)
    if state["expired"]:
        raise Overran(deadline_s, watch)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _call_in_helper_thread(fn: Callable[..., Any], args: tuple, kwargs: dict, deadline_s: float,
                           watch: ProcessWatch) -> Any:
    """Outside the main thread (a check author's own thread): run in a daemon thread."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="learner-call", daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive():
        kill_created(watch)
        thread.join(5)
        raise Overran(deadline_s, watch)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


_slow_start_s = 0.0
_hook_installed = False
#: In a new interpreter started inside a `slow_start` block, `site` imports this as
#: `sitecustomize` (its folder leads PYTHONPATH): it sleeps, then hands over to the
#: interpreter's own sitecustomize, if it has one.
_SITECUSTOMIZE = """\
import importlib, os, sys, time
_folder = os.path.dirname(os.path.abspath(__file__))
try:
    time.sleep(float(os.environ.get("GRADER_SLOW_START_S", "0")))
except ValueError:
    pass
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _folder]
del sys.modules["sitecustomize"]
try:
    importlib.import_module("sitecustomize")
except ImportError:
    pass
"""


def _sleep_if_slowed() -> None:
    if _slow_start_s > 0:
        time.sleep(_slow_start_s)


@contextlib.contextmanager
def slow_start(seconds: float) -> Iterator[None]:
    """Inside the block, every process this one starts sleeps `seconds` as it starts.

    Forked processes (os.fork, multiprocessing's fork context) sleep in Python's at-fork
    hook; new interpreters (multiprocessing's spawn context, a forkserver's server, a
    `subprocess` running Python) sleep in a `sitecustomize` on PYTHONPATH, before their
    `__main__` runs. The children a forkserver forks later are not slowed.
    """
    global _slow_start_s, _hook_installed
    if not _hook_installed:
        os.register_at_fork(after_in_child=_sleep_if_slowed)
        _hook_installed = True
    folder = tempfile.mkdtemp(prefix="grader-slow-start-")
    with open(os.path.join(folder, "sitecustomize.py"), "w") as out:
        out.write(_SITECUSTOMIZE)
    saved = {key: os.environ.get(key) for key in ("PYTHONPATH", "GRADER_SLOW_START_S")}
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [folder] + ([saved["PYTHONPATH"]] if saved["PYTHONPATH"] else []))
    os.environ["GRADER_SLOW_START_S"] = repr(seconds)
    _slow_start_s = seconds
    try:
        yield
    finally:
        _slow_start_s = 0.0
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(folder, ignore_errors=True)
