# expect: pass
# why: threads guarded by a multiprocessing.Lock: an OS semaphore works between threads too (needs the forbid list without multiprocessing).
import multiprocessing


class Counter:
    def __init__(self, start=0):
        self.count = start
        self.guard = multiprocessing.Lock()

    def increment(self, n=1):
        self.guard.acquire()
        self.count += n
        self.guard.release()

    def value(self):
        with self.guard:
            return self.count
