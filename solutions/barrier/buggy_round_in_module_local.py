# expect: fail reusable-no-lapping
# why: each thread's round number lives in one module-level threading.local shared by every Barrier: a thread that used another barrier passes a fresh one alone.
import threading

_mine = threading.local()          # this thread's round number


class Barrier:
    def __init__(self, parties: int) -> None:
        self._parties = parties
        self._cond = threading.Condition()
        self._count = 0
        self._round = 0

    def wait(self) -> int:
        my_round = getattr(_mine, "round", 0)
        with self._cond:
            index = self._count
            self._count += 1
            if self._count == self._parties:
                self._count = 0
                self._round += 1
                self._cond.notify_all()
            else:
                while self._round == my_round:
                    self._cond.wait()
        _mine.round = my_round + 1
        return index
