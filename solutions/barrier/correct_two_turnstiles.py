# expect: pass
# why: the two-turnstile semaphore barrier: nobody enters phase 2 until all left phase 1, and back.
import threading


class Barrier:
    def __init__(self, parties):
        self.n = parties
        self.count = 0
        self.mutex = threading.Lock()
        self.turnstile = threading.Semaphore(0)
        self.turnstile2 = threading.Semaphore(0)

    def wait(self):
        with self.mutex:
            index = self.count
            self.count += 1
            if self.count == self.n:
                self.turnstile.release(self.n)
        self.turnstile.acquire()

        with self.mutex:
            self.count -= 1
            if self.count == 0:
                self.turnstile2.release(self.n)
        self.turnstile2.acquire()
        return index
