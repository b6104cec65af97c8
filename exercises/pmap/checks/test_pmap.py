"""Checks for `pmap`: results, order, child processes, real parallelism, exceptions, clean-up.

Parallelism is judged by a rendezvous of distinct processes inside `fn` plus
the CPU overlap the process inspector measures, never by wall-clock speed-up
(a busy machine halves a correct speed-up; it cannot fake two processes
burning CPU at the same moment).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from functools import partial
from types import ModuleType
from typing import Any

from grader.checks import CheckFailure, Overran, ProcessWatch, call_with_deadline, deadline, tasks

#: the idle-machine floor of a call's deadline; it grows with the measured load
DEADLINE_S = 20.0

#: what a leftover's message advises
ADVICE = "Stop and join every worker before pmap returns or raises."


def _pmap(submission: ModuleType, fn: Any, items: list, workers: int,
          watch: ProcessWatch | None = None, deadline_s: float = DEADLINE_S) -> Any:
    deadline_s = deadline(deadline_s)
    try:
        return call_with_deadline(submission.pmap, fn, items, workers=workers,
                                  deadline_s=deadline_s, watch=watch)
    except Overran as exc:
        raise CheckFailure(
            "deadlock",
            f"pmap(fn, {len(items)} items, workers={workers}) did not return within "
            f"{deadline_s:.0f}s.",
            processes=[p.as_process_info(note="killed by the grader") for p in exc.watch.workers],
        ) from None


def test_results(submission: ModuleType, rng: random.Random) -> None:
    items = [rng.randrange(-10**6, 10**6) for _ in range(60)]
    for workers in (1, 2, 3):
        got = _pmap(submission, partial(tasks.times, k=3), items, workers)
        want = [x * 3 for x in items]
        assert got == want, (f"pmap(times 3, 60 numbers, workers={workers}) should return "
                             f"{want[:4]}... but returned {str(got)[:80]}.")
    got = _pmap(submission, partial(tasks.add, n=1), [], 2)
    assert got == [], f"pmap over an empty list should return [], not {got!r}."
    got = _pmap(submission, partial(tasks.add, n=1), [41], 4)
    assert got == [42], f"pmap over one item with 4 workers should return [42], not {got!r}."
    # falsy results are results: None, 0, "" and False are not "not done yet"
    count = rng.randrange(7, 13)
    got = _pmap(submission, tasks.falsy, list(range(count)), 2, deadline_s=10.0)
    want = [tasks.FALSY[i % len(tasks.FALSY)] for i in range(count)]
    assert got == want and [type(x) for x in got] == [type(x) for x in want], (
        f"pmap(f, range({count})) where f returns None, 0, '', False, [] and () should return "
        f"{want!r:.120}, but returned {got!r:.120}.")
    # results larger than a pipe's buffer: joining a worker before draining its results deadlocks
    specs = [(rng.randrange(10**9), rng.randrange(1 << 20, 3 << 20)) for _ in range(5)]
    got = _pmap(submission, tasks.make_blob, specs, 2)
    if not isinstance(got, list) or len(got) != len(specs) or any(
            not isinstance(b, bytes) or b != tasks.make_blob(spec) for b, spec in zip(got, specs)):
        raise CheckFailure("large-results", f"pmap(make_blob, {len(specs)} items, workers=2), "
                                            "whose results are 1-3 MiB each, did not return "
                                            "them unchanged and in order.")


def test_order_kept(submission: ModuleType) -> None:
    # item 0 is slow: every worker finishes later items before it
    items = [("first", 1.0)] + [(f"item{i}", 0.0) for i in range(1, 12)]
    got = _pmap(submission, tasks.sleep_then, items, 2)
    want = [value for value, _ in items]
    if got != want:
        raise CheckFailure("order", f"Results must be in input order {want[:4]}..., even when "
                                    f"a later item finishes first; got {str(got)[:100]}.")
    # items that are equal, or that cannot be hashed, are still one result each, in place
    items = [[k % 3] for k in range(8)] + [{"k": 1}, {"k": 1}, [], []]
    got = _pmap(submission, tasks.identity, items, 2)
    assert got == items, (f"pmap(identity, {items!r}) should return the items as they were "
                          f"(lists and dicts, some equal to others), but returned {got!r:.160}. "
                          "A result belongs to a position, not to an item's value.")


def test_runs_in_children(submission: ModuleType) -> None:
    for items, workers in ((list(range(20)), 2), (list(range(5)), 1), ([7], 2), ([8], 1)):
        got = _pmap(submission, tasks.pid_of, items, workers)
        assert isinstance(got, list) and [item for *_, item in got] == items, (
            f"pmap(pid_of, {len(items)} items, workers={workers}) came back wrong: {got!r:.100}")
        pids = {pid for pid, _ in got}
        if os.getpid() in pids:
            raise CheckFailure("not-processes", f"With {len(items)} item(s) and workers={workers}, "
                                                "fn ran in the calling process (a thread or a "
                                                "plain call), not in a child process. Even one "
                                                "worker or one item goes to a child: a crash in "
                                                "fn must not take the caller down.")


def test_parallel(submission: ModuleType) -> None:
    folder = tempfile.mkdtemp(prefix="pmap-meet-")
    try:
        fn = partial(tasks.meet, folder, 10.0, 0.3)
        with ProcessWatch(interval=0.01) as watch:
            got = _pmap(submission, fn, list(range(4)), 2, watch=watch, deadline_s=45)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    met = [r for r in got if isinstance(r, dict) and r.get("met")]
    pids = {r["pid"] for r in got if isinstance(r, dict)}
    overlap = watch.busy_overlap_s()
    if not met and overlap < 0.05:
        if pids == {os.getpid()} or len(pids) == 1:
            why = ("every call of fn ran in one process: threads share one interpreter lock, "
                   "so CPU-bound work in threads runs one at a time")
        else:
            why = ("fn ran in separate processes, but never two at the same time")
        raise CheckFailure(
            "not-parallel",
            f"With workers=2, no two calls of a CPU-bound fn ran at the same moment in distinct "
            f"processes: {why}. ({watch.summary()})",
            processes=[p.as_process_info() for p in watch.workers],
        )
    folder = tempfile.mkdtemp(prefix="pmap-occupy-")
    try:
        got = _pmap(submission, partial(tasks.occupy, folder, 0.2), list(range(9)), 3)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    most = max((n for n in got if isinstance(n, int)), default=0) if isinstance(got, list) else 0
    if most > 3:
        raise CheckFailure("too-many", f"With workers=3, {most} calls of fn ran at the same "
                                       "time: use `workers` worker processes, not one per item.")


def test_exceptions(submission: ModuleType) -> None:
    cases = [
        (partial(tasks.fail_on, bad=7, message="cannot take"), ValueError, "cannot take 7"),
        (partial(tasks.raise_typed, bad=3, type_name="ZeroDivisionError", message="three"),
         ZeroDivisionError, "three"),
        # str(KeyError('k')) is "'k'": rebuilding the exception from its str() adds quotes
        (partial(tasks.raise_typed, bad=5, type_name="KeyError", message="k"), KeyError,
         str(KeyError("k"))),
        # a type of the checks' own, not a built-in; and the last item, which fails after
        # every item has been handed out
        (partial(tasks.decline_on, bad=9, message="declined"), tasks.Declined, "declined 9"),
    ]
    for fn, exc_type, message in cases:
        with ProcessWatch() as watch:
            try:
                _pmap(submission, fn, list(range(10)), 2, watch=watch)
            except CheckFailure:
                raise
            except Exception as exc:
                if type(exc) is not exc_type or str(exc) != message:
                    raise CheckFailure(
                        "wrong-exception",
                        f"When fn raises {exc_type.__name__} (str {message!r}), pmap should raise "
                        f"that same type and message; it raised {type(exc).__name__}: {exc}",
                    ) from None
            else:
                raise CheckFailure("no-error", f"When fn raises {exc_type.__name__} for one "
                                               "item, pmap returned normally.")
        watch.require_no_leftovers(f"After pmap raised {exc_type.__name__}", ADVICE)


def _expect_stopped(submission: ModuleType, fn: Any, items: list, bad: int,
                    not_stopped: str) -> None:
    """pmap(fn, items) raises for item `bad` within its deadline (else "not-stopped") and
    leaves no child behind."""
    with ProcessWatch() as watch:
        start = time.monotonic()
        try:
            _pmap(submission, fn, items, 2, watch=watch, deadline_s=15)
        except CheckFailure as failure:
            if failure.kind == "deadlock":
                raise CheckFailure("not-stopped", not_stopped) from None
            raise
        except Exception:  # which exception is the `exceptions` check's business
            pass
        else:
            raise CheckFailure("no-error", f"When fn raises for item {bad}, pmap returned "
                                           "normally.")
        elapsed = time.monotonic() - start
    watch.require_no_leftovers(f"Right after pmap raised for item {bad} ({elapsed:.1f}s after "
                               "the call)", ADVICE)


def test_stops_on_error(submission: ModuleType) -> None:
    items = [(i, 3.0) for i in range(12)]  # 33 s of sleeping work if nobody stops it
    _expect_stopped(submission, tasks.fail_first, items, 0,
                    "After fn raised for item 0, pmap kept running the remaining items instead "
                    "of stopping them.")
    # a later item fails while item 0 is still running (30 s): pmap must not wait for item 0's
    # result to notice. Item 7 is in the second worker's share under any static split of 12
    # items between 2 workers (halves, or odd and even), and after about 3 s under a queue.
    bad, first_s = 7, 30.0
    _expect_stopped(submission, tasks.fail_at, [(i, bad, 0.5, first_s) for i in range(12)], bad,
                    f"fn raised for item {bad} while item 0 was still running (it takes "
                    f"{first_s:.0f} s), and pmap went on waiting for item 0 instead of "
                    "stopping: an error must be noticed when it arrives, whichever item it is, "
                    "not when the results before it are in.")


def test_nothing_left(submission: ModuleType) -> None:
    with ProcessWatch() as watch:
        _pmap(submission, tasks.burn, [2000] * 8, 2, watch=watch)
    watch.require_no_leftovers("After pmap returned", ADVICE)
    # fewer items than workers: a worker with nothing to do is a child too
    for items, workers in (([41], 4), ([], 3)):
        with ProcessWatch() as watch:
            _pmap(submission, partial(tasks.add, n=1), items, workers, watch=watch)
        watch.require_no_leftovers(f"After pmap returned for {len(items)} item(s) with "
                                   f"workers={workers}", ADVICE)


def test_mixed_calls(submission: ModuleType, rng: random.Random) -> None:
    """Hidden: item counts and worker counts drawn from the seed, none to many."""
    for _ in range(3):
        workers = rng.randrange(1, 5)
        count = rng.choice([0, 1, workers - 1, workers + 1, rng.randrange(10, 80)])
        items = [rng.randrange(-10**4, 10**4) for _ in range(max(0, count))]
        k = rng.randrange(2, 9)
        with ProcessWatch() as watch:
            got = _pmap(submission, partial(tasks.times, k=k), items, workers, watch=watch)
        want = [x * k for x in items]
        if got != want:
            raise CheckFailure("results", f"pmap(times {k}, {len(items)} items, "
                                          f"workers={workers}) returned {str(got)[:80]}, "
                                          f"expected {str(want)[:80]}.")
        watch.require_no_leftovers(
            f"After pmap({len(items)} items, workers={workers}) returned", ADVICE)
