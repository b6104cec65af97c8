# expect: fail exclusive-under-interleavings
# why: a writer waits with `if`, not `while`: woken as the last reader leaves, it goes in beside a writer that arrived and got in first.
import threading
from contextlib import contextmanager


class RWLock:
    def __init__(self):
        self._c = threading.Condition()
        self._readers = 0
        self._writer = False
        self._ww = 0

    def acquire_read(self):
        with self._c:
            while self._writer or self._ww:
                self._c.wait()
            self._readers += 1

    def release_read(self):
        with self._c:
            self._readers -= 1
            if self._readers == 0:
                self._c.notify_all()

    def acquire_write(self):
        with self._c:
            self._ww += 1
            if self._writer or self._readers:
                self._c.wait()
            self._ww -= 1
            self._writer = True

    def release_write(self):
        with self._c:
            self._writer = False
            self._c.notify_all()

    @contextmanager
    def read_locked(self):
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def write_locked(self):
        self.acquire_write()
        try:
            yield
        finally:
            self.release_write()
