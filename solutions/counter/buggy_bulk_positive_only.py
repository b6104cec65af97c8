# expect: fail no-lost-updates
# why: a "fast path" for big positive steps (n > 200) reads and writes the value without the lock, so such a step races with every other increment; big negative steps, and small ones, are locked.
"""A counter that skips its lock for big additions only."""

import threading


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n=1):
        if n > 200:
            value = self._value  # "adding a lot at once is rare: no need to wait"
            self._value = value + n
            return
        with self._lock:
            self._value += n

    def value(self):
        with self._lock:
            return self._value
