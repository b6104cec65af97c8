import threading


class Counter:
    def __init__(self, start=0):
        self.v = start

    def increment(self, n=1):
        lock = threading.Lock()
        with lock:
            self.v += n

    def value(self):
        return self.v
