# expect: fail total-consistent
# why: total() waits while a "moving" flag is set, but a flag is not a count: when two transfers on disjoint accounts overlap, the first to finish clears it.
import threading


class Bank:
    def __init__(self, balances):
        self.balances = list(balances)
        self.locks = [threading.Lock() for _ in balances]
        self.state = threading.Condition()
        self.moving = False

    def _check(self, account):
        if not 0 <= account < len(self.balances):
            raise ValueError(f"no account {account}")

    def transfer(self, src, dst, amount):
        self._check(src)
        self._check(dst)
        if amount < 0:
            raise ValueError("negative amount")
        if src == dst:
            with self.locks[src]:
                return self.balances[src] >= amount
        a, b = sorted((src, dst))
        with self.locks[a], self.locks[b]:
            if self.balances[src] < amount:
                return False
            with self.state:
                self.moving = True
            self.balances[src] -= amount
            self.balances[dst] += amount
            with self.state:
                self.moving = False
                self.state.notify_all()
            return True

    def balance(self, account):
        self._check(account)
        with self.locks[account]:
            return self.balances[account]

    def total(self):
        with self.state:
            while self.moving:
                self.state.wait()
            return sum(self.balances)
