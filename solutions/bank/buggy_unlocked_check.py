# expect: fail no-overdraft no-lost-money
# why: no locking at all: both threads see enough money, then both withdraw (check-then-act).
class Bank:
    def __init__(self, balances):
        self.balances = list(balances)

    def _check(self, account):
        if not 0 <= account < len(self.balances):
            raise ValueError("unknown account")

    def transfer(self, src, dst, amount):
        self._check(src)
        self._check(dst)
        if amount < 0:
            raise ValueError("negative amount")
        if self.balances[src] >= amount:
            self.balances[src] -= amount
            self.balances[dst] += amount
            return True
        return False

    def balance(self, account):
        self._check(account)
        return self.balances[account]

    def total(self):
        return sum(self.balances)
