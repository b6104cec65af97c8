# expect: pass
# why: waits for the lock in short timed slices and retries until it gets it, so a timeout never lets an update through unlocked.
"""A counter whose increments wait for the lock in slices of 50 ms."""

import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()

    def _take(self) -> None:
        while not self._lock.acquire(timeout=0.05):
            pass  # still busy: try again

    def increment(self, n: int = 1) -> None:
        self._take()
        try:
            self._value += n
        finally:
            self._lock.release()

    def value(self) -> int:
        self._take()
        try:
            return self._value
        finally:
            self._lock.release()
