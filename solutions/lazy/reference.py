# expect: pass
# why: double-checked locking with a private sentinel: no lock once the value is stored.
"""Reference lazy value: check without the lock, then again with it held."""

import threading

_UNSET = object()


class Lazy:
    def __init__(self, factory) -> None:
        self._factory = factory
        self._value = _UNSET
        self._lock = threading.Lock()

    def get(self):
        value = self._value
        if value is not _UNSET:
            return value
        with self._lock:
            if self._value is _UNSET:
                self._value = self._factory()
            return self._value
