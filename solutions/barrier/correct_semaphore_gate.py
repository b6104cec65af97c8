# expect: pass
# why: a semaphore per round: the last arriver opens it for the others and starts the next round with a fresh one.
import threading


class Barrier:
    def __init__(self, parties):
        self.parties = parties
        self.mutex = threading.Lock()
        self.count = 0
        self.gate = threading.Semaphore(0)

    def wait(self):
        self.mutex.acquire()
        index = self.count
        self.count += 1
        gate = self.gate
        if self.count == self.parties:
            self.count = 0
            self.gate = threading.Semaphore(0)
            if self.parties > 1:
                gate.release(self.parties - 1)
            self.mutex.release()
            return index
        self.mutex.release()
        gate.acquire()
        return index
