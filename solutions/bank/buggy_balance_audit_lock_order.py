# expect: fail balance-while-transfers
# why: balance() takes the audit lock, then the account's; transfer holds the accounts' locks, then takes the audit lock to log: a balance() beside a transfer deadlocks.
import threading


class Bank:
    def __init__(self, balances):
        self._b = list(balances)
        self._locks = [threading.Lock() for _ in self._b]
        self._audit = threading.Lock()
        self._log = []

    def _check(self, i):
        if not 0 <= i < len(self._b):
            raise ValueError("unknown account")

    def transfer(self, src, dst, amount):
        self._check(src)
        self._check(dst)
        if amount < 0:
            raise ValueError("negative amount")
        if src == dst:
            with self._locks[src]:
                return self._b[src] >= amount
        lo, hi = sorted((src, dst))
        with self._locks[lo], self._locks[hi]:
            if self._b[src] < amount:
                return False
            self._b[src] -= amount
            self._b[dst] += amount
            with self._audit:
                self._log.append((src, dst, amount))
            return True

    def balance(self, account):
        self._check(account)
        with self._audit:
            self._log.append(("balance", account))
            with self._locks[account]:
                return self._b[account]

    def total(self):
        for lock in self._locks:
            lock.acquire()
        try:
            return sum(self._b)
        finally:
            for lock in self._locks:
                lock.release()
