# expect: fail no-loss-no-duplication
# why: consumers park on a concurrent.futures.Future, registered in a second critical section after seeing the buffer empty: a put in the gap appends the item, and the consumer sleeps with an item present.
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
        self._consumers = deque()     # Futures of parked consumers

    def put(self, item):
        with self._lock:
            while len(self._items) >= self._cap:
                self._room.wait()
            if self._consumers:
                self._consumers.popleft().set_result(item)   # hand it over directly
            else:
                self._items.append(item)

    def get(self):
        with self._lock:
            if self._items:
                item = self._items.popleft()
                self._room.notify()
                return item
        fut = Future()
        with self._lock:
            self._consumers.append(fut)
        return fut.result()

    def __len__(self):
        with self._lock:
            return len(self._items)
