# expect: pass
# why: the first caller runs the factory outside any lock; the others wait on an Event for that attempt.
import threading


class Lazy:
    def __init__(self, factory):
        self._factory = factory
        self._done = threading.Event()
        self._value = None
        self._lock = threading.Lock()
        self._attempt = None          # Event of the attempt in progress, if any

    def get(self):
        if self._done.is_set():
            return self._value
        while True:
            with self._lock:
                if self._done.is_set():
                    return self._value
                if self._attempt is None:
                    attempt = self._attempt = threading.Event()
                    mine = True
                else:
                    attempt = self._attempt
                    mine = False
            if not mine:
                attempt.wait()
                continue              # done now, or failed: look again
            try:
                value = self._factory()
            except BaseException:
                with self._lock:
                    self._attempt = None
                attempt.set()
                raise
            self._value = value
            self._done.set()
            with self._lock:
                self._attempt = None
            attempt.set()
            return value
