# expect: pass
# why: the reference: one lock guards the read-add-write of the value.
"""A counter that many threads can increment at once without losing an update."""

import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n: int = 1) -> None:
        with self._lock:
            self._value += n

    def value(self) -> int:
        with self._lock:
            return self._value
