# expect: pass
# why: another structure: an RLock, a list of deltas summed on demand, reentrant helper calls.
import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._lock = threading.RLock()
        self._deltas = [start]

    def _add(self, n):
        with self._lock:
            self._deltas.append(n)
            if len(self._deltas) > 64:
                self._deltas = [sum(self._deltas)]

    def increment(self, n: int = 1) -> None:
        with self._lock:
            self._add(n)

    def value(self) -> int:
        with self._lock:
            return sum(self._deltas)
