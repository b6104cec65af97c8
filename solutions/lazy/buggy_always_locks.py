# expect: fail no-lock-after-set
# why: correct but takes the lock on every call, so every get() after the first still waits for it.
import threading

_MISSING = object()


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.value = _MISSING
        self.lock = threading.Lock()

    def get(self):
        with self.lock:
            if self.value is _MISSING:
                self.value = self.factory()
            return self.value
