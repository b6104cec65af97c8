# expect: pass
# why: per-thread shards kept as an attribute of threading.current_thread(), keyed by the counter's id (the explorer must give every schedule its threads afresh, or a new counter with a dead one's id finds the old shard); each shard is written only by its own thread and registered under a lock, and value() sums the registry under that lock (nothing lost, no lock on the hot path).
import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._start = start
        self._registry = []
        self._reg_lock = threading.Lock()

    def _shard(self):
        me = threading.current_thread()
        shards = me.__dict__.setdefault("counter_shards", {})
        shard = shards.get(id(self))
        if shard is None:
            shard = [0]
            with self._reg_lock:
                self._registry.append(shard)
            shards[id(self)] = shard
        return shard

    def increment(self, n: int = 1) -> None:
        shard = self._shard()
        shard[0] += n  # only this thread ever writes its shard

    def value(self) -> int:
        with self._reg_lock:
            return self._start + sum(shard[0] for shard in self._registry)
