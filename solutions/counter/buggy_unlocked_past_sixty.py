# expect: fail no-lost-updates
# why: the lock is taken only while the value is small; past 60 increments go unlocked (a "warm" fast path), a race only long runs reach.
"""A counter that stops locking once it is "warmed up"."""

import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n: int = 1) -> None:
        if self._value > 60:  # fast path: no lock once warmed up
            current = self._value
            self._value = current + n
            return
        with self._lock:
            self._value += n

    def value(self) -> int:
        return self._value
