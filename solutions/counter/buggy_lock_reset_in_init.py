# expect: fail no-lost-updates
# why: the lock is a class attribute replaced by every new Counter, so a counter made while another is in use splits its threads over two locks.
import threading


class Counter:
    lock = None

    def __init__(self, start=0):
        Counter.lock = threading.Lock()
        self.count = start

    def increment(self, n=1):
        with Counter.lock:
            self.count += n

    def value(self):
        with Counter.lock:
            return self.count
