# expect: fail transfers-move-money
# why: four lock stripes shared by account % 4; two accounts on one stripe make a transfer take the same plain Lock twice.
import threading

STRIPES = 4


class Bank:
    def __init__(self, balances):
        self.balances = list(balances)
        self.stripes = [threading.Lock() for _ in range(STRIPES)]

    def _check(self, account):
        if not 0 <= account < len(self.balances):
            raise ValueError(f"no account {account}")

    def _lock(self, account):
        return self.stripes[account % STRIPES]

    def transfer(self, src, dst, amount):
        self._check(src)
        self._check(dst)
        if amount < 0:
            raise ValueError("negative amount")
        if src == dst:
            with self._lock(src):
                return self.balances[src] >= amount
        first, second = sorted((src, dst), key=lambda a: a % STRIPES)
        with self._lock(first), self._lock(second):
            if self.balances[src] < amount:
                return False
            self.balances[src] -= amount
            self.balances[dst] += amount
            return True

    def balance(self, account):
        self._check(account)
        with self._lock(account):
            return self.balances[account]

    def total(self):
        for lock in self.stripes:
            lock.acquire()
        try:
            return sum(self.balances)
        finally:
            for lock in self.stripes:
                lock.release()
