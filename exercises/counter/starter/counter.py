"""A counter that many threads can increment at once without losing an update."""

import threading  # noqa: F401  (you will need it)


class Counter:
    def __init__(self, start: int = 0) -> None:
        raise NotImplementedError

    def increment(self, n: int = 1) -> None:
        raise NotImplementedError

    def value(self) -> int:
        raise NotImplementedError
