"""Single-thread calls under the model: a deadlock in a functional check, named in milliseconds.

Owns `call_alone(fn, ...)` and the `under_model` decorator for checks. A functional check calls
the learner's methods from one thread; on real threads a lock acquired twice, a wait nobody
can satisfy or a join on a thread that never ends just hangs until the check's time limit, and
reads as a timeout. Here the call runs (in the calling OS thread) as the only thread of a
one-schedule exploration: when
it blocks and nothing can wake it, it is reported at once as an `ExplorationFailure` of kind
"deadlock", with the line, the lock and its holder. Anything else the call raises (the check's
own `AssertionError` included) is raised again unchanged, and its result is returned: a check
reads exactly as it does without the wrapper.

Time is real here: when the only thing left is a timed wait (`time.sleep(5)`, an
`acquire(timeout=5)` on a held lock), the call really waits that long before the wait times
out, as it would without the wrapper, so a call that sleeps for ever still meets the check's
time limit. There is no step limit worth the name either: a call that runs forever is left to
the check's own time limit, as before. Threads the call starts run under the model
too (never preempting the check's thread; they run while it waits); the non-daemon ones are
joined at the end, as the interpreter would. The call must not hand learner objects to real
threads of its own that run while it runs (they would bypass the model).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any, TypeVar

from grader.explore import runtime
from grader.explore.explorer import ExplorationFailure, ScheduleRun, _trace
from grader.explore.runtime import Abort, Blocked, Scheduler, WouldBlock
from grader.explore.strategies import NonPreemptive
from grader.explore.sync.clock import _real_sleep

T = TypeVar("T")

ALONE_MAX_STEPS = 10**12  # never reached: a call that loops for ever meets the check's limit
THREAD_NAME = "check"  # not T1: threads the call starts are T1, T2, ...


def call_alone(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` as the only thread under the model; its result, or its exception.

    Raises `ExplorationFailure` (kind "deadlock") when the call blocks for ever. Called from
    inside an exploration, it just calls `fn`.
    """
    if runtime.current() is not None:
        return fn(*args, **kwargs)
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except (Abort, WouldBlock):
            raise
        except BaseException as exc:  # the check's own failure: raised again in the caller
            box["error"] = exc

    snapshots: dict[int, Any] = {}
    random_state = random.getstate()
    try:
        result = _run(body, snapshots)
    finally:
        random.setstate(random_state)
        for obj, snapshot in snapshots.values():
            obj._restore(snapshot)
            obj._run = None
    if "error" in box:
        error = box["error"]
        raise error
    if result.failure is not None:
        raise _failure(result)
    return box["value"]


def under_model(check: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a check function so that its whole body runs through `call_alone`."""

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return call_alone(check, *args, **kwargs)

    return wrapper


class _RealTimeScheduler(Scheduler):
    """Nobody can run but a timed waiter: wait for real until its deadline, then wake it."""

    def advance_time(self) -> list[runtime.ManagedThread]:
        deadlines = [t.deadline for t in self.threads
                     if t.state == runtime.BLOCKED and t.deadline is not None]
        if deadlines and min(deadlines) > self.now:
            _real_sleep(min(deadlines) - self.now)
        return super().advance_time()


def _run(body: Callable[[], None], snapshots: dict[int, Any]) -> ScheduleRun:
    sched = _RealTimeScheduler(NonPreemptive(), max_steps=ALONE_MAX_STEPS, record=True,
                               always=None, snapshots=snapshots)
    me = sched.new_thread(THREAD_NAME, daemon=False)

    def main() -> None:
        body()
        # Like interpreter shutdown: wait for every non-daemon thread the call started.
        for mt in list(sched.threads[1:]):
            if not mt.daemon and mt.state != runtime.DONE:
                sched.block(me, lambda mt=mt: mt.state == runtime.DONE, None,
                            Blocked(f"join {mt.name}", internal=True))

    # The check's own OS thread runs the body (so that what only the main thread may do,
    # such as `signal.signal`, still works); threads the body starts hand the baton back.
    sched.current = me
    me.baton.release()
    sched.bootstrap(me, main)
    sched.finished.acquire()
    return ScheduleRun(sched.failure, sched.log, sched.steps, sched.choices, sched.records,
                     [t.name for t in sched.threads])


def _failure(result: ScheduleRun) -> ExplorationFailure:
    rf = result.failure
    assert rf is not None
    message = rf.message
    if rf.kind == "deadlock" and len(rf.deadlock) == 1:
        only = rf.deadlock[0]
        if only["held_by"] == only["thread"]:
            message = (f"Deadlock: {only['thread']}, the check's only thread, waits at "
                       f"{only['file']}:{only['line']} for {only['waits_for']}, which it holds "
                       "itself: nothing can ever release it.")
    details = ("The check called your code from one thread, under the interleaving explorer's "
               "model of locks and threads, which sees a thread wait for ever at once.")
    if rf.details:
        details += "\n" + rf.details
    return ExplorationFailure(rf.kind, message, trace=_trace(result), deadlock=rf.deadlock,
                              details=details)
