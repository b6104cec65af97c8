"""When the explorer loses control: notice it, unwind the run, and grade on real threads instead.

Owns the watchdog `run_once` polls while a schedule runs, and the verdict given when control
is lost. A managed thread that blocks in a call nobody models (a lock made by a C extension,
`multiprocessing` through a context or a manager, a real `Event` of another library, a socket)
stops the whole schedule: no scheduling point comes. The watchdog calls that "lost control"
when no scheduling point came for `BLOCKED_SECONDS` and the running thread used no CPU in that
time (it is blocked, not computing), or when nothing came for `STUCK_SECONDS` at all. The run is
then abandoned: every parked thread unwinds (releasing what it holds), and the scenario is
graded by a bounded stress run on real OS threads, where every modelled primitive is the real
one. The verdict says so in its details. This is a fall-back for the learner's code; a fault of
the grader itself is still an `InfrastructureError`.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from grader import channel
from grader.explore import places, runtime
from grader.explore.runtime import InfrastructureError, Scheduler

STUCK_SECONDS = 10.0  # no scheduling point at all for this long: control is lost
BLOCKED_SECONDS = 2.0  # no scheduling point, and the running thread used no CPU meanwhile
IDLE_CPU_SECONDS = 0.002
UNWIND_SECONDS = 5.0  # how long the abandoned run's threads get to finish unwinding

STRESS_RUNS = 100
STRESS_JOIN_SECONDS = 10.0  # a real-thread run still going after this long is a hang


class LostControl(InfrastructureError):
    """A managed thread blocked outside the model; `where` says in what call."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where


@dataclass
class _Sample:
    progress: int
    wall: float  # when `progress` was last seen to change
    cpu: float | None = None  # the running thread's CPU time at `cpu_wall`
    cpu_wall: float = 0.0


class Watchdog:
    """Polled by `run_once` while a schedule runs; `check()` raises `LostControl`."""

    def __init__(self, sched: Scheduler) -> None:
        self.sched = sched
        now = time.monotonic()
        self.last = _Sample(sched.progress, now, self._cpu(), now)

    def _ident(self) -> int | None:
        current = self.sched.current
        for ident, mt in list(runtime.MANAGED.items()):
            if mt is current:
                return ident
        return None

    def _cpu(self) -> float | None:
        ident = self._ident()
        if ident is None or not hasattr(time, "pthread_getcpuclockid"):
            return None
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(ident))
        except (OSError, ProcessLookupError):
            return None

    def check(self) -> None:
        now = time.monotonic()
        if self.sched.progress != self.last.progress:
            self.last = _Sample(self.sched.progress, now, self._cpu(), now)
            return
        idle = now - self.last.wall
        cpu = self._cpu()
        if self.last.cpu is None and cpu is not None:  # the thread had not registered yet
            self.last.cpu, self.last.cpu_wall = cpu, now
        blocked = (self.last.cpu is not None and cpu is not None
                   and now - self.last.cpu_wall >= BLOCKED_SECONDS
                   and cpu - self.last.cpu < IDLE_CPU_SECONDS)
        if blocked or idle >= STUCK_SECONDS:
            raise self.lose_control(idle)

    def lose_control(self, idle: float) -> LostControl:
        where = self._where()
        name = self.sched.current.name if self.sched.current else "?"
        self.sched.abandon()
        return LostControl(
            f"thread {name} made no progress for {idle:.0f} s: it is blocked in a call the "
            f"explorer does not model ({where})", where)

    def _where(self) -> str:
        """The innermost frames of the stuck thread, as 'file:line in function' (short)."""
        ident = self._ident()
        frame = sys._current_frames().get(ident) if ident is not None else None
        if frame is None:
            return "a real lock, I/O, or a C extension"
        stack = [f for f in traceback.extract_stack(frame)
                 if not f.filename.startswith(places._GRADER_DIR)][-2:]
        if not stack:
            return "a real lock, I/O, or a C extension"
        return "; ".join(f"{places.short_path(f.filename)}:{f.lineno} in {f.name}"
                         for f in reversed(stack))


def wait_for_unwinding(os_threads: Sequence[Any]) -> None:
    """Give the abandoned run's threads a bounded time to leave; a thread blocked for good is
    left behind (a daemon thread, blocked in the call that lost control)."""
    deadline = time.monotonic() + UNWIND_SECONDS
    for t in os_threads:
        t.join(max(0.0, deadline - time.monotonic()))


@dataclass
class RealVerdict:
    """What the real-thread stress run found: `kind` is None when every run passed."""

    runs: int
    kind: str | None = None
    message: str = ""
    details: str = ""


def stress_on_real_threads(setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]],
                           invariant: Callable[[Any], Any] | None, *,
                           runs: int = STRESS_RUNS) -> RealVerdict:
    """Run the scenario up to `runs` times on real threads (tiny switch interval); stop at the
    first failing run."""
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for run in range(1, runs + 1):
            problem = _one_run(setup, threads, invariant)
            if problem is not None:
                kind, message, details = problem
                return RealVerdict(run, kind, message, details)
            # a run ended: the check is not stuck (a check whose every scenario falls back here
            # pays seconds per scenario for the lost control, which is not the learner's hang)
            channel.progress()
    finally:
        sys.setswitchinterval(old_interval)
    return RealVerdict(runs)


def _one_run(setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]],
             invariant: Callable[[Any], Any] | None) -> tuple[str, str, str] | None:
    state = setup()
    start = threading.Barrier(len(threads))
    errors: list[tuple[str, BaseException]] = []

    def runner(name: str, body: Callable[[Any], Any]) -> None:
        try:
            start.wait()
            body(state)
        except BaseException as exc:  # the learner's exception: this run failed
            errors.append((name, exc))

    workers = [threading.Thread(target=runner, args=(f"T{i + 1}", body), daemon=True,
                                name=f"grader-real-T{i + 1}")
               for i, body in enumerate(threads)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + STRESS_JOIN_SECONDS
    for w in workers:
        w.join(max(0.0, deadline - time.monotonic()))
    stuck = [f"T{i + 1}" for i, w in enumerate(workers) if w.is_alive()]
    if stuck:
        return ("deadlock", f"Deadlock: on real threads, {', '.join(stuck)} did not finish "
                            f"within {STRESS_JOIN_SECONDS:g} s.", "")
    if errors:
        name, exc = errors[0]
        where = places.exception_location(exc)
        place = f" at {places.short_path(where[0])}:{where[1]}" if where[0] else ""
        text = str(exc)
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:])
        return ("exception", f"Thread {name} raised {type(exc).__name__}"
                             f"{': ' + text if text else ''}{place}.", details)
    if invariant is not None:
        try:
            result = invariant(state)
        except AssertionError as exc:
            text = str(exc).split("\nassert ", 1)[0].strip() or "an assertion failed"
            return "invariant", f"After all threads finished, a check failed: {text}", ""
        if result is False:
            return "invariant", "After all threads finished, the invariant returned False.", ""
    return None


def explanation(lost: LostControl, verdict: RealVerdict) -> str:
    """The details line every fall-back verdict carries."""
    found = (f"run {verdict.runs} failed" if verdict.kind else
             f"all {verdict.runs} runs passed")
    return ("The interleaving explorer lost control of this scenario: a thread blocked in a "
            f"call it does not model ({lost.where}). The scenario was run on real threads "
            f"instead (up to {STRESS_RUNS} runs, stopping at the first failure): {found}. "
            "Real threads see far fewer interleavings than the explorer.")
