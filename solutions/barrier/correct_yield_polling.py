# expect: pass
# why: threads that did not arrive last poll the generation with time.sleep(0) (the contract has no no-spin clause).
import threading, time

class Barrier:
    def __init__(self, parties):
        self._parties = parties
        self._m = threading.Lock()
        self._count = 0
        self._generation = 0

    def wait(self):
        with self._m:
            gen = self._generation
            index = self._count
            self._count += 1
            if self._count == self._parties:
                self._count = 0
                self._generation += 1
                return index
        while True:
            with self._m:
                if self._generation != gen:
                    return index
            time.sleep(0)
