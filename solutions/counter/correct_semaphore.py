# expect: pass
# why: another primitive: a binary semaphore used as a mutex, acquired and released by hand.
from threading import Semaphore


class Counter:
    def __init__(self, start=0):
        self.count = start
        self.mutex = Semaphore(1)

    def increment(self, n=1):
        self.mutex.acquire()
        try:
            current = self.count
            current = current + n
            self.count = current
        finally:
            self.mutex.release()

    def value(self):
        return self.count
