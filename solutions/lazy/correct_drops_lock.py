# expect: pass
# why: the lock itself is the "not yet" flag: after the first success it is dropped, and get() only reads fields.
import threading


class Lazy:
    def __init__(self, factory):
        self._factory = factory
        self._lock = threading.Lock()
        self._value = None

    def get(self):
        lock = self._lock
        if lock is None:
            return self._value
        with lock:
            if self._lock is None:      # another thread finished while we waited
                return self._value
            self._value = self._factory()
            self._factory = None
            self._lock = None
            return self._value
