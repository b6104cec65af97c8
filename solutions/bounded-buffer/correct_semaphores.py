# expect: pass
# why: counting semaphores for free slots and for items, plus a mutex around the list itself.
import threading


class BoundedBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.slots = threading.Semaphore(capacity)
        self.items = threading.Semaphore(0)
        self.mutex = threading.Lock()
        self.data = []

    def put(self, item):
        self.slots.acquire()
        with self.mutex:
            self.data.append(item)
        self.items.release()

    def get(self):
        self.items.acquire()
        with self.mutex:
            item = self.data.pop(0)
        self.slots.release()
        return item

    def __len__(self):
        with self.mutex:
            return len(self.data)
