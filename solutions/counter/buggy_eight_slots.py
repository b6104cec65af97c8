# expect: fail stress-real-threads
# why: one slot per thread so increments need no lock, but only eight slots: the ninth thread gets no slot.
import threading

SLOTS = 8


class Counter:
    def __init__(self, start=0):
        self.start = start
        self.slots = [0] * SLOTS
        self.owners = {}
        self.lock = threading.Lock()

    def my_slot(self):
        me = threading.get_ident()
        if me not in self.owners:
            with self.lock:
                self.owners[me] = len(self.owners)
        return self.owners[me]

    def increment(self, n=1):
        self.slots[self.my_slot()] += n

    def value(self):
        return self.start + sum(self.slots)
