# expect: fail increments-add-up
# why: increment calls value() while holding a plain Lock, which value() acquires again: the thread waits for itself.
import threading


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n=1):
        with self._lock:
            if n:
                self._value = self.value() + n

    def value(self):
        with self._lock:
            return self._value
