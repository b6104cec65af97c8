# expect: fail no-lost-updates
# why: acquire(timeout=0.05) so a stuck thread cannot hang the program, but its result is ignored: when the holder is slow the update runs unlocked, and release() then frees the other thread's lock.
"""A counter that never waits long for its lock."""

import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n: int = 1) -> None:
        self._lock.acquire(timeout=0.05)  # don't block forever if something goes wrong
        try:
            self._value += n
        finally:
            self._lock.release()

    def value(self) -> int:
        self._lock.acquire(timeout=0.05)
        try:
            return self._value
        finally:
            self._lock.release()
