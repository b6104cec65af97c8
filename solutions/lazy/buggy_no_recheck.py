# expect: fail factory-once-under-threads
# why: double-checked locking without the second check: a thread that waited for the lock builds it again.
import threading

_MISSING = object()


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.value = _MISSING
        self.lock = threading.Lock()

    def get(self):
        if self.value is _MISSING:
            with self.lock:
                self.value = self.factory()
        return self.value
