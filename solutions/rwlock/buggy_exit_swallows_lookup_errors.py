# expect: fail context-managers
# why: __exit__ swallows LookupError ("a missing key is just a miss"), so a KeyError raised inside a with block never reaches the caller.
import threading


class _Ctx:
    def __init__(self, enter, leave):
        self.enter, self.leave = enter, leave

    def __enter__(self):
        self.enter()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.leave()
        return exc_type is not None and issubclass(exc_type, LookupError)


class RWLock:
    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._readers = 0
        self._writer = False
        self._ww = 0

    def acquire_read(self) -> None:
        with self._cv:
            while self._writer or self._ww:
                self._cv.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cv:
            self._readers -= 1
            self._cv.notify_all()

    def acquire_write(self) -> None:
        with self._cv:
            self._ww += 1
            while self._writer or self._readers:
                self._cv.wait()
            self._ww -= 1
            self._writer = True

    def release_write(self) -> None:
        with self._cv:
            self._writer = False
            self._cv.notify_all()

    def read_locked(self):
        return _Ctx(self.acquire_read, self.release_read)

    def write_locked(self):
        return _Ctx(self.acquire_write, self.release_write)
