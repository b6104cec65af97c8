# expect: fail bad-transfers-raise
# why: an amount of 0 returns True straight away, before the accounts are checked, so transfer(0, 99, 0) succeeds.
import threading


class Bank:
    def __init__(self, balances):
        self.balances = list(balances)
        self.lock = threading.Lock()

    def transfer(self, src, dst, amount):
        if amount == 0:
            return True
        if amount < 0:
            raise ValueError("negative amount")
        for account in (src, dst):
            if account < 0 or account >= len(self.balances):
                raise ValueError(f"unknown account {account}")
        with self.lock:
            if self.balances[src] < amount:
                return False
            self.balances[src] -= amount
            self.balances[dst] += amount
            return True

    def balance(self, account):
        if account < 0 or account >= len(self.balances):
            raise ValueError(f"unknown account {account}")
        with self.lock:
            return self.balances[account]

    def total(self):
        with self.lock:
            return sum(self.balances)
