"""A load generator of our own: CPU-bound processes that stop by themselves.

`busy_machine(per_core=2, seconds=...)` starts `per_core` processes per core,
each burning CPU until its own deadline passes (so a test that dies cannot
leave them behind for long), and kills and reaps them when the block ends.
Grades must hold on a loaded machine; this lets a test prove it. The module
owns the load, not any verdict.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Iterator


def _burn_until(deadline: float) -> None:
    total = 0
    while time.time() < deadline:
        for i in range(20000):
            total += i * i
    os._exit(0)


@contextlib.contextmanager
def busy_machine(per_core: int = 2, seconds: float = 600.0) -> Iterator[list[int]]:
    """Inside the block, `per_core` CPU burners per core run (each ends after `seconds`)."""
    ctx = multiprocessing.get_context("spawn")  # no copy of the caller's threads or locks
    deadline = time.time() + seconds
    burners = [ctx.Process(target=_burn_until, args=(deadline,), daemon=True)
               for _ in range(per_core * (os.cpu_count() or 1))]
    for proc in burners:
        proc.start()
    try:
        yield [p.pid for p in burners if p.pid is not None]
    finally:
        for proc in burners:
            if proc.is_alive():
                proc.kill()
            proc.join()
