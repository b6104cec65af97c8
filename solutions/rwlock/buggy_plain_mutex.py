# expect: fail readers-share
# why: "a lock is a lock": readers and writers all take the same mutex, so readers cannot share.
import threading
from contextlib import contextmanager


class RWLock:
    def __init__(self):
        self._lock = threading.Lock()

    def acquire_read(self):
        self._lock.acquire()

    def release_read(self):
        self._lock.release()

    def acquire_write(self):
        self._lock.acquire()

    def release_write(self):
        self._lock.release()

    @contextmanager
    def read_locked(self):
        with self._lock:
            yield

    @contextmanager
    def write_locked(self):
        with self._lock:
            yield
