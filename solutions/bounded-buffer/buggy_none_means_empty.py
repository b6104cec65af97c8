# expect: fail fifo-and-len
# why: a ring buffer that treats a None slot as empty, so a None item is skipped or waited on forever.
import threading


class BoundedBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.slots = [None] * capacity
        self.head = 0
        self.tail = 0
        self.cond = threading.Condition()

    def __len__(self):
        with self.cond:
            return sum(1 for s in self.slots if s is not None)

    def put(self, item):
        with self.cond:
            while self.slots[self.tail] is not None:
                self.cond.wait()
            self.slots[self.tail] = item
            self.tail = (self.tail + 1) % len(self.slots)
            self.cond.notify_all()

    def get(self):
        with self.cond:
            while self.slots[self.head] is None:
                self.cond.wait()
            item = self.slots[self.head]
            self.slots[self.head] = None
            self.head = (self.head + 1) % len(self.slots)
            self.cond.notify_all()
            return item
