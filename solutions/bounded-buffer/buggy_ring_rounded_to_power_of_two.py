# expect: fail capacity-respected
# why: the ring's size is the capacity rounded up to a power of two, and put waits only when the ring is full: a buffer of capacity 3 holds 4.
import threading


class BoundedBuffer:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        size = 1
        while size < capacity:
            size *= 2
        self._ring = [None] * size
        self._mask = size - 1
        self._head = 0                   # next slot to read
        self._tail = 0                   # next slot to write
        self._cond = threading.Condition()

    def _count(self):
        return self._tail - self._head

    def put(self, item) -> None:
        with self._cond:
            while self._count() == len(self._ring):
                self._cond.wait()
            self._ring[self._tail & self._mask] = item
            self._tail += 1
            self._cond.notify_all()

    def get(self):
        with self._cond:
            while self._count() == 0:
                self._cond.wait()
            slot = self._head & self._mask
            item, self._ring[slot] = self._ring[slot], None
            self._head += 1
            self._cond.notify_all()
            return item

    def __len__(self) -> int:
        with self._cond:
            return self._count()
