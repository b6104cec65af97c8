# expect: pass
# why: a ticket lock: every arrival takes a number and threads are let in in ticket order, consecutive readers together.
import threading
from contextlib import contextmanager


class RWLock:
    def __init__(self):
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._readers = 0
        self._writing = False

    def acquire_read(self):
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._serving != ticket or self._writing:
                self._cond.wait()
            self._readers += 1
            self._serving += 1          # the next ticket may be a reader joining us
            self._cond.notify_all()

    def release_read(self):
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self):
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._serving != ticket or self._writing or self._readers:
                self._cond.wait()
            self._writing = True        # keeps the turn until release_write

    def release_write(self):
        with self._cond:
            self._writing = False
            self._serving += 1
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
