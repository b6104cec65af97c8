# expect: pass
# why: one binary Semaphore per account taken with a non-blocking "try both or back off" loop.
import threading


class Bank:
    def __init__(self, balances):
        self.b = list(balances)
        self.sems = [threading.Semaphore(1) for _ in balances]
        self.n = len(balances)

    def _take_all(self, ids):
        ids = sorted(set(ids))
        while True:
            got = []
            for i in ids:
                if self.sems[i].acquire(blocking=False):
                    got.append(i)
                else:
                    break
            if len(got) == len(ids):
                return ids
            for i in got:
                self.sems[i].release()
            # wait for the one we could not get, then retry from scratch
            missing = ids[len(got)]
            self.sems[missing].acquire()
            self.sems[missing].release()

    def _give_back(self, ids):
        for i in ids:
            self.sems[i].release()

    def transfer(self, src, dst, amount):
        for a in (src, dst):
            if not (0 <= a < self.n):
                raise ValueError("bad account")
        if amount < 0:
            raise ValueError("bad amount")
        held = self._take_all([src, dst])
        try:
            if self.b[src] < amount:
                return False
            self.b[src] -= amount
            self.b[dst] += amount
            return True
        finally:
            self._give_back(held)

    def balance(self, account):
        if not (0 <= account < self.n):
            raise ValueError("bad account")
        held = self._take_all([account])
        try:
            return self.b[account]
        finally:
            self._give_back(held)

    def total(self):
        held = self._take_all(range(self.n))
        try:
            return sum(self.b)
        finally:
            self._give_back(held)
