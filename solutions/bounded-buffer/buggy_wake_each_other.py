# expect: fail no-spin
# why: a waiter wakes the others before it sleeps "in case they can go on", so two blocked consumers keep waking each other up.
import threading
from collections import deque


class BoundedBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.items = deque()
        self.cond = threading.Condition()

    def put(self, item):
        with self.cond:
            while len(self.items) >= self.capacity:
                self.cond.notify_all()
                self.cond.wait()
            self.items.append(item)
            self.cond.notify_all()

    def get(self):
        with self.cond:
            while not self.items:
                self.cond.notify_all()
                self.cond.wait()
            item = self.items.popleft()
            self.cond.notify_all()
            return item

    def __len__(self):
        with self.cond:
            return len(self.items)
