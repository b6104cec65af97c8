# expect: fail context-managers
# why: the context managers' __exit__ returns True "so the lock is always released cleanly", which swallows every exception raised in the block.
import threading


class _Block:
    def __init__(self, enter, leave):
        self.enter = enter
        self.leave = leave

    def __enter__(self):
        self.enter()
        return self

    def __exit__(self, kind, value, tb):
        self.leave()
        return True


class RWLock:
    def __init__(self):
        self.cond = threading.Condition()
        self.readers = 0
        self.writing = False
        self.waiting_writers = 0

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
        return _Block(self.acquire_read, self.release_read)

    def write_locked(self):
        return _Block(self.acquire_write, self.release_write)
