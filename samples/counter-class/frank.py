import threading

_lock = threading.Lock()
_count = 0


class Counter:
    def __init__(self, start=0):
        global _count
        _count = start

    def increment(self, n=1):
        global _count
        with _lock:
            _count += n

    def value(self):
        return _count
