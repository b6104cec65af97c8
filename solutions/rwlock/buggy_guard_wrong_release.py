# expect: fail context-managers
# why: one guard class for both modes; on an exception inside `with write_locked()` its __exit__ releases as a reader, so the writer never leaves.
"""A readers-writer lock with a shared guard class whose error path releases the wrong mode."""

import threading


class _Guard:
    def __init__(self, lock, writing):
        self._lock = lock
        self._writing = writing

    def __enter__(self):
        if self._writing:
            self._lock.acquire_write()
        else:
            self._lock.acquire_read()
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._writing and exc_type is None:
            self._lock.release_write()
        else:
            self._lock.release_read()  # meant for readers, reached by a failing writer too
        return False


class RWLock:
    def __init__(self):
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_read(self):
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_read(self):
        with self._cond:
            self._readers -= 1
            self._cond.notify_all()

    def acquire_write(self):
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True

    def release_write(self):
        with self._cond:
            self._writer = False
            self._cond.notify_all()

    def read_locked(self):
        return _Guard(self, False)

    def write_locked(self):
        return _Guard(self, True)
