# expect: pass
# why: a Condition used as a plain mutex, acquired and released by hand around a read-modify-write spread over helper methods.
"""A counter guarded by a Condition's lock, taken explicitly, with the update in helpers."""

import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._state = {"value": start}
        self._guard = threading.Condition()

    def _read(self) -> int:
        return self._state["value"]

    def _write(self, value: int) -> None:
        self._state["value"] = value

    def increment(self, n: int = 1) -> None:
        self._guard.acquire()
        try:
            self._write(self._read() + n)
        finally:
            self._guard.release()

    def value(self) -> int:
        self._guard.acquire()
        try:
            return self._read()
        finally:
            self._guard.release()
