# expect: fail reusable-no-lapping
# why: counts arrivals but never resets the count, so from the second round on nobody waits.
import threading


class Barrier:
    def __init__(self, parties):
        self.parties = parties
        self.count = 0
        self.cond = threading.Condition()

    def wait(self):
        with self.cond:
            index = self.count % self.parties
            self.count += 1
            if self.count >= self.parties:
                self.cond.notify_all()
            while self.count < self.parties:
                self.cond.wait()
            return index
