# expect: fail no-lost-updates
# why: a new Lock per call protects nothing: every thread holds its own lock.
import threading


class Counter:
    def __init__(self, start=0):
        self.count = start

    def increment(self, n=1):
        with threading.Lock():
            self.count += n

    def value(self):
        return self.count
