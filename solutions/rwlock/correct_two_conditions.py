# expect: pass
# why: one mutex with separate conditions for readers and writers; a leaving writer wakes one writer if any wait.
import threading


class _Held:
    def __init__(self, enter, leave):
        self.enter, self.leave = enter, leave

    def __enter__(self):
        self.enter()
        return self

    def __exit__(self, *exc):
        self.leave()
        return False


class RWLock:
    def __init__(self):
        self.mutex = threading.Lock()
        self.can_read = threading.Condition(self.mutex)
        self.can_write = threading.Condition(self.mutex)
        self.active_readers = 0
        self.active_writer = False
        self.waiting_writers = 0

    def acquire_read(self):
        with self.mutex:
            while self.active_writer or self.waiting_writers > 0:
                self.can_read.wait()
            self.active_readers += 1

    def release_read(self):
        with self.mutex:
            self.active_readers -= 1
            if self.active_readers == 0 and self.waiting_writers > 0:
                self.can_write.notify()

    def acquire_write(self):
        with self.mutex:
            self.waiting_writers += 1
            while self.active_writer or self.active_readers > 0:
                self.can_write.wait()
            self.waiting_writers -= 1
            self.active_writer = True

    def release_write(self):
        with self.mutex:
            self.active_writer = False
            if self.waiting_writers > 0:
                self.can_write.notify()
            else:
                self.can_read.notify_all()

    def read_locked(self):
        return _Held(self.acquire_read, self.release_read)

    def write_locked(self):
        return _Held(self.acquire_write, self.release_write)
