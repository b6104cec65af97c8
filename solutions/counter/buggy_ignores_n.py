# expect: fail increments-add-up
# why: increment always adds 1, whatever n is.
import threading


class Counter:
    def __init__(self, start=0):
        self._value = start
        self._lock = threading.Lock()

    def increment(self, n=1):
        with self._lock:
            self._value += 1

    def value(self):
        return self._value
