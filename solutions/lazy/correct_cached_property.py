# expect: pass
# why: the standard library does the locking: functools.cached_property (its lock on 3.11) plus a lock of its own for the retry.
import functools
import threading


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.guard = threading.Lock()

    @functools.cached_property
    def _computed(self):
        return self.factory()

    def get(self):
        if "_computed" in self.__dict__:
            return self.__dict__["_computed"]
        with self.guard:
            return self._computed
