"""A readers-writer lock with writer preference: see the statement."""

import threading
from contextlib import contextmanager


class RWLock:
    def __init__(self) -> None:
        raise NotImplementedError

    def acquire_read(self) -> None:
        raise NotImplementedError

    def release_read(self) -> None:
        raise NotImplementedError

    def acquire_write(self) -> None:
        raise NotImplementedError

    def release_write(self) -> None:
        raise NotImplementedError

    def read_locked(self):
        """Context manager: acquire_read on entry, release_read on exit."""
        raise NotImplementedError

    def write_locked(self):
        """Context manager: acquire_write on entry, release_write on exit."""
        raise NotImplementedError
