# expect: fail reusable-no-lapping
# why: the threads that waited reset the round as they leave; with one party nobody waits, so the count is never reset and round 2 hands out index 1.
import threading


class Barrier:
    def __init__(self, parties):
        self.parties = parties
        self.cond = threading.Condition()
        self.arrived = 0
        self.left = 0
        self.open = False

    def wait(self):
        with self.cond:
            index = self.arrived
            self.arrived += 1
            if self.arrived == self.parties:
                self.open = True
                self.cond.notify_all()
            else:
                while not self.open:
                    self.cond.wait()
                self.left += 1
                if self.left == self.parties - 1:
                    self.open = False
                    self.arrived = 0
                    self.left = 0
            return index
