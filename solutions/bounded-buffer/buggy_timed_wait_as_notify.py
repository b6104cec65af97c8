# expect: fail no-loss-no-duplication capacity-respected no-lost-wakeup
# why: waits with a timeout and takes a timed-out wait as "someone notified me": when the other side is slow, get() pops from an empty buffer and put() overfills it.
"""A bounded buffer whose waits give up after 2 s, in case a notify gets lost."""

import threading
from collections import deque


class BoundedBuffer:
    def __init__(self, capacity: int) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError("capacity must be a positive integer")
        self._capacity = capacity
        self._items: deque = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)

    def put(self, item) -> None:
        with self._lock:
            if len(self._items) >= self._capacity:
                self._not_full.wait(timeout=2.0)  # woken (or waited long enough): room now
            self._items.append(item)
            self._not_empty.notify()

    def get(self):
        with self._lock:
            if not self._items:
                self._not_empty.wait(timeout=2.0)
            item = self._items.popleft()
            self._not_full.notify()
            return item

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
