# expect: fail writer-preference
# why: the textbook "first reader locks out writers" design: readers keep coming in while a writer waits.
import threading
from contextlib import contextmanager


class RWLock:
    def __init__(self):
        self.readers = 0
        self.mutex = threading.Lock()
        self.room_empty = threading.Semaphore(1)

    def acquire_read(self):
        with self.mutex:
            self.readers += 1
            if self.readers == 1:
                self.room_empty.acquire()

    def release_read(self):
        with self.mutex:
            self.readers -= 1
            if self.readers == 0:
                self.room_empty.release()

    def acquire_write(self):
        self.room_empty.acquire()

    def release_write(self):
        self.room_empty.release()

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
