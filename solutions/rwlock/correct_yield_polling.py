# expect: pass
# why: waiters poll with time.sleep(0) (the contract has no no-spin clause): under the explorer a sleep(0) is a wait on the virtual clock, so a polling writer is seen to wait.
import threading, time
from contextlib import contextmanager

class RWLock:
    def __init__(self):
        self._m = threading.Lock()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    def acquire_read(self):
        while True:
            with self._m:
                if not self._writer and self._waiting_writers == 0:
                    self._readers += 1
                    return
            time.sleep(0)

    def release_read(self):
        with self._m:
            self._readers -= 1

    def acquire_write(self):
        with self._m:
            self._waiting_writers += 1
        while True:
            with self._m:
                if not self._writer and self._readers == 0:
                    self._waiting_writers -= 1
                    self._writer = True
                    return
            time.sleep(0)

    def release_write(self):
        with self._m:
            self._writer = False

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
