# expect: fail counters-are-independent
# why: the value lives on the class, so every Counter shares it.
import threading


class Counter:
    total = 0
    lock = threading.Lock()

    def __init__(self, start=0):
        with Counter.lock:
            Counter.total = start

    def increment(self, n=1):
        with Counter.lock:
            Counter.total += n

    def value(self):
        return Counter.total
