# expect: pass
# why: a Condition and a generation number: a waiter leaves when the generation it arrived in has ended.
"""Reference reusable barrier: count arrivals per generation under one Condition."""

import threading


class Barrier:
    def __init__(self, parties: int) -> None:
        if parties < 1:
            raise ValueError("parties must be at least 1")
        self._parties = parties
        self._count = 0
        self._generation = 0
        self._cond = threading.Condition()

    def wait(self) -> int:
        with self._cond:
            index = self._count
            self._count += 1
            if self._count == self._parties:
                self._count = 0
                self._generation += 1
                self._cond.notify_all()
                return index
            generation = self._generation
            while generation == self._generation:
                self._cond.wait()
            return index
