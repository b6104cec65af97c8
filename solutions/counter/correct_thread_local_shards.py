# expect: pass
# why: per-thread shards through threading.local, each written only by its own thread; value() sums them under the registry's lock (no lock on the hot path, nothing lost).
import threading


class _Shard:
    __slots__ = ("n",)

    def __init__(self):
        self.n = 0


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._start = start
        self._local = threading.local()
        self._registry = []
        self._reg_lock = threading.Lock()

    def _shard(self):
        s = getattr(self._local, "shard", None)
        if s is None:
            s = _Shard()
            with self._reg_lock:
                self._registry.append(s)
            self._local.shard = s
        return s

    def increment(self, n: int = 1) -> None:
        s = self._shard()
        s.n += n   # only this thread ever writes s

    def value(self) -> int:
        with self._reg_lock:
            return self._start + sum(s.n for s in self._registry)
