# expect: fail no-lock-after-set
# why: the "quick look" is Event.wait(0), which takes the event's internal lock on every call.
import threading


class Lazy:
    def __init__(self, factory):
        self._factory = factory
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._value = None

    def get(self):
        if self._ready.wait(0):
            return self._value
        with self._lock:
            if not self._ready.is_set():
                self._value = self._factory()
                self._ready.set()
        return self._value
