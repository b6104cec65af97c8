# expect: fail allowed-modules
# why: hands the work to queue.Queue, which the exercise forbids.
import queue


class BoundedBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._q = queue.Queue(maxsize=capacity)

    def put(self, item):
        self._q.put(item)

    def get(self):
        return self._q.get()

    def __len__(self):
        return self._q.qsize()
