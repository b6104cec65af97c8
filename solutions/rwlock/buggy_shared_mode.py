# expect: fail context-managers
# why: read_locked() and write_locked() return the lock itself and remember the mode in one attribute, so two blocks at once release the wrong kind.
import threading


class RWLock:
    def __init__(self):
        self.cond = threading.Condition()
        self.readers = 0
        self.writing = False
        self.waiting_writers = 0
        self.mode = None

    def acquire_read(self):
        with self.cond:
            while self.writing or self.waiting_writers:
                self.cond.wait()
            self.readers += 1

    def release_read(self):
        with self.cond:
            self.readers -= 1
            if self.readers == 0:
                self.cond.notify_all()

    def acquire_write(self):
        with self.cond:
            self.waiting_writers += 1
            while self.writing or self.readers:
                self.cond.wait()
            self.waiting_writers -= 1
            self.writing = True

    def release_write(self):
        with self.cond:
            self.writing = False
            self.cond.notify_all()

    def read_locked(self):
        self.mode = "read"
        return self

    def write_locked(self):
        self.mode = "write"
        return self

    def __enter__(self):
        if self.mode == "read":
            self.acquire_read()
        else:
            self.acquire_write()
        return self

    def __exit__(self, *exc):
        if self.mode == "read":
            self.release_read()
        else:
            self.release_write()
        return False
