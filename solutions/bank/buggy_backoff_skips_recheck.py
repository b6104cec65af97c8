# expect: fail no-overdraft
# why: when the destination's timed acquire fails it backs off (releasing the source) and retries, but does not check the funds again: another transfer drains the source meanwhile.
import threading
import time


class Bank:
    def __init__(self, balances):
        self._b = list(balances)
        self._locks = [threading.Lock() for _ in self._b]

    def _check(self, account):
        if not isinstance(account, int) or not 0 <= account < len(self._b):
            raise ValueError(f"unknown account {account!r}")

    def transfer(self, src, dst, amount):
        self._check(src)
        self._check(dst)
        if amount < 0:
            raise ValueError("negative amount")
        if src == dst:
            with self._locks[src]:
                return self._b[src] >= amount
        checked = False
        while True:
            self._locks[src].acquire()
            if not checked:
                if self._b[src] < amount:
                    self._locks[src].release()
                    return False
                checked = True
            if self._locks[dst].acquire(timeout=0.02):
                break
            self._locks[src].release()     # back off so nobody deadlocks
            time.sleep(0.001)
        try:
            self._b[src] -= amount
            self._b[dst] += amount
            return True
        finally:
            self._locks[dst].release()
            self._locks[src].release()

    def balance(self, account):
        self._check(account)
        with self._locks[account]:
            return self._b[account]

    def total(self):
        # every account lock, in index order: no transfer is half done
        for lock in self._locks:
            lock.acquire()
        try:
            return sum(self._b)
        finally:
            for lock in self._locks:
                lock.release()
