"""Picklable work for pipeline and pool checks: stamps, large items, CPU burners, a rendezvous.

Module-level functions only (they pickle by reference under every start
method); bind arguments with `functools.partial`. Each is bounded in time.
The module owns the work a check hands to the learner's code, not verdicts.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import time
from pathlib import Path


def stamp(item: list) -> list:
    """Append this process's pid: a stage's output tells which process ran it."""
    return [*item, os.getpid()]


def add(item: int, n: int = 1) -> int:
    return item + n


#: what `falsy` returns, by item modulo 6: falsy results a pmap must not take for "not done"
FALSY = (None, 0, "", False, [], ())


def falsy(item: int) -> object:
    """A falsy result (None, 0, "", False, [] or ()), chosen by the item."""
    return FALSY[item % len(FALSY)]


def identity(item: object) -> object:
    return item


def times(item: int, k: int = 2) -> int:
    return item * k


def make_blob(spec: tuple[int, int]) -> bytes:
    """`(seed, size)` -> `size` pseudo-random bytes (deterministic for the seed)."""
    seed, size = spec
    return random.Random(seed).randbytes(size)


def reverse_bytes(data: bytes) -> bytes:
    return data[::-1]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fail_on(item: int, bad: int, message: str = "cannot take") -> int:
    """Return `item`, except raise ValueError(f"{message} {bad}") for `bad`."""
    if item == bad:
        raise ValueError(f"{message} {bad}")
    return item


def raise_typed(item: int, bad: int, type_name: str, message: str) -> int:
    """Return `item`, except raise the built-in `type_name` with `message` for `bad`."""
    import builtins

    if item == bad:
        raise getattr(builtins, type_name)(message)
    return item


def exit_on(item: int, bad: int, code: int = 7) -> int:
    """Return `item`, except end the process with `os._exit(code)` on `bad`."""
    if item == bad:
        os._exit(code)
    return item


def kill_on(item: int, bad: int) -> int:
    """Return `item`, except die by SIGKILL on `bad`."""
    if item == bad:
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(5)
    return item


def burn(n: int) -> int:
    """CPU-bound, pure Python (holds the interpreter lock): a sum over `n` steps."""
    total = 0
    for i in range(n):
        total = (total + i * i) % 1_000_003
    return total


def pid_of(item: object) -> tuple[int, object]:
    return os.getpid(), item


def meet(folder: str, wait_s: float, cpu_s: float, item: int) -> dict:
    """A CPU-bound rendezvous: did another process run this function at the same time?

    Marks `folder/<pid>` then burns CPU until a mark of another pid appears (or
    `wait_s` passes, or some task already gave up), then burns `cpu_s` more CPU
    seconds so a CPU sampler sees the overlap. Threads of one process share a
    pid, so they never meet: only distinct processes running at once do.
    """
    pid = os.getpid()
    base = Path(folder)
    (base / str(pid)).touch()
    gave_up = base / "gave-up"
    start = time.monotonic()
    met = False
    deadline = start + wait_s
    while time.monotonic() < deadline and not gave_up.exists():
        burn(20_000)
        if any(p.name.isdigit() and p.name != str(pid) for p in base.iterdir()):
            met = True
            break
    if not met:
        gave_up.touch()
    cpu_start = time.process_time()
    end = time.monotonic() + max(wait_s, 1.0)
    while time.process_time() - cpu_start < cpu_s and time.monotonic() < end:
        burn(20_000)
    return {"item": item, "pid": pid, "met": met, "waited_s": time.monotonic() - start}


def sleep_then(spec: tuple[object, float]) -> object:
    """`(value, seconds)` -> `value` after sleeping `seconds`: makes completion order differ."""
    value, seconds = spec
    time.sleep(seconds)
    return value


def fail_first(item: tuple[int, float]) -> int:
    """`(i, seconds)`: item 0 raises ValueError at once; the others sleep `seconds` and return i."""
    i, seconds = item
    if i == 0:
        raise ValueError("item 0 is refused")
    time.sleep(seconds)
    return i


def fail_at(item: tuple[int, int, float, float]) -> int:
    """`(i, bad, seconds, first_s)`: item `bad` raises ValueError at once; item 0 sleeps
    `first_s` and the others `seconds`; each returns i."""
    i, bad, seconds, first_s = item
    if i == bad:
        raise ValueError(f"item {bad} is refused")
    time.sleep(first_s if i == 0 else seconds)
    return i


def occupy(folder: str, seconds: float, _item: object = None) -> int:
    """Mark this task as running for `seconds`; return how many tasks were running at the end.

    A pool that runs more tasks at once than it should returns counts above its
    worker count. Marks are per task (pid plus a counter), removed on return.
    """
    base = Path(folder)
    mark = base / f"run-{os.getpid()}-{time.monotonic_ns()}"
    mark.touch()
    try:
        time.sleep(seconds)
        return sum(1 for p in base.iterdir() if p.name.startswith("run-"))
    finally:
        mark.unlink()


class Refused(Exception):
    """An exception of no built-in type whose constructor `str()` cannot feed.

    `Refused(item, why)` reads "why item"; unpickling it (which calls
    `Refused("why item")`) fails, so forwarding the exception object itself
    across a pipe breaks, and forwarding its type name and message works.
    """

    def __init__(self, item: object, why: str) -> None:
        super().__init__(f"{why} {item}")
        self.item = item


class Declined(Exception):
    """An exception of the checks' own (no built-in type) that pickles like any other."""


def decline_on(item: int, bad: int, message: str = "declined") -> int:
    """Return `item`, except raise `Declined(f"{message} {item}")` on `bad`."""
    if item == bad:
        raise Declined(f"{message} {item}")
    return item


def refuse_on(item: int, bad: int, why: str = "refused") -> int:
    """Return `item`, except raise `Refused(bad, why)` on `bad`."""
    if item == bad:
        raise Refused(item, why)
    return item


def tagged(spec: tuple[int, int]) -> tuple[int, bytes]:
    """`(i, size)` -> `(i, size bytes)`: numbered items of a chosen size."""
    i, size = spec
    return i, bytes([i % 251]) * size


def fail_tagged(item: tuple[int, bytes], bad: int, message: str = "cannot take") -> tuple:
    """Pass a `tagged` item on, except raise ValueError(f"{message} {bad}") for number `bad`."""
    if item[0] == bad:
        raise ValueError(f"{message} {bad}")
    return item
