# expect: pass
# why: the semaphore "lightswitch" design: the first writer closes a turnstile for readers, the last reopens it.
import threading
from contextlib import contextmanager


class Lightswitch:
    """The first thread in locks `room`; the last one out unlocks it."""

    def __init__(self):
        self.count = 0
        self.mutex = threading.Lock()

    def enter(self, room):
        with self.mutex:
            self.count += 1
            if self.count == 1:
                room.acquire()

    def leave(self, room):
        with self.mutex:
            self.count -= 1
            if self.count == 0:
                room.release()


class RWLock:
    def __init__(self):
        self.no_readers = threading.Semaphore(1)
        self.no_writers = threading.Semaphore(1)
        self.read_switch = Lightswitch()
        self.write_switch = Lightswitch()

    def acquire_read(self):
        self.no_readers.acquire()
        self.read_switch.enter(self.no_writers)
        self.no_readers.release()

    def release_read(self):
        self.read_switch.leave(self.no_writers)

    def acquire_write(self):
        self.write_switch.enter(self.no_readers)
        self.no_writers.acquire()

    def release_write(self):
        self.no_writers.release()
        self.write_switch.leave(self.no_readers)

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
