# expect: fail failing-factory-retried
# why: only `except Exception` clears the "building" mark: a factory interrupted by a BaseException (KeyboardInterrupt) leaves every later get() waiting forever.
import threading

_UNSET = object()


class Lazy:
    def __init__(self, factory):
        self._factory = factory
        self._value = _UNSET
        self._cond = threading.Condition()
        self._building = False

    def get(self):
        value = self._value
        if value is not _UNSET:
            return value
        with self._cond:
            while self._building:
                self._cond.wait()
            if self._value is not _UNSET:
                return self._value
            self._building = True
        try:
            value = self._factory()
        except Exception:
            with self._cond:
                self._building = False
                self._cond.notify_all()
            raise
        with self._cond:
            self._value = value
            self._building = False
            self._cond.notify_all()
        return value
