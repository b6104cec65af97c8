# expect: pass
# why: an actor: one daemon thread owns the items; put and get post requests to its mailbox and wait for the answer.
import threading
from collections import deque


class _Request:
    def __init__(self, kind, item=None):
        self.kind = kind
        self.item = item
        self.answer = None
        self.done = threading.Event()


class BoundedBuffer:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._mailbox = deque()
        self._mail = threading.Condition()
        self._count = 0
        self._count_lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True, name="buffer-actor").start()

    def _ask(self, request):
        with self._mail:
            self._mailbox.append(request)
            self._mail.notify()
        request.done.wait()
        return request.answer

    def put(self, item):
        self._ask(_Request("put", item))

    def get(self):
        return self._ask(_Request("get"))

    def __len__(self):
        with self._count_lock:
            return self._count

    def _serve(self):
        items = deque()
        puts = deque()   # put requests waiting for room, oldest first
        gets = deque()   # get requests waiting for an item, oldest first
        while True:
            with self._mail:
                while not self._mailbox:
                    self._mail.wait()
                request = self._mailbox.popleft()
            (puts if request.kind == "put" else gets).append(request)
            progress = True
            while progress:
                progress = False
                if puts and len(items) < self._capacity:
                    done = puts.popleft()
                    items.append(done.item)
                    self._set_count(len(items))
                    done.done.set()
                    progress = True
                if gets and items:
                    done = gets.popleft()
                    done.answer = items.popleft()
                    self._set_count(len(items))
                    done.done.set()
                    progress = True

    def _set_count(self, n):
        with self._count_lock:
            self._count = n
