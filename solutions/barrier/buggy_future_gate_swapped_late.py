# expect: fail reusable-no-lapping
# why: each round's gate is a concurrent.futures.Future; the last arriver opens it and only later, in a second critical section, installs the next one: a thread let through comes back in between, takes the open gate and laps the others.
import threading
from concurrent.futures import Future


class Barrier:
    def __init__(self, parties):
        self._parties = parties
        self._lock = threading.Lock()
        self._count = 0
        self._gate = Future()

    def wait(self):
        with self._lock:
            index = self._count
            self._count += 1
            gate = self._gate
            last = self._count == self._parties
            if last:
                self._count = 0
        if last:
            gate.set_result(None)
            with self._lock:
                self._gate = Future()
            return index
        gate.result()
        return index
