# expect: fail distinct-indices
# why: reads the arrival count for its index before taking the lock, so two threads can read the same value.
import threading


class Barrier:
    def __init__(self, parties):
        self.parties = parties
        self.count = 0
        self.generation = 0
        self.cond = threading.Condition()

    def wait(self):
        index = self.count
        with self.cond:
            self.count += 1
            if self.count == self.parties:
                self.count = 0
                self.generation += 1
                self.cond.notify_all()
                return index
            gen = self.generation
            while gen == self.generation:
                self.cond.wait()
        return index
