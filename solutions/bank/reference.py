# expect: pass
# why: one lock per account, always taken in account order; total() takes them all in that order.
"""Reference bank: a lock per account, acquired in increasing account order."""

import threading


class Bank:
    def __init__(self, balances: list[int]) -> None:
        self._balances = list(balances)
        self._locks = [threading.Lock() for _ in self._balances]

    def _check_account(self, account: int) -> None:
        if not 0 <= account < len(self._balances):
            raise ValueError(f"no account {account}")

    def transfer(self, src: int, dst: int, amount: int) -> bool:
        self._check_account(src)
        self._check_account(dst)
        if amount < 0:
            raise ValueError("amount must not be negative")
        if src == dst:
            with self._locks[src]:
                return self._balances[src] >= amount
        first, second = sorted((src, dst))
        with self._locks[first], self._locks[second]:
            if self._balances[src] < amount:
                return False
            self._balances[src] -= amount
            self._balances[dst] += amount
            return True

    def balance(self, account: int) -> int:
        self._check_account(account)
        with self._locks[account]:
            return self._balances[account]

    def total(self) -> int:
        for lock in self._locks:
            lock.acquire()
        try:
            return sum(self._balances)
        finally:
            for lock in reversed(self._locks):
                lock.release()
