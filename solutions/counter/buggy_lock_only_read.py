# expect: fail no-lost-updates
# why: the lock covers the read but the write happens after it is released (check-then-act).
import threading


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n=1):
        with self._lock:
            current = self._value
        self._value = current + n

    def value(self):
        with self._lock:
            return self._value
