# expect: pass
# why: one lock guards the read and the write of the total.
import threading


class Tally:
    def __init__(self) -> None:
        self._total = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self._total += n

    def total(self) -> int:
        with self._lock:
            return self._total
