"""A parallel map: fn applied to every item in worker processes, results in input order."""

import multiprocessing


def pmap(fn, items: list, workers: int = 2) -> list:
    """Return [fn(x) for x in items], computed in `workers` child processes."""
    raise NotImplementedError
