# expect: fail no-lost-updates
# why: a "fast path" for increments of more than 100 skips the lock, so a big step races with every other increment (the small steps every other scenario uses never take it).
"""A counter that takes its lock only for small steps."""

import threading


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n=1):
        if abs(n) > 100:
            self._value += n  # "big steps are rare, the lock costs more than it saves"
            return
        with self._lock:
            self._value += n

    def value(self):
        with self._lock:
            return self._value
