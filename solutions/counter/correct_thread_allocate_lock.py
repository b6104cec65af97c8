# expect: pass
# why: another primitive: the low-level _thread lock, taken with acquire() and released in a finally.
import _thread


class Counter:
    def __init__(self, start=0):
        self.total = start
        self.mutex = _thread.allocate_lock()

    def increment(self, n=1):
        self.mutex.acquire()
        try:
            self.total = self.total + n
        finally:
            self.mutex.release()

    def value(self):
        self.mutex.acquire()
        try:
            return self.total
        finally:
            self.mutex.release()
