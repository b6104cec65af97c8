# expect: fail no-lock-after-set
# why: the lock-free path tests the value's truth, so a factory returning 0, "" or None sends every get() through the lock.
import threading


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.value = None
        self.ready = False
        self.lock = threading.Lock()

    def get(self):
        if self.value:
            return self.value
        with self.lock:
            if not self.ready:
                self.value = self.factory()
                self.ready = True
            return self.value
