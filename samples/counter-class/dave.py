from threading import Condition


class Counter:
    """Uses a Condition as a mutex, and lets waiters know the value changed."""

    def __init__(self, start: int = 0) -> None:
        self._changed = Condition()
        self._value = start

    def increment(self, n: int = 1) -> None:
        with self._changed:
            self._value += n
            self._changed.notify_all()

    def value(self) -> int:
        with self._changed:
            return self._value
