# expect: fail total-consistent
# why: transfers are locked, but total() adds up the balances without the lock and sees money in flight.
import threading


class Bank:
    def __init__(self, balances):
        self.balances = list(balances)
        self.lock = threading.Lock()

    def _check(self, account):
        if not 0 <= account < len(self.balances):
            raise ValueError("unknown account")

    def transfer(self, src, dst, amount):
        self._check(src)
        self._check(dst)
        if amount < 0:
            raise ValueError("negative amount")
        with self.lock:
            if self.balances[src] < amount:
                return False
            self.balances[src] -= amount
            self.balances[dst] += amount
            return True

    def balance(self, account):
        self._check(account)
        return self.balances[account]

    def total(self):
        total = 0
        for b in self.balances:
            total += b
        return total
