# expect: fail bad-transfers-raise
# why: relies on list indexing to reject unknown accounts, so account -1 silently means the last one.
import threading


class Bank:
    def __init__(self, balances):
        self.balances = list(balances)
        self.lock = threading.Lock()

    def transfer(self, src, dst, amount):
        if amount < 0:
            raise ValueError("negative amount")
        with self.lock:
            try:
                if self.balances[src] < amount:
                    return False
                self.balances[dst] += 0  # raises IndexError for an unknown destination
            except IndexError:
                raise ValueError("unknown account") from None
            self.balances[src] -= amount
            self.balances[dst] += amount
            return True

    def balance(self, account):
        try:
            return self.balances[account]
        except IndexError:
            raise ValueError("unknown account") from None

    def total(self):
        with self.lock:
            return sum(self.balances)
