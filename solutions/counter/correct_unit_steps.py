# expect: pass
# why: adds n as |n| unit steps, taking the lock once per step: slow for big steps, but every read and write of the value is under the lock.
import threading


class Counter:
    """Adds n as |n| unit steps, each under its own lock acquisition."""

    def __init__(self, start=0):
        self._v = start
        self._lock = threading.Lock()

    def increment(self, n=1):
        step = 1 if n >= 0 else -1
        for _ in range(abs(n)):
            with self._lock:
                self._v += step

    def value(self):
        with self._lock:
            return self._v
