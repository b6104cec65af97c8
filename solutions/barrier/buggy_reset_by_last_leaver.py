# expect: fail reusable-no-lapping
# why: the last thread to *leave* resets the counter, but a fast thread re-enters before that and sails through.
import threading


class Barrier:
    def __init__(self, parties):
        self.parties = parties
        self.arrived = 0
        self.left = 0
        self.cond = threading.Condition()

    def wait(self):
        with self.cond:
            index = self.arrived
            self.arrived += 1
            if self.arrived == self.parties:
                self.cond.notify_all()
            while self.arrived < self.parties:
                self.cond.wait()
            self.left += 1
            if self.left == self.parties:
                self.arrived = 0
                self.left = 0
            return index % self.parties
