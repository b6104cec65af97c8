# expect: fail allowed-modules
# why: uses a multiprocessing.Value: correct under threads, but this exercise is about threads.
from multiprocessing import Value


class Counter:
    def __init__(self, start=0):
        self._v = Value("q", start)

    def increment(self, n=1):
        with self._v.get_lock():
            self._v.value += n

    def value(self):
        return self._v.value
