# expect: pass
# why: a sense-reversing barrier: each thread keeps its own sense in a threading.local and waits until the shared sense flips to it.
import threading


class Barrier:
    def __init__(self, parties):
        self.parties = parties
        self.remaining = parties
        self.sense = False
        self.local = threading.local()
        self.cond = threading.Condition(threading.Lock())

    def wait(self):
        my_sense = not getattr(self.local, "sense", False)
        self.local.sense = my_sense
        with self.cond:
            index = self.parties - self.remaining
            self.remaining -= 1
            if self.remaining == 0:
                self.remaining = self.parties
                self.sense = my_sense
                self.cond.notify_all()
            else:
                while self.sense != my_sense:
                    self.cond.wait()
        return index
