"""Calling learner code that may never return, from a check: `call_within`.

    call = call_within(lambda: bank.transfer(0, 0, 3), seconds=10)
    call.value_or_fail("transfer(0, 0, 3)")   # its value, its exception, or a "hang" failure

The call runs in a daemon thread of the check's process, so a call that blocks forever
costs the check `seconds`, not the grading: the thread is abandoned (the child is discarded
after the grading anyway). For process exercises, whose calls must run in the main thread,
use `grader.processes.bounded.call_with_deadline` instead.

`cpu_seconds(thread_cpu_clock(thread))` reads the CPU time a thread of the check's process has
used, from outside it (how long a blocked call spun, or polled).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.harness.failures import CheckFailure


@dataclass
class Call:
    """How a bounded call ended: `finished` within `seconds`, then its `value` or `error`."""

    finished: bool
    seconds: float
    value: Any = None
    error: BaseException | None = None

    def value_or_fail(self, what: str) -> Any:
        """The call's value; its exception re-raised; or a "hang" failure naming `what`."""
        if not self.finished:
            raise CheckFailure("hang", f"{what} did not return within {self.seconds:.0f} s.")
        if self.error is not None:
            raise self.error
        return self.value


def call_within(fn: Callable[[], Any], seconds: float, name: str = "bounded-call") -> Call:
    """Run `fn()` in a daemon thread named `name`; wait at most `seconds` for it."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the check, in its own thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name=name).start()
    if not done.wait(seconds):
        return Call(finished=False, seconds=seconds)
    return Call(finished=True, seconds=seconds, value=box.get("value"), error=box.get("error"))


def thread_cpu_clock(thread: threading.Thread) -> int | None:
    """A clock of `thread`'s CPU time, read from outside it with `time.clock_gettime(clock)`
    (which raises OSError once the thread has ended), or None where there is no such clock
    (macOS, Windows). Ask for it while the thread runs; read it with `cpu_seconds`."""
    try:
        return time.pthread_getcpuclockid(thread.ident)
    except (AttributeError, OSError, TypeError):
        return None


def cpu_seconds(clock: int | None) -> float | None:
    """The CPU seconds a `thread_cpu_clock` reads, or None: no clock, or its thread ended."""
    if clock is None:
        return None
    try:
        return time.clock_gettime(clock)
    except OSError:
        return None
