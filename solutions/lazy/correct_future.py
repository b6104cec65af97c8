# expect: pass
# why: each attempt is a concurrent.futures.Future created under a lock; the creator runs the factory and resolves it; waiters take the result (or the same exception); a failed Future is discarded so a later get tries again.
import threading
from concurrent.futures import Future

_UNSET = object()


class Lazy:
    def __init__(self, factory):
        self._factory = factory
        self._value = _UNSET
        self._lock = threading.Lock()
        self._future = None

    def get(self):
        value = self._value
        if value is not _UNSET:
            return value
        with self._lock:
            if self._value is not _UNSET:
                return self._value
            future = self._future
            mine = future is None
            if mine:
                future = self._future = Future()
        if not mine:
            return future.result()
        try:
            value = self._factory()
        except BaseException as exc:
            with self._lock:
                self._future = None
            future.set_exception(exc)
            raise
        self._value = value
        with self._lock:
            self._future = None
        future.set_result(value)
        return value
