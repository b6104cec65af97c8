# expect: pass
# why: a caller that finds another computing the value polls with time.sleep(0) until it is set or the attempt failed (the contract has no no-spin clause).
import threading, time

_UNSET = object()

class Lazy:
    def __init__(self, factory):
        self._factory = factory
        self._value = _UNSET
        self._m = threading.Lock()
        self._busy = False

    def get(self):
        v = self._value
        if v is not _UNSET:
            return v
        while True:
            with self._m:
                if self._value is not _UNSET:
                    return self._value
                if not self._busy:
                    self._busy = True
                    break
            time.sleep(0)
        try:
            value = self._factory()
        except BaseException:
            with self._m:
                self._busy = False
            raise
        with self._m:
            self._value = value
            self._busy = False
        return value
