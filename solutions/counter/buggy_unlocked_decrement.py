# expect: fail no-lost-updates
# why: only the positive path takes the lock; a negative n goes straight to the value and races with increments.
import threading


class Counter:
    def __init__(self, start=0):
        self.count = start
        self.lock = threading.Lock()

    def increment(self, n=1):
        if n >= 0:
            with self.lock:
                self.count += n
        else:
            self.count -= abs(n)

    def value(self):
        return self.count
