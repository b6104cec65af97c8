# expect: pass
# why: each round's gate is a concurrent.futures.Future (allowed here: only threading.Barrier is forbidden); waiters block in result(), the last arriver sets the result and installs a fresh Future.
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
            if self._count == self._parties:
                self._count = 0
                self._gate = Future()
                gate.set_result(None)
                return index
        gate.result()
        return index
