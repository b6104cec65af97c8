# expect: fail edge-cases self-transfer-no-deadlock
# why: locks both accounts in order without a src == dst case, so a self-transfer waits for itself.
import threading


class Bank:
    def __init__(self, balances):
        self.balances = list(balances)
        self.locks = [threading.Lock() for _ in balances]

    def _check(self, account):
        if not 0 <= account < len(self.balances):
            raise ValueError("unknown account")

    def transfer(self, src, dst, amount):
        self._check(src)
        self._check(dst)
        if amount < 0:
            raise ValueError("negative amount")
        lo, hi = min(src, dst), max(src, dst)
        with self.locks[lo]:
            with self.locks[hi]:
                if self.balances[src] < amount:
                    return False
                self.balances[src] -= amount
                self.balances[dst] += amount
                return True

    def balance(self, account):
        self._check(account)
        with self.locks[account]:
            return self.balances[account]

    def total(self):
        for lock in self.locks:
            lock.acquire()
        try:
            return sum(self.balances)
        finally:
            for lock in self.locks:
                lock.release()
