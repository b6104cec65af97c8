# expect: fail writer-preference writer-handoff
# why: tries to be "fair": after a write, waiting readers get a turn even if another writer was waiting first.
import threading
from contextlib import contextmanager


class RWLock:
    def __init__(self):
        self.cond = threading.Condition()
        self.readers = 0
        self.writer = False
        self.waiting_writers = 0
        self.waiting_readers = 0
        self.readers_turn = False

    def acquire_read(self):
        with self.cond:
            self.waiting_readers += 1
            while self.writer or (self.waiting_writers and not self.readers_turn):
                self.cond.wait()
            self.waiting_readers -= 1
            self.readers += 1

    def release_read(self):
        with self.cond:
            self.readers -= 1
            if self.readers == 0:
                self.readers_turn = False
                self.cond.notify_all()

    def acquire_write(self):
        with self.cond:
            self.waiting_writers += 1
            while self.writer or self.readers or self.readers_turn:
                self.cond.wait()
            self.waiting_writers -= 1
            self.writer = True

    def release_write(self):
        with self.cond:
            self.writer = False
            if self.waiting_readers:
                self.readers_turn = True
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
