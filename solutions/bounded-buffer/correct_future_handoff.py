# expect: pass
# why: direct hand-off: a consumer that finds the buffer empty registers a concurrent.futures.Future (allowed: only queue, multiprocessing and asyncio are forbidden); put gives the item straight to the oldest parked consumer and, the slot being still free, passes the room wake-up on.
import threading
from collections import deque
from concurrent.futures import Future


class BoundedBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity")
        self._cap = capacity
        self._items = deque()
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._consumers = deque()

    def put(self, item):
        with self._lock:
            while len(self._items) >= self._cap:
                self._room.wait()
            if self._consumers:
                self._consumers.popleft().set_result(item)
                self._room.notify()   # the slot that woke us is still free: pass the wake-up on
            else:
                self._items.append(item)

    def get(self):
        with self._lock:
            if self._items:
                item = self._items.popleft()
                self._room.notify()
                return item
            fut = Future()
            self._consumers.append(fut)
        return fut.result()

    def __len__(self):
        with self._lock:
            return len(self._items)
