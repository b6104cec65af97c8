# expect: pass
# why: the context managers are small guard classes with __enter__/__exit__ (no contextlib); writers waiting block new readers.
"""A readers-writer lock whose context managers are guard objects, as a Java learner writes them."""

import threading


class _Guard:
    def __init__(self, enter, leave):
        self._enter = enter
        self._leave = leave

    def __enter__(self):
        self._enter()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._leave()
        return False


class RWLock:
    def __init__(self):
        self._mutex = threading.Lock()
        self._readers_ok = threading.Condition(self._mutex)
        self._writer_ok = threading.Condition(self._mutex)
        self._active_readers = 0
        self._writing = False
        self._waiting_writers = 0

    def acquire_read(self):
        with self._mutex:
            while self._writing or self._waiting_writers > 0:
                self._readers_ok.wait()
            self._active_readers += 1

    def release_read(self):
        with self._mutex:
            self._active_readers -= 1
            if self._active_readers == 0:
                self._writer_ok.notify()

    def acquire_write(self):
        with self._mutex:
            self._waiting_writers += 1
            while self._writing or self._active_readers > 0:
                self._writer_ok.wait()
            self._waiting_writers -= 1
            self._writing = True

    def release_write(self):
        with self._mutex:
            self._writing = False
            if self._waiting_writers > 0:
                self._writer_ok.notify()
            else:
                self._readers_ok.notify_all()

    def read_locked(self):
        return _Guard(self.acquire_read, self.release_read)

    def write_locked(self):
        return _Guard(self.acquire_write, self.release_write)
