# expect: fail no-spin
# why: waits by polling in a loop (sleep(0) only yields), so a blocked thread burns a CPU.
import threading
import time


class BoundedBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.items = []
        self.lock = threading.Lock()

    def put(self, item):
        while True:
            with self.lock:
                if len(self.items) < self.capacity:
                    self.items.append(item)
                    return
            time.sleep(0)

    def get(self):
        while True:
            with self.lock:
                if self.items:
                    return self.items.pop(0)
            time.sleep(0)

    def __len__(self):
        with self.lock:
            return len(self.items)
