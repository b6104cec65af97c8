# expect: pass
# why: a plain Lock made re-entrant by hand: a threading.local subclass (its __init__ run once per thread) counts how deep this thread is inside increment, so a nested call does not take the lock twice; every read and write of the value happens under the lock.
import threading


class _Depth(threading.local):
    def __init__(self):
        self.level = 0


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()
        self._depth = _Depth()

    def increment(self, n: int = 1) -> None:
        if n > 1:  # n steps of one, through the same method
            self._enter()
            try:
                for _ in range(n):
                    self.increment(1)
            finally:
                self._leave()
            return
        self._enter()
        try:
            self._value += n
        finally:
            self._leave()

    def _enter(self) -> None:
        if self._depth.level == 0:
            self._lock.acquire()
        self._depth.level += 1

    def _leave(self) -> None:
        self._depth.level -= 1
        if self._depth.level == 0:
            self._lock.release()

    def value(self) -> int:
        with self._lock:
            return self._value
