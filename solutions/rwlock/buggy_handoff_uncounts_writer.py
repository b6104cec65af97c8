# expect: fail writer-preference writer-handoff
# why: release_write() "hands over" to the next writer by taking it off the waiting count before it is in; in that gap a reader that arrived after it sees no writer at all and gets in first.
"""A readers-writer lock with writer preference and a hand-off between writers."""

import threading
from contextlib import contextmanager


class RWLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_read(self) -> None:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            if self._writer or self._readers:
                self._writers_waiting += 1
                while self._writer or self._readers:
                    self._cond.wait()
            self._writer = True

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            if self._writers_waiting:
                self._writers_waiting -= 1  # the next writer is on its way in
            self._cond.notify_all()

    @contextmanager
    def read_locked(self):
        self.acquire_read()
        try:
            yield self
        finally:
            self.release_read()

    @contextmanager
    def write_locked(self):
        self.acquire_write()
        try:
            yield self
        finally:
            self.release_write()
