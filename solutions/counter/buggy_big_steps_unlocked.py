# expect: fail no-lost-updates
# why: a "fast path" for big steps (|n| > 2) skips the lock, so such an increment races with every other one.
"""A counter that takes its lock only for small steps."""

import threading


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n=1):
        if abs(n) > 2:
            self._value += n  # "big steps are rare, the lock costs more than it saves"
            return
        with self._lock:
            self._value += n

    def value(self):
        with self._lock:
            return self._value
