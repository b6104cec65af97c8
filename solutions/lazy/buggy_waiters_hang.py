# expect: fail failure-under-threads
# why: when the factory raises, the attempt is cleared but the threads waiting on it are never woken.
import threading


class Lazy:
    def __init__(self, factory):
        self._factory = factory
        self._done = threading.Event()
        self._value = None
        self._lock = threading.Lock()
        self._attempt = None

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
                continue
            try:
                value = self._factory()
            except BaseException:
                with self._lock:
                    self._attempt = None
                raise
            self._value = value
            self._done.set()
            attempt.set()
            return value
