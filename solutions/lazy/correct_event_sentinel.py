# expect: pass
# why: one thread at a time becomes the builder (under a lock) but runs the factory outside it; the others wait on an Event, and retry when the attempt failed.
"""A lazy value whose factory runs outside any lock: waiters sleep on the builder's Event."""

import threading

_MISSING = object()


class Lazy:
    def __init__(self, factory):
        self._factory = factory
        self._value = _MISSING
        self._lock = threading.Lock()
        self._building = None  # the Event of the attempt in progress

    def get(self):
        while True:
            value = self._value
            if value is not _MISSING:
                return value
            with self._lock:
                if self._value is not _MISSING:
                    return self._value
                attempt = self._building
                mine = attempt is None
                if mine:
                    attempt = self._building = threading.Event()
            if not mine:
                attempt.wait()
                continue  # the value is there, or the attempt failed and we try ourselves
            try:
                value = self._factory()
            except BaseException:
                with self._lock:
                    self._building = None
                attempt.set()
                raise
            with self._lock:
                self._value = value
                self._building = None
            attempt.set()
            return value
