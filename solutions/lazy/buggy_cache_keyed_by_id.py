# expect: fail factory-once-under-threads
# why: values are cached on the class keyed by id(self): a new Lazy that reuses a dead one's id gets its value, and the factory never runs (a failure the same schedule does not always repeat).
import threading


class Lazy:
    _values = {}                  # id(lazy) -> value, shared by every Lazy
    _lock = threading.Lock()

    def __init__(self, factory) -> None:
        self._factory = factory

    def get(self):
        key = id(self)
        try:
            return Lazy._values[key]          # fast path: a dict lookup, no lock
        except KeyError:
            pass
        with Lazy._lock:
            if key not in Lazy._values:
                Lazy._values[key] = self._factory()
            return Lazy._values[key]
