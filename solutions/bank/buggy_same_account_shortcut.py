# expect: fail bad-transfers-raise
# why: src == dst is answered before any validation, so transfer(-1, -1, 5) answers from the last account instead of raising.
import threading


class Bank:
    def __init__(self, balances):
        self.balances = list(balances)
        self.locks = [threading.Lock() for _ in balances]

    def _valid(self, account):
        if not 0 <= account < len(self.balances):
            raise ValueError(f"no account {account}")

    def transfer(self, src, dst, amount):
        if src == dst:
            return self.balances[src] >= amount
        self._valid(src)
        self._valid(dst)
        if amount < 0:
            raise ValueError("negative amount")
        low, high = min(src, dst), max(src, dst)
        with self.locks[low]:
            with self.locks[high]:
                if self.balances[src] < amount:
                    return False
                self.balances[src] -= amount
                self.balances[dst] += amount
                return True

    def balance(self, account):
        self._valid(account)
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
