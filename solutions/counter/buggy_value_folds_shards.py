# expect: fail no-lost-updates
# why: lock-free per-thread shards, and a value() that folds the shards into the base and zeroes them: the fold reads a shard, an increment slips in, the fold writes 0 over it (or counts it twice).
import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._base = start
        self._shards = {}
        self._lock = threading.Lock()

    def increment(self, n: int = 1) -> None:
        me = threading.get_ident()
        if me not in self._shards:
            with self._lock:
                self._shards.setdefault(me, 0)
        self._shards[me] += n

    def value(self) -> int:
        with self._lock:
            for k in list(self._shards):
                self._base += self._shards[k]
                self._shards[k] = 0
            return self._base
