# expect: fail reusable-no-lapping
# why: a single turnstile reused for leaving: a fast thread can pass it again and lap the others.
import threading


class Barrier:
    def __init__(self, parties):
        self.n = parties
        self.count = 0
        self.mutex = threading.Lock()
        self.turnstile = threading.Semaphore(0)

    def wait(self):
        with self.mutex:
            index = self.count
            self.count += 1
            if self.count == self.n:
                self.turnstile.release(self.n)
        self.turnstile.acquire()
        with self.mutex:
            self.count -= 1
        return index
