# expect: fail no-lost-updates
# why: increments append to a log (one atomic step each), and to bound memory the log is compacted every 64 entries without a lock: an append to the old list during the compaction is lost.
class Counter:
    def __init__(self, start: int = 0) -> None:
        self._log = [start]

    def increment(self, n: int = 1) -> None:
        self._log.append(n)
        if len(self._log) > 64:
            self._log = [sum(self._log)]

    def value(self) -> int:
        return sum(self._log)
