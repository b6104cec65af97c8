# expect: fail opposite-transfers-no-deadlock cyclic-transfers-no-deadlock
# why: one lock per account, taken as "source first, then destination": opposite transfers deadlock.
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
        if src == dst:
            with self.locks[src]:
                return self.balances[src] >= amount
        with self.locks[src]:
            with self.locks[dst]:
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
