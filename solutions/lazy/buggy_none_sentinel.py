# expect: fail none-is-cached
# why: uses None to mean "not computed yet", so a factory returning None runs on every get.
import threading


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.value = None
        self.lock = threading.Lock()

    def get(self):
        if self.value is None:
            with self.lock:
                if self.value is None:
                    self.value = self.factory()
        return self.value
