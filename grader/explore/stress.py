"""Real-thread stress: the second opinion next to the explorer, never the only one.

Runs a scenario (the same `setup`/`threads`/`invariant` shape as `explore`) many times on real
OS threads, released together by a barrier, with a tiny GIL switch interval. It cannot show
*why* a run failed and on CPython 3.10+ it almost never sees a race inside one line, so a
check must not fail a learner on stress alone when the explorer passes. Outside an
exploration the shims are real primitives, so instrumented learner code runs here unchanged.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from grader.protocol import Failure, ReportedFailure


@dataclass
class StressOutcome:
    runs: int
    failures: int
    first_failure: str | None = None  # "AssertionError: expected 4000, got 3998"
    first_failing_run: int | None = None
    #: what ended the first failing run: a thread's exception, or the invariant's AssertionError
    first_error: BaseException | None = None
    #: threads still running when the first failing run was given up (0 unless it hung)
    stuck: int = 0

    @property
    def ok(self) -> bool:
        return self.failures == 0

    def raise_problem(self, hang: Callable[[int], str]) -> None:
        """Fail the check as the first failing run went wrong: a hang (`hang(stuck)` is its
        message) when threads were still running, else that run's exception, raised again
        (the learner's own, or the invariant's). Returns when no run failed that way."""
        if self.stuck:
            raise ReportedFailure(Failure(kind="hang", message=hang(self.stuck)))
        if self.first_error is not None:
            raise self.first_error


def stress(setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]], *,
           invariant: Callable[[Any], Any] | None = None, runs: int = 100,
           switch_interval: float | None = 1e-6, stop_at_first: bool = False,
           join_timeout: float = 10.0, within: float | None = None) -> StressOutcome:
    """Run the scenario `runs` times on real threads; count the runs that failed.

    A run fails when a thread raises, a thread is still running `join_timeout` seconds after
    the start (reported, then abandoned: a hang), or the invariant fails. With `within`, every
    thread of a run shares one deadline, `within` seconds after they all started, instead of
    a `join_timeout` wait per thread. `first_error` and `stuck` let a check re-raise the
    learner's own exception or word its own hang message.
    """
    old_interval = sys.getswitchinterval()
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    failures = 0
    first: _Run | None = None
    first_run: int | None = None
    done = 0
    try:
        for run in range(runs):
            done += 1
            result = _one_run(setup, threads, invariant, join_timeout, within)
            if result.problem is not None:
                failures += 1
                if first is None:
                    first, first_run = result, run
                if stop_at_first:
                    break
    finally:
        sys.setswitchinterval(old_interval)
    if first is None:
        return StressOutcome(done, failures)
    return StressOutcome(done, failures, first.problem, first_run, first.error, first.stuck)


@dataclass
class _Run:
    problem: str | None = None
    error: BaseException | None = None
    stuck: int = 0


def _one_run(setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]],
             invariant: Callable[[Any], Any] | None, join_timeout: float,
             within: float | None) -> _Run:
    state = setup()
    start = threading.Barrier(len(threads))
    errors: list[BaseException] = []

    def runner(body: Callable[[Any], Any]) -> None:
        try:
            start.wait()
            body(state)
        except BaseException as exc:  # the learner's exception: this run failed
            errors.append(exc)

    workers = [threading.Thread(target=runner, args=(body,), daemon=True) for body in threads]
    for w in workers:
        w.start()
    if within is None:
        for w in workers:
            w.join(join_timeout)
    else:
        deadline = time.monotonic() + within
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(w.is_alive() for w in workers)
    if stuck:
        waited = join_timeout if within is None else within
        return _Run(f"a thread was still running after {waited:g} s (hang or deadlock)",
                    stuck=stuck)
    if errors:
        return _Run(f"{type(errors[0]).__name__}: {errors[0]}", errors[0])
    if invariant is not None:
        try:
            if invariant(state) is False:
                return _Run("the invariant returned False")
        except AssertionError as exc:
            return _Run(f"AssertionError: {exc}", exc)
    return _Run()
