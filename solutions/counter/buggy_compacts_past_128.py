# expect: fail no-lost-updates
# why: appends to a log take no lock; past 128 entries the log is compacted under a lock, but an append to the old list during the compaction is lost.
import threading


class Counter:
    def __init__(self, start=0):
        self._log = [start]
        self._lock = threading.Lock()

    def increment(self, n=1):
        self._log.append(n)
        if len(self._log) > 128:
            with self._lock:
                if len(self._log) > 128:
                    self._log = [sum(self._log)]

    def value(self):
        with self._lock:
            return sum(self._log)
