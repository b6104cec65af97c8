# expect: pass
# why: a Condition guards a set of "busy" accounts; a transfer claims both accounts at once or waits.
import threading


class Account:
    def __init__(self, money):
        self.money = money


class Bank:
    def __init__(self, balances):
        self._accounts = [Account(m) for m in balances]
        self._busy = set()
        self._changed = threading.Condition()

    def _valid(self, i):
        if type(i) is not int or i < 0 or i >= len(self._accounts):
            raise ValueError("no such account: %r" % (i,))
        return self._accounts[i]

    def _claim(self, wanted):
        with self._changed:
            while self._busy & wanted:
                self._changed.wait()
            self._busy |= wanted

    def _free(self, wanted):
        with self._changed:
            self._busy -= wanted
            self._changed.notify_all()

    def transfer(self, src, dst, amount):
        a, b = self._valid(src), self._valid(dst)
        if amount < 0:
            raise ValueError("negative amount")
        wanted = {src, dst}
        self._claim(wanted)
        try:
            if a.money < amount:
                return False
            if a is not b:
                a.money -= amount
                b.money += amount
            return True
        finally:
            self._free(wanted)

    def balance(self, account):
        acct = self._valid(account)
        self._claim({account})
        try:
            return acct.money
        finally:
            self._free({account})

    def total(self):
        with self._changed:
            while self._busy:
                self._changed.wait()
            # no transfer is running and none can start while we add up
            return sum(a.money for a in self._accounts)
