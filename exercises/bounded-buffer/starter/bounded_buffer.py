"""A bounded FIFO buffer shared by producer and consumer threads: see the statement."""

import threading


class BoundedBuffer:
    def __init__(self, capacity: int) -> None:
        raise NotImplementedError

    def put(self, item) -> None:
        """Add item at the back; wait while the buffer is full."""
        raise NotImplementedError

    def get(self):
        """Remove and return the item at the front; wait while the buffer is empty."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError
