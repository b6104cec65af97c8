"""The machine share: a readers-writer lock over this machine that lets gradings run side by
side and an `exclusive` check run with the machine to itself (optionally across processes,
by flock).

It only hands out holds: it grades nothing and knows no checks, students or backends.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class ReadersWriterShare:
    """A readers-writer lock over the machine, as the `MachineShare` grading calls.

    Ordinary checks hold it shared (many gradings at once, one per core); a check
    marked `exclusive` holds it alone, so a speed or parallelism measurement
    never competes with another submission. Writers are preferred: once an
    exclusive check waits, no new shared holder enters, so it cannot starve.

    With `lock_file`, the share also spans processes on this machine (flock), which
    is how Dask worker processes on one host stay out of each other's way.

    A thread that holds the share and asks for it exclusively gives up its
    shared hold while it waits and takes it back afterwards, so a grading that
    nests `exclusive()` inside `shared()` cannot deadlock against another.
    """

    def __init__(self, lock_file: Path | None = None) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._held = threading.local()
        self._lock_file = lock_file
        self.exclusive_holds = 0  # how many exclusive sections ran (diagnostics, tests)
        self.readers_waiting = 0  # threads waiting to share (diagnostics, tests)

    @property
    def writers_waiting(self) -> int:
        return self._writers_waiting

    def _shared_depth(self) -> int:
        return getattr(self._held, "shared", 0)

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        if getattr(self._held, "exclusive", 0):
            yield  # already alone on the machine
            return
        self._acquire_shared()
        self._held.shared = self._shared_depth() + 1
        handle = self._flock(fcntl.LOCK_SH) if self._shared_depth() == 1 else None
        try:
            yield
        finally:
            if handle is not None:
                handle.close()
            self._held.shared = self._shared_depth() - 1
            self._release_shared()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        if getattr(self._held, "exclusive", 0):
            self._held.exclusive += 1
            try:
                yield
            finally:
                self._held.exclusive -= 1
            return
        given_up = self._shared_depth()
        for _ in range(given_up):
            self._release_shared()
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
            self.exclusive_holds += 1
        self._held.exclusive = 1
        handle = self._flock(fcntl.LOCK_EX)
        try:
            yield
        finally:
            if handle is not None:
                handle.close()
            self._held.exclusive = 0
            with self._cond:
                self._writer = False
                self._cond.notify_all()
            for _ in range(given_up):
                self._acquire_shared(reentering=True)

    def _acquire_shared(self, reentering: bool = False) -> None:
        with self._cond:
            # A thread taking back a hold it gave up does not wait behind new writers.
            self.readers_waiting += 1
            while self._writer or (self._writers_waiting and not reentering):
                self._cond.wait()
            self.readers_waiting -= 1
            self._readers += 1

    def _release_shared(self) -> None:
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    def _flock(self, mode: int) -> Any:
        if self._lock_file is None:
            return None
        handle = open(self._lock_file, "a+b")  # noqa: SIM115 - closed when the hold ends
        fcntl.flock(handle.fileno(), mode)
        return handle
