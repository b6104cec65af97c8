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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class StressOutcome:
    runs: int
    failures: int
    first_failure: str | None = None  # "AssertionError: expected 4000, got 3998"
    first_failing_run: int | None = None

    @property
    def ok(self) -> bool:
        return self.failures == 0


def stress(setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]], *,
           invariant: Callable[[Any], Any] | None = None, runs: int = 100,
           switch_interval: float | None = 1e-6, stop_at_first: bool = False,
           join_timeout: float = 10.0) -> StressOutcome:
    """Run the scenario `runs` times on real threads; count the runs that failed.

    A run fails when a thread raises, a thread is still running `join_timeout` seconds after
    the start (reported, then abandoned: a hang), or the invariant fails.
    """
    old_interval = sys.getswitchinterval()
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    failures = 0
    first: str | None = None
    first_run: int | None = None
    done = 0
    try:
        for run in range(runs):
            done += 1
            problem = _one_run(setup, threads, invariant, join_timeout)
            if problem is not None:
                failures += 1
                if first is None:
                    first, first_run = problem, run
                if stop_at_first:
                    break
    finally:
        sys.setswitchinterval(old_interval)
    return StressOutcome(done, failures, first, first_run)


def _one_run(setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]],
             invariant: Callable[[Any], Any] | None, join_timeout: float) -> str | None:
    state = setup()
    start = threading.Barrier(len(threads))
    errors: list[str] = []

    def runner(body: Callable[[Any], Any]) -> None:
        try:
            start.wait()
            body(state)
        except BaseException as exc:  # the learner's exception: this run failed
            errors.append(f"{type(exc).__name__}: {exc}")

    workers = [threading.Thread(target=runner, args=(body,), daemon=True) for body in threads]
    for w in workers:
        w.start()
    for w in workers:
        w.join(join_timeout)
    if any(w.is_alive() for w in workers):
        return f"a thread was still running after {join_timeout:g} s (hang or deadlock)"
    if errors:
        return errors[0]
    if invariant is not None:
        try:
            if invariant(state) is False:
                return "the invariant returned False"
        except AssertionError as exc:
            return f"AssertionError: {exc}"
    return None
