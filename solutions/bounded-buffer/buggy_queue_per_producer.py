# expect: fail no-loss-no-duplication
# why: one deque per producer thread to keep producers apart; get serves the producers in turn, so items from one producer overtake older items from another.
import threading
from collections import deque


class BoundedBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.lanes = {}
        self.count = 0
        self.cond = threading.Condition()

    def put(self, item):
        me = threading.get_ident()
        with self.cond:
            while self.count >= self.capacity:
                self.cond.wait()
            self.lanes.setdefault(me, deque()).append(item)
            self.count += 1
            self.cond.notify_all()

    def get(self):
        with self.cond:
            while self.count == 0:
                self.cond.wait()
            for lane in self.lanes.values():
                if lane:
                    item = lane.popleft()
                    break
            self.count -= 1
            self.cond.notify_all()
            return item

    def __len__(self):
        with self.cond:
            return self.count
