# expect: fail failing-factory-retried
# why: marks the value as started before calling the factory, so after a failure it never tries again.
import threading


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.started = False
        self.value = None
        self.lock = threading.Lock()

    def get(self):
        if self.started:
            return self.value
        with self.lock:
            if not self.started:
                self.started = True
                self.value = self.factory()
        return self.value
