"""Classic concurrency bugs, each with a correct twin: the explorer's test corpus.

Written like learner code (plain `threading`), and instrumented by the tests.
"""

import threading
import time


# 1. Lost update -------------------------------------------------------------------------
class RacyCounter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1


class LockedCounter:
    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()

    def increment(self):
        with self.lock:
            self.value += 1


# 2. Check-then-act ------------------------------------------------------------------------
class RacyAccount:
    def __init__(self, balance):
        self.balance = balance
        self.lock = threading.Lock()

    def withdraw(self, amount):
        if self.balance >= amount:
            with self.lock:
                self.balance -= amount
            return True
        return False


class SafeAccount(RacyAccount):
    def withdraw(self, amount):
        with self.lock:
            if self.balance >= amount:
                self.balance -= amount
                return True
            return False


# 3. Atomicity violation (two fields that must change together) -----------------------------
class RacyPair:
    def __init__(self):
        self.a = 50
        self.b = 50
        self.lock = threading.Lock()

    def move(self, n):
        with self.lock:
            self.a -= n
        with self.lock:
            self.b += n

    def total(self):
        with self.lock:
            return self.a + self.b


class SafePair(RacyPair):
    def move(self, n):
        with self.lock:
            self.a -= n
            self.b += n


# 4. Lost wakeup: `if` instead of `while` around wait ---------------------------------------
class IfBuffer:
    def __init__(self, capacity):
        self.items = []
        self.capacity = capacity
        self.cond = threading.Condition()

    def put(self, item):
        with self.cond:
            if len(self.items) >= self.capacity:
                self.cond.wait()
            self.items.append(item)
            self.cond.notify_all()

    def get(self):
        with self.cond:
            if not self.items:
                self.cond.wait()
            item = self.items.pop(0)
            self.cond.notify_all()
            return item


class WhileBuffer(IfBuffer):
    def put(self, item):
        with self.cond:
            while len(self.items) >= self.capacity:
                self.cond.wait()
            self.items.append(item)
            self.cond.notify_all()

    def get(self):
        with self.cond:
            while not self.items:
                self.cond.wait()
            item = self.items.pop(0)
            self.cond.notify_all()
            return item


# 5. notify() where notify_all() is needed (one condition for two kinds of waiters) ----------
class NotifyOneBuffer(IfBuffer):
    def put(self, item):
        with self.cond:
            while len(self.items) >= self.capacity:
                self.cond.wait()
            self.items.append(item)
            self.cond.notify()

    def get(self):
        with self.cond:
            while not self.items:
                self.cond.wait()
            item = self.items.pop(0)
            self.cond.notify()
            return item


# 6. Lock-order deadlock ----------------------------------------------------------------------
class Account:
    def __init__(self, number, balance):
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()


def transfer_unordered(src, dst, amount):
    with src.lock:
        with dst.lock:
            src.balance -= amount
            dst.balance += amount


def transfer_ordered(src, dst, amount):
    first, second = (src, dst) if src.number < dst.number else (dst, src)
    with first.lock:
        with second.lock:
            src.balance -= amount
            dst.balance += amount


# 7. Self-deadlock on a non-reentrant lock ----------------------------------------------------
class Registry:
    lock_type = threading.Lock

    def __init__(self):
        self.items = {}
        self.lock = self.lock_type()

    def add(self, key, value):
        with self.lock:
            if not self.contains(key):
                self.items[key] = value

    def contains(self, key):
        with self.lock:
            return key in self.items


class ReentrantRegistry(Registry):
    lock_type = threading.RLock


# 8. Order violation: a reader assumes the writer already ran ---------------------------------
class Config:
    def __init__(self):
        self.settings = None
        self.ready = threading.Event()
        self.seen = None

    def load(self):
        self.settings = {"mode": "fast"}
        self.ready.set()

    def use_unsynchronised(self):
        self.seen = self.settings["mode"]

    def use_after_ready(self):
        self.ready.wait()
        self.seen = self.settings["mode"]


# Busy waiting that terminates under a fair scheduler (must not be called a livelock) --------
class SpinFlag:
    def __init__(self):
        self.flag = False
        self.seen = False

    def set(self):
        self.flag = True

    def spin(self):
        while not self.flag:
            pass
        self.seen = True


class WakeEachOther:
    """A buffer whose waiters wake the others before they sleep: under the default schedule two
    blocked consumers wake each other for ever; any fair schedule lets the producer in."""

    def __init__(self):
        self.items = []
        self.cond = threading.Condition()

    def put(self, item):
        with self.cond:
            while len(self.items) >= 1:
                self.cond.notify_all()
                self.cond.wait()
            self.items.append(item)
            self.cond.notify_all()

    def get(self):
        with self.cond:
            while not self.items:
                self.cond.notify_all()
                self.cond.wait()
            item = self.items.pop(0)
            self.cond.notify_all()
            return item


class SleepPoller:
    def __init__(self):
        self.flag = False

    def set(self):
        time.sleep(0.5)
        self.flag = True

    def poll(self):
        deadline = time.monotonic() + 10
        while not self.flag:
            if time.monotonic() > deadline:
                raise TimeoutError("flag never set")
            time.sleep(0.01)


class Tally:
    """Three unlocked updates in one call: alone on its own object, nothing races."""

    def __init__(self):
        self.n = 0

    def bump3(self):
        for _ in range(3):
            self.n += 1
