# expect: fail releases-all
# why: the last arriver calls notify() instead of notify_all(), so only one of the waiting threads is released.
import threading


class Barrier:
    def __init__(self, parties):
        self.parties = parties
        self.count = 0
        self.generation = 0
        self.cond = threading.Condition()

    def wait(self):
        with self.cond:
            index = self.count
            self.count += 1
            if self.count == self.parties:
                self.count = 0
                self.generation += 1
                self.cond.notify()
                return index
            gen = self.generation
            while gen == self.generation:
                self.cond.wait()
            return index
