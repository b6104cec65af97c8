# expect: fail failing-factory-retried
# why: after two failures it decides the factory is broken and re-raises the last error forever.
import threading

GIVE_UP_AFTER = 2


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.lock = threading.Lock()
        self.done = False
        self.value = None
        self.failures = 0
        self.last_error = None

    def get(self):
        if self.done:
            return self.value
        with self.lock:
            if self.done:
                return self.value
            if self.failures >= GIVE_UP_AFTER:
                raise self.last_error
            try:
                self.value = self.factory()
            except Exception as exc:
                self.failures += 1
                self.last_error = exc
                raise
            self.done = True
            return self.value
