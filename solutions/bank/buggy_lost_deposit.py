# expect: fail no-lost-money
# why: a lock per account, but the deposit into dst happens after the src lock is released, unlocked.
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
        with self.locks[src]:
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
        return sum(self.balance(i) for i in range(len(self.balances)))
