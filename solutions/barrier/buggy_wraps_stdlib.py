# expect: fail allowed-modules
# why: wraps threading.Barrier, which the exercise forbids (the barrier would not be the learner's own).
from threading import Barrier as _StdBarrier


class Barrier:
    def __init__(self, parties):
        self._inner = _StdBarrier(parties)

    def wait(self):
        return self._inner.wait()
