# expect: pass
# why: after the first success the instance's get is replaced by a lock-free function returning the value.
import threading


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.lock = threading.RLock()

    def get(self):
        with self.lock:
            if "get" in self.__dict__:      # another thread won while we waited
                return self.__dict__["get"]()
            value = self.factory()

            def ready():
                return value

            self.get = ready
            return value
