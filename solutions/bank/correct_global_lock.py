# expect: pass
# why: the simplest correct style: one RLock guards the whole bank (no ordering to get wrong).
import threading


class Bank:
    def __init__(self, balances):
        self.accounts = dict(enumerate(balances))
        self.lock = threading.RLock()

    def transfer(self, src, dst, amount):
        if src not in self.accounts or dst not in self.accounts:
            raise ValueError("unknown account")
        if amount < 0:
            raise ValueError("negative amount")
        with self.lock:
            if self.accounts[src] < amount:
                return False
            self.accounts[src] = self.accounts[src] - amount
            self.accounts[dst] = self.accounts[dst] + amount
            return True

    def balance(self, account):
        with self.lock:
            if account not in self.accounts:
                raise ValueError("unknown account")
            return self.accounts[account]

    def total(self):
        with self.lock:
            return sum(self.accounts.values())
