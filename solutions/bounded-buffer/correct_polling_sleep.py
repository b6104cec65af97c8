# expect: pass
# why: no condition variables: a waiting thread drops the lock and sleeps 10 ms before it looks again, which costs little CPU.
import threading
import time
from collections import deque


class BoundedBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.items = deque()
        self.lock = threading.Lock()

    def put(self, item):
        while True:
            with self.lock:
                if len(self.items) < self.capacity:
                    self.items.append(item)
                    return
            time.sleep(0.01)

    def get(self):
        while True:
            with self.lock:
                if self.items:
                    return self.items.popleft()
            time.sleep(0.01)

    def __len__(self):
        with self.lock:
            return len(self.items)
