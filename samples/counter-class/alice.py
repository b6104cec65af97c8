import threading


class Counter:
    def __init__(self, start=0):
        self.lock = threading.Lock()
        self.n = start

    def increment(self, n=1):
        self.lock.acquire()
        self.n = self.n + n
        self.lock.release()

    def value(self):
        return self.n
