"""Checks of the `bounded-buffer` exercise: FIFO rules, blocking, interleavings, CPU use."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from types import SimpleNamespace

from grader.checks import CheckFailure, cpu_seconds, stress, thread_cpu_clock

# A blocked thread is watched for at least BLOCKED_SECONDS ("blocked for a second"), and
# longer on a loaded machine: until a reference thread that spins the way a polling waiter
# does (sleep(0) in a loop, competing for the same interpreter lock) has had
# OPPORTUNITY_SECONDS of CPU, five times the limit, so a spinning thread had the CPU to show
# itself whatever the load and however many threads share the lock. The watch ends early
# once a blocked thread is over the limit.
BLOCKED_SECONDS = 1.0
OPPORTUNITY_SECONDS = 0.25
MAX_WINDOW_SECONDS = 15.0
CPU_LIMIT_SECONDS = 0.05
# Schedules per scenario. With 300 the known-buggy buffers were caught on the first schedule
# under 20 seeds; 120 keeps a wide margin and the whole grading under 5 s.
RUNS = 120


class _Call:
    """One call made in a daemon thread: did it return, with what, and at what CPU cost."""

    def __init__(self, fn, name: str) -> None:
        self.done = threading.Event()
        self.started = threading.Event()
        self.value = None
        self.error: BaseException | None = None
        self.cpu = 0.0
        self._fn = fn
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        start = time.thread_time()
        self.started.set()
        try:
            self.value = self._fn()
        except BaseException as exc:
            self.error = exc
        finally:
            self.cpu = time.thread_time() - start
            self.done.set()

    def result(self, seconds: float, what: str):
        if not self.done.wait(seconds):
            raise CheckFailure("hang", f"{what} was still blocked {seconds:.0f} s later.")
        if self.error is not None:
            raise self.error
        return self.value


# -- functional rules -----------------------------------------------------------------


def test_fifo_and_len(submission):
    buf = submission.BoundedBuffer(3)
    assert len(buf) == 0, f"A new buffer must have len 0, got {len(buf)}."
    for item in ("a", None, 3):
        buf.put(item)
    assert len(buf) == 3, f"After three puts len() must be 3, got {len(buf)}."
    first = buf.get()
    assert first == "a", f"The first item put was 'a', but get() returned {first!r}."
    assert len(buf) == 2, f"After one get len() must be 2, got {len(buf)}."
    buf.put("d")
    got = [buf.get() for _ in range(3)]
    assert got == [None, 3, "d"], (
        f"Items must come out in the order they went in (None is an item too): expected "
        f"[None, 3, 'd'], got {got!r}."
    )
    assert len(buf) == 0, f"An emptied buffer must have len 0, got {len(buf)}."
    one = submission.BoundedBuffer(1)
    one.put([1])
    assert one.get() == [1] and len(one) == 0, "A buffer of capacity 1 must hold one item."


def test_capacity_validated(submission):
    for capacity in (0, -1):
        try:
            submission.BoundedBuffer(capacity)
        except ValueError:
            continue
        raise AssertionError(f"BoundedBuffer({capacity}) must raise ValueError.")


def test_blocking(submission):
    empty = submission.BoundedBuffer(1)
    full = submission.BoundedBuffer(2)
    full.put(1)
    full.put(2)
    getter = _Call(empty.get, "consumer")
    putter = _Call(lambda: full.put(3), "producer")
    # Nothing can wake either thread yet, so neither may finish: waiting can only make a
    # wrong buffer pass, never a correct one fail.
    getter.done.wait(0.3)
    if getter.done.is_set():
        raise CheckFailure("assertion", "get() on an empty buffer returned "
                           f"{getter.value!r} (or raised {getter.error!r}) instead of waiting.")
    if putter.done.is_set():
        raise CheckFailure("assertion", "put() on a full buffer returned instead of waiting "
                           "for room.")
    empty.put("x")
    got = getter.result(10, "get() after a put into its empty buffer")
    assert got == "x", f"The waiting get() must return the item put, 'x'; got {got!r}."
    first = full.get()
    assert first == 1, f"get() on a full buffer must return the oldest item, 1; got {first!r}."
    putter.result(10, "put() after a get made room")
    rest = [full.get(), full.get()]
    assert rest == [2, 3], f"After the blocked put finished the buffer must hold [2, 3], got {rest}."


def _read(clocks) -> dict:
    """CPU seconds used so far by each call whose thread has a readable clock (a call whose
    thread ended is left out: its own measure decides)."""
    return {call: used for call, clock in clocks.items()
            if (used := cpu_seconds(clock)) is not None}


def _measurement_window(calls) -> tuple[float, dict]:
    """Wait while the blocked `calls` are measured.

    Returns the window's length in seconds and the CPU each call had used by its end, for the
    calls whose thread can be read from outside (the others measure themselves when they
    return). A reference thread spins with sleep(0), as a polling waiter does; the window
    closes after BLOCKED_SECONDS once that thread had OPPORTUNITY_SECONDS of CPU (a loaded
    machine or many spinning threads lengthen it), or as soon as a blocked call is over the
    limit.
    """
    stop = threading.Event()
    used = [0.0]

    def reference() -> None:
        start = time.thread_time()
        while not stop.is_set():
            time.sleep(0)
            used[0] = time.thread_time() - start

    clocks = {call: clock for call in calls if (clock := thread_cpu_clock(call.thread)) is not None}
    started = time.monotonic()
    threading.Thread(target=reference, name="cpu-reference", daemon=True).start()
    try:
        while True:
            cpu = _read(clocks)
            elapsed = time.monotonic() - started
            if (elapsed >= MAX_WINDOW_SECONDS
                    or any(value > CPU_LIMIT_SECONDS for value in cpu.values())
                    or (elapsed >= BLOCKED_SECONDS and used[0] >= OPPORTUNITY_SECONDS)):
                return elapsed, cpu
            stop.wait(0.02)
    finally:
        stop.set()


def test_no_spin(submission, rng):
    # Several consumers blocked on one empty buffer and several producers on one full buffer
    # (2 or 3 of each, from the seed): threads that keep waking each other up are spinning too,
    # so the CPU of every blocked thread is measured.
    consumers, producers = rng.randrange(2, 4), rng.randrange(2, 4)
    capacity = rng.randrange(1, 5)
    empty = submission.BoundedBuffer(capacity)
    full = submission.BoundedBuffer(capacity)
    for k in range(capacity):
        full.put(("old", k))
    getters = [_Call(empty.get, f"consumer-{k}") for k in range(consumers)]
    putters = [_Call(lambda k=k: full.put(("new", k)), f"producer-{k}") for k in range(producers)]
    calls = getters + putters
    for call in calls:
        call.started.wait(10)
    window, blocked_cpu = _measurement_window(calls)
    if any(call.done.is_set() for call in calls):
        raise CheckFailure("assertion", "A get() on an empty buffer or a put() on a full one "
                           "returned instead of waiting.")
    for k in range(consumers):
        empty.put(("x", k))
    for _ in range(producers):
        full.get()
    for call in getters:
        call.result(10, "get() after a put")
    for call in putters:
        call.result(10, "put() after a get")
    for who, group in (("get()", getters), ("put()", putters)):
        for call in group:
            cpu = blocked_cpu.get(call, call.cpu)
            if cpu > CPU_LIMIT_SECONDS:
                raise CheckFailure(
                    "spin",
                    f"With {consumers} get() calls blocked on an empty buffer and {producers} "
                    f"put() calls blocked on a full one (capacity {capacity}), a {who} blocked "
                    f"for {window:.1f} s used {cpu * 1000:.0f} ms of CPU (allowed: "
                    f"{CPU_LIMIT_SECONDS * 1000:.0f} ms): it keeps checking, or keeps being "
                    f"woken, instead of sleeping until there is something for it.",
                )


# -- interleavings (explorer) ---------------------------------------------------------


def _traffic(submission, capacity: int, producers: int, consumers: int, items: int):
    """Producers put `items` tagged items each; consumers share the same total between them."""
    total = producers * items
    shares = [total // consumers + (1 if k < total % consumers else 0) for k in range(consumers)]

    def setup():
        return SimpleNamespace(buf=submission.BoundedBuffer(capacity),
                               got=[[] for _ in range(consumers)], sizes=[], events=[])

    def producer(p: int):
        def run(s):
            for i in range(items):
                s.events.append(("put-start", (p, i)))
                s.buf.put((p, i))
                s.events.append(("put-end", (p, i)))
                s.sizes.append(len(s.buf))

        run.__name__ = f"producer_{p}"
        return run

    def consumer(c: int):
        def run(s):
            for k in range(shares[c]):
                s.events.append(("get-start", (c, k)))
                item = s.buf.get()
                s.events.append(("get-end", (c, k), item))
                s.got[c].append(item)
                s.sizes.append(len(s.buf))

        run.__name__ = f"consumer_{c}"
        return run

    threads = [producer(p) for p in range(producers)] + [consumer(c) for c in range(consumers)]
    expected = sorted((p, i) for p in range(producers) for i in range(items))
    return setup, threads, expected


class _Shown(str):
    """Text shown as it is in a message (the repr of an item that is not a pair)."""

    def __repr__(self) -> str:
        return str(self)


def _sortable(item) -> tuple:
    """A key that orders the (producer, number) items and whatever else a buffer gave back
    (None, a list, ...), so that the check reports the learner's result instead of failing
    to sort it."""
    if isinstance(item, tuple) and len(item) == 2 and all(type(x) is int for x in item):
        return (0, item)
    return (1, repr(item))


def _delivered_once_in_order(expected):
    def invariant(s):
        taken = [item for items in s.got for item in items]
        keys = sorted(_sortable(item) for item in taken)
        if keys != [(0, x) for x in expected]:
            got = [key[1] if key[0] == 0 else _Shown(key[1]) for key in keys]
            counts: dict = defaultdict(int)
            for key in keys:
                counts[key] += 1
            lost = [x for x in expected if (0, x) not in counts]
            twice = [key[1] if key[0] == 0 else _Shown(key[1])
                     for key, n in counts.items() if n > 1]
            raise AssertionError(
                f"Items (producer, number) put: {expected}; taken: {got}. "
                f"Lost: {lost}; taken twice: {twice}."
            )
        for c, items in enumerate(s.got):
            for p in {p for p, _ in items}:
                mine = [i for q, i in items if q == p]
                assert mine == sorted(mine), (
                    f"Consumer {c} received producer {p}'s items in the order {mine}: "
                    f"a later item overtook an earlier one (not first in, first out)."
                )
        assert len(s.buf) == 0, f"Every item was taken, but len() is {len(s.buf)}."
        overtaken = _overtaken(getattr(s, "events", []))
        assert not overtaken, overtaken

    return invariant


def _overtaken(events: list) -> str:
    """First in, first out across all producers: a sentence on the first item overtaken, or "".

    If put(a) returned before put(b) started, a must leave first: the get that took b must
    not have returned before the get that took a started. Only orders that the calls
    themselves fix are judged, so a correct buffer never fails it.
    """
    at = {}
    taken_by = {}
    for position, event in enumerate(events):
        at[event[0], event[1]] = position
        if event[0] == "get-end":
            taken_by[event[2]] = event[1]
    for a, get_a in taken_by.items():
        for b, get_b in taken_by.items():
            if a == b or ("put-end", a) not in at or ("put-start", b) not in at:
                continue
            if at["put-end", a] < at["put-start", b] and at["get-end", get_b] < at["get-start", get_a]:
                return (f"Item {a} was put before item {b} was, but {b} was taken out first "
                        f"(the get that took {b} had returned before the get that took {a} "
                        f"began): the first item in must be the first one out, across all "
                        f"producers.")
    return ""


class _Producer:
    """A producer thread that lives through several turns: it puts what it is handed."""

    def __init__(self, buf, index: int) -> None:
        self.index = index
        self._buf = buf
        self._go = threading.Semaphore(0)
        self._done = threading.Semaphore(0)
        self._item = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"producer-{index}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            self._go.acquire()
            if self._item is None:
                return
            try:
                self._buf.put(self._item)
            except BaseException as exc:  # noqa: BLE001 - reported by the check
                self.error = exc
            self._done.release()

    def put(self, item) -> None:
        self._item = item
        self._go.release()
        if not self._done.acquire(timeout=10):
            raise CheckFailure("hang", f"put({item!r}) into a buffer with room for it did not "
                                       "return within 10 s.")
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        self._item = None
        self._go.release()
        self.thread.join(10)


def _producers_taking_turns(submission, order: list[int]) -> None:
    """Producers that keep their threads put one item each in `order`, one after the other
    (each put returns before the next starts); the items must come out in that order."""
    buf = submission.BoundedBuffer(len(order))
    producers = {p: _Producer(buf, p) for p in sorted(set(order))}
    put = []
    try:
        for p in order:
            item = (p, sum(1 for q, _ in put if q == p))
            producers[p].put(item)
            put.append(item)
    finally:
        for producer in producers.values():
            producer.stop()
    got = [buf.get() for _ in put]
    assert got == put, (
        f"{len(producers)} producer threads put {put} one after the other (each put returned "
        f"before the next began); get() returned {got}. The first item in must be the first "
        f"one out, whichever thread put it."
    )


def test_no_loss_no_duplication(submission, explorer, rng):
    # Producers taking turns, each with its own thread: a fixed order, then one from the seed.
    # A buffer that keeps items per producer (and serves the producers in some order of its
    # own) gives them back in another order, whatever the interleaving.
    _producers_taking_turns(submission, [0, 1, 1, 0])
    producers = rng.randrange(2, 4)
    order = list(range(producers)) + [rng.randrange(producers) for _ in range(rng.randrange(3, 6))]
    rng.shuffle(order)
    _producers_taking_turns(submission, order)
    # Capacity 1, then a capacity of 2 to 4 from the seed with more items than it holds.
    for capacity, producers, consumers, items in (
            (1, 2, 2, 2), (rng.randrange(2, 5), 2, rng.choice((1, 2)), 3)):
        setup, threads, expected = _traffic(submission, capacity, producers=producers,
                                            consumers=consumers, items=items)
        explorer.check(setup, threads, invariant=_delivered_once_in_order(expected), runs=RUNS,
                       name=f"capacity {capacity}, {producers} producers x {items} items, "
                            f"{consumers} consumer(s)")


def test_capacity_respected(submission, explorer):
    # 1, then 3: not a power of two (a ring rounded up to one holds more), under every seed;
    # 5 would do too, at twice the cost
    for capacity in (1, 3):
        producers = 3 if capacity == 1 else 2
        items = 1 if capacity == 1 else capacity
        setup, threads, expected = _traffic(submission, capacity, producers=producers,
                                            consumers=1, items=items)
        delivered = _delivered_once_in_order(expected)

        def invariant(s, capacity=capacity, delivered=delivered):
            over = [n for n in s.sizes if n > capacity]
            assert not over, (
                f"A buffer of capacity {capacity} held {max(over)} items: a put did not wait "
                f"for room."
            )
            delivered(s)

        explorer.check(setup, threads, invariant=invariant, runs=RUNS,
                       name=f"capacity {capacity}, {producers} producers x {items} items")


def test_no_lost_wakeup(submission, explorer, rng):
    for capacity, producers, consumers, items in (
            (1, 2, 2, 3), (rng.randrange(1, 3), rng.choice((2, 3)), 2, 2)):
        setup, threads, expected = _traffic(submission, capacity, producers=producers,
                                            consumers=consumers, items=items)
        explorer.check(setup, threads, invariant=_delivered_once_in_order(expected), runs=RUNS,
                       name=f"capacity {capacity}, {producers} producers x {items} items, "
                            f"{consumers} consumers")


# -- real threads (a second opinion) --------------------------------------------------


def test_stress(submission, rng):
    # 9 to 16 threads in all, a capacity of 1 to 4, from the seed.
    # About 600 items in all, whatever the thread count: more threads, not more work.
    producers, consumers = rng.randrange(4, 9), rng.randrange(5, 9)
    items = 600 // producers
    total = producers * items
    shares = [total // consumers + (1 if k < total % consumers else 0) for k in range(consumers)]
    buf = submission.BoundedBuffer(rng.randrange(1, 5))
    got: list[list] = [[] for _ in range(consumers)]

    def produce(p: int):
        def body(buf) -> None:
            for i in range(items):
                buf.put((p, i))
        return body

    def consume(c: int):
        def body(buf) -> None:
            for _ in range(shares[c]):
                got[c].append(buf.get())
        return body

    bodies = [produce(p) for p in range(producers)] + [consume(c) for c in range(consumers)]
    outcome = stress(lambda: buf, bodies, runs=1, switch_interval=None, within=20)
    outcome.raise_problem(lambda stuck: f"{stuck} of {len(bodies)} producer and consumer "
                                        f"threads were still blocked after 20 s.")
    _delivered_once_in_order(sorted((p, i) for p in range(producers) for i in range(items)))(
        SimpleNamespace(got=got, buf=buf)
    )
