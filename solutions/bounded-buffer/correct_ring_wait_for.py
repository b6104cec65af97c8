# expect: pass
# why: a fixed array used as a ring (head index + count), one Condition, wait_for and notify_all.
import threading


class BoundedBuffer:
    def __init__(self, capacity):
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"bad capacity {capacity!r}")
        self.ring = [None] * capacity
        self.head = 0
        self.count = 0
        self.changed = threading.Condition()

    def put(self, item):
        with self.changed:
            self.changed.wait_for(lambda: self.count < len(self.ring))
            self.ring[(self.head + self.count) % len(self.ring)] = item
            self.count += 1
            self.changed.notify_all()

    def get(self):
        with self.changed:
            self.changed.wait_for(lambda: self.count > 0)
            item = self.ring[self.head]
            self.ring[self.head] = None
            self.head = (self.head + 1) % len(self.ring)
            self.count -= 1
            self.changed.notify_all()
            return item

    def __len__(self):
        with self.changed:
            return self.count
