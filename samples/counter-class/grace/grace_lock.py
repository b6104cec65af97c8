import functools
import threading


def guarded(method):
    """Run the method while holding the instance's own lock (created on first use)."""
    create = threading.Lock()

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        lock = self.__dict__.get("_guard")
        if lock is None:
            with create:
                lock = self.__dict__.setdefault("_guard", threading.RLock())
        with lock:
            return method(self, *args, **kwargs)

    return wrapper
