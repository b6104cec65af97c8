# expect: fail cyclic-transfers-no-deadlock total-consistent
# why: two striped locks (account % 2) taken in account order, not stripe order: transfers 0->1 and 1->2 take the stripes in opposite orders, so a cycle of three accounts deadlocks.
"""A bank that shares a few locks between many accounts (lock striping)."""

import threading

STRIPES = 2


class Bank:
    def __init__(self, balances: list[int]) -> None:
        self._balances = list(balances)
        self._stripes = [threading.Lock() for _ in range(STRIPES)]

    def _lock_for(self, account: int) -> threading.Lock:
        return self._stripes[account % STRIPES]

    def _check(self, account: int) -> None:
        if not 0 <= account < len(self._balances):
            raise ValueError(f"no account {account}")

    def transfer(self, src: int, dst: int, amount: int) -> bool:
        self._check(src)
        self._check(dst)
        if amount < 0:
            raise ValueError("amount must not be negative")
        low, high = sorted((src, dst))  # always lock the lower account first
        first, second = self._lock_for(low), self._lock_for(high)
        with first:
            if second is not first:
                second.acquire()
            try:
                if self._balances[src] < amount:
                    return False
                self._balances[src] -= amount
                self._balances[dst] += amount
                return True
            finally:
                if second is not first:
                    second.release()

    def balance(self, account: int) -> int:
        self._check(account)
        with self._lock_for(account):
            return self._balances[account]

    def total(self) -> int:
        for lock in self._stripes:
            lock.acquire()
        try:
            return sum(self._balances)
        finally:
            for lock in reversed(self._stripes):
                lock.release()
