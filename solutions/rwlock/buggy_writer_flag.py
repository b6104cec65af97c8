# expect: fail writer-preference
# why: "a writer is waiting" is one boolean: the first waiting writer to get in clears it, though other writers still wait, so new readers pass them.
import threading
from contextlib import contextmanager


class RWLock:
    def __init__(self):
        self.cond = threading.Condition()
        self.readers = 0
        self.writing = False
        self.writer_waiting = False

    def acquire_read(self):
        with self.cond:
            while self.writing or self.writer_waiting:
                self.cond.wait()
            self.readers += 1

    def release_read(self):
        with self.cond:
            self.readers -= 1
            if self.readers == 0:
                self.cond.notify_all()

    def acquire_write(self):
        with self.cond:
            self.writer_waiting = True
            while self.writing or self.readers:
                self.cond.wait()
            self.writer_waiting = False
            self.writing = True

    def release_write(self):
        with self.cond:
            self.writing = False
            self.cond.notify_all()

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
