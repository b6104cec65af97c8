"""Checks of the `rwlock` exercise: exclusion, sharing and writer preference.

Who-goes-first checks run on real threads: they wait (with generous timeouts) until a
thread is provably blocked inside the learner's acquire call (its stack has not moved and
the OS reports it sleeping) before the next thread arrives, so a slow machine cannot make a
correct lock fail. Exclusion is checked under the interleaving explorer.
"""

from __future__ import annotations

import sys
import threading
import time
from types import SimpleNamespace

from grader.checks import CheckFailure, cpu_seconds, thread_cpu_clock
from grader.explore import runtime
from grader.explore import sync as modelled

PATIENCE = 5.0  # seconds a correct lock may take to let a thread in, on a loaded machine
# CPU seconds a thread may use inside an acquire before it counts as polling (waiting)
SPIN_CPU_SECONDS = 0.05
# Under the explorer: scheduling points in a row without a store after which a running thread
# counts as polling (waiting); a lock's own steps before it waits are a handful
POLL_STEPS = 100


class _Actor:
    """A thread that acquires (and later releases) the lock on command, logging its entry."""

    def __init__(self, lock, kind: str, name: str, log: list[str]) -> None:
        self.lock, self.kind, self.name, self.log = lock, kind, name, log
        self.inside = threading.Event()
        self.leave = threading.Event()
        self.left = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            if self.kind == "read":
                self.lock.acquire_read()
            else:
                self.lock.acquire_write()
            self.log.append(self.name)
            self.inside.set()
            self.leave.wait()
            if self.kind == "read":
                self.lock.release_read()
            else:
                self.lock.release_write()
        except BaseException as exc:
            self.error = exc
        finally:
            self.left.set()

    def enters(self, what: str) -> None:
        if not self.inside.wait(PATIENCE):
            self._raise()
            raise CheckFailure("hang", f"{what} was still waiting {PATIENCE:.0f} s later.")

    def release(self, what: str) -> None:
        self.leave.set()
        if not self.left.wait(PATIENCE):
            raise CheckFailure("hang", f"{what} did not return within {PATIENCE:.0f} s.")
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


def _os_state(thread: threading.Thread) -> str:
    try:
        with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def _stack(thread: threading.Thread) -> tuple | None:
    frame = sys._current_frames().get(thread.ident)
    out = []
    while frame is not None:
        out.append((frame.f_code, frame.f_lasti))
        frame = frame.f_back
    return tuple(out) if out else None


def _wait_blocked(actor: _Actor, method: str) -> None:
    """Return once `actor` waits inside `method`, and stays so; fail if it gets in.

    Waiting is sleeping with a stack that does not move, or, for a lock whose waiters poll
    (the contract allows it), using SPIN_CPU_SECONDS of CPU inside the call without getting
    in: far more than any lock's bookkeeping before it waits."""
    deadline = time.monotonic() + PATIENCE
    steady, last = 0, None
    clock: int | None = None  # the actor's CPU clock, asked for once it runs its acquire
    cpu_at_start: float | None = None
    while time.monotonic() < deadline:
        if actor.inside.is_set() or actor.left.is_set():
            return  # it got in: the caller's order check will judge that
        stack = _stack(actor.thread)
        # Without /proc (not Linux) only the unmoving stack is evidence.
        asleep = _os_state(actor.thread) in ("S", "D", "?")
        # Before it is inside, the actor's only blocking call is the acquire (whatever the
        # learner named the functions behind it), so a sleeping, unmoving actor that has
        # entered its run loop is blocked in `method`.
        started = stack is not None and any(code is _Actor._run.__code__ for code, _ in stack)
        if asleep and started and stack == last:
            steady += 1
            if steady >= 3:
                return
        else:
            steady = 0
        last = stack
        if started and clock is None:
            clock = thread_cpu_clock(actor.thread)
            cpu_at_start = cpu_seconds(clock)
        elif started and cpu_at_start is not None:
            cpu = cpu_seconds(clock)
            if cpu is not None and cpu - cpu_at_start >= SPIN_CPU_SECONDS:
                return  # it polls
        # Polling interval: gives the observed thread the interpreter lock to move on.
        threading.Event().wait(0.02)
    raise CheckFailure("hang", f"{actor.name} neither got the lock nor settled into waiting "
                               f"within {PATIENCE:.0f} s.")


def _first_inside(actors: list[_Actor]) -> _Actor | None:
    """The first of `actors` (not yet released) to get the lock, waiting up to PATIENCE."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        for actor in actors:
            if actor.inside.is_set() and not actor.leave.is_set():
                return actor
            if actor.error is not None:
                raise actor.error
        threading.Event().wait(0.005)
    return None


def _release_all(*actors: _Actor) -> None:
    for actor in actors:
        actor.leave.set()


# -- real threads ---------------------------------------------------------------------


def test_writer_excludes(submission):
    lock = submission.RWLock()
    log: list[str] = []
    writer = _Actor(lock, "write", "writer", log)
    writer.enters("acquire_write() on a free lock")
    reader = _Actor(lock, "read", "reader", log)
    other = _Actor(lock, "write", "second writer", log)
    try:
        _wait_blocked(reader, "acquire_read")
        _wait_blocked(other, "acquire_write")
        if reader.inside.is_set() or other.inside.is_set():
            who = "A reader" if reader.inside.is_set() else "A second writer"
            raise CheckFailure("entered", f"{who} got the lock while a writer held it.")
        writer.release("release_write()")
        # Either waiting thread may go first (the reader arrived before the second writer
        # waited), but one of them must, and never both at once.
        for _ in range(2):
            first = _first_inside([reader, other])
            if first is None:
                raise CheckFailure("hang", f"After the writer released the lock, neither waiting "
                                           f"thread got in within {PATIENCE:.0f} s.")
            if reader.inside.is_set() and other.inside.is_set() and not (
                    reader.left.is_set() or other.left.is_set()):
                raise CheckFailure("entered", "A reader and a writer held the lock together.")
            first.release("release_read()" if first is reader else "release_write()")
    finally:
        _release_all(writer, reader, other)


def test_readers_share(submission):
    lock = submission.RWLock()
    log: list[str] = []
    first = _Actor(lock, "read", "first reader", log)
    first.enters("acquire_read() on a free lock")
    second = _Actor(lock, "read", "second reader", log)
    try:
        second.enters("A second acquire_read() while another reader held the lock")
        first.release("release_read()")
        second.release("release_read()")
        writer = _Actor(lock, "write", "writer", log)
        writer.enters("acquire_write() after both readers left")
        writer.release("release_write()")
    finally:
        _release_all(first, second)


def test_context_managers(submission, explorer):
    lock = submission.RWLock()
    log: list[str] = []
    with lock.read_locked():
        # The reader first, and the writer only once the reader is in and out: writers are
        # preferred, so a writer already waiting would rightly keep the reader out.
        reader = _Actor(lock, "read", "reader", log)
        try:
            reader.enters("acquire_read() inside a read_locked() block")
            reader.release("release_read()")
        finally:
            _release_all(reader)
        writer = _Actor(lock, "write", "writer", log)
        try:
            _wait_blocked(writer, "acquire_write")
            if writer.inside.is_set():
                raise CheckFailure("entered", "A writer got in during a read_locked() block.")
        finally:
            _release_all(writer)
    writer.enters("A writer, after the read_locked() block ended,")
    writer.release("release_write()")

    class Oops(Exception):
        pass

    propagated = False
    try:
        with lock.write_locked():
            reader = _Actor(lock, "read", "reader", log)
            _wait_blocked(reader, "acquire_read")
            if reader.inside.is_set():
                raise CheckFailure("entered", "A reader got in during a write_locked() block.")
            raise Oops
    except Oops:
        propagated = True
    assert propagated, (
        "An exception raised inside a write_locked() block must come out of the with "
        "statement; it was swallowed."
    )
    reader.enters("A reader, after a write_locked() block that raised,")
    reader.release("release_read()")

    # Nested blocks on two locks, the exception propagating out of both.
    other = submission.RWLock()
    propagated = False
    try:
        with other.write_locked():
            with lock.read_locked():
                raise Oops
    except Oops:
        propagated = True
    assert propagated, (
        "An exception raised inside nested read_locked() and write_locked() blocks (of two "
        "locks) must come out of both; it was swallowed."
    )
    for which, target in (("the first lock", lock), ("the second lock", other)):
        writer = _Actor(target, "write", "writer", log)
        writer.enters(f"A writer on {which}, after nested blocks that raised,")
        writer.release("release_write()")

    # Whatever the exception's type: an __exit__ that swallows "expected" ones (a KeyError
    # taken for a miss, an OSError, a StopIteration) hides the caller's error.
    for error in (KeyError("k"), IndexError(3), ValueError("v"), TypeError("t"),
                  OSError(5, "io"), RuntimeError("r"), StopIteration(), ArithmeticError("a")):
        for how, block in (("read_locked", lock.read_locked),
                           ("write_locked", lock.write_locked)):
            try:
                with block():
                    raise error
            except type(error) as caught:
                if caught is not error:
                    raise AssertionError(
                        f"{type(error).__name__}({error}) raised inside a {how}() block came "
                        f"out as another exception, {caught!r}.") from None
            else:
                raise AssertionError(
                    f"{type(error).__name__}({error}) raised inside a {how}() block must come "
                    f"out of the with statement; it was swallowed.")
    writer = _Actor(lock, "write", "writer", log)
    writer.enters("A writer, after blocks that raised,")
    writer.release("release_write()")

    # Concurrent blocks of both kinds under the explorer, each raising out of its block.
    def concurrent(kind: str, name: str):
        def run(s):
            try:
                with (s.lock.read_locked() if kind == "read" else s.lock.write_locked()):
                    if kind == "read":
                        s.readers += 1
                        if s.writers:
                            s.bad.append(f"{name} got in while a writer held the lock")
                    else:
                        s.writers += 1
                        if s.writers > 1 or s.readers:
                            s.bad.append(f"{name} got in while {s.readers} reader(s) and "
                                         f"{s.writers - 1} other writer(s) held the lock")
                    _pause()
                    if kind == "read":
                        s.readers -= 1
                    else:
                        s.writers -= 1
                    raise Oops
            except Oops:
                s.propagated.append(name)

        run.__name__ = name
        return run

    def setup():
        return SimpleNamespace(lock=submission.RWLock(), readers=0, writers=0, bad=[],
                               propagated=[])

    names = [("read", "reader_1"), ("write", "writer_1"), ("read", "reader_2")]
    threads = [concurrent(kind, name) for kind, name in names]

    def invariant(s):
        assert not s.bad, (s.bad[0] + ", in read_locked() and write_locked() blocks running "
                           "at the same time.")
        missing = sorted({name for _, name in names} - set(s.propagated))
        assert not missing, (
            f"The exception raised in {missing[0]}'s with block did not come out of it."
        )

    explorer.check(setup, threads, invariant=invariant,
                   name="read_locked() and write_locked() blocks at the same time, each raising")


def test_writer_preference(submission, explorer, rng):
    lock = submission.RWLock()
    log: list[str] = []
    early = _Actor(lock, "read", "reader already inside", log)
    early.enters("acquire_read() on a free lock")
    writer = _Actor(lock, "write", "writer", log)
    late = None
    try:
        _wait_blocked(writer, "acquire_write")
        late = _Actor(lock, "read", "reader arriving after the writer", log)
        _wait_blocked(late, "acquire_read")
        early.release("release_read()")
        writer.enters("The waiting writer, after the last reader left,")
        writer.release("release_write()")
        late.enters("The late reader, after the writer finished,")
        late.release("release_read()")
    finally:
        _release_all(early, writer, *([late] if late else []))
    if log.index("writer") > log.index("reader arriving after the writer"):
        raise CheckFailure("order", "A reader that arrived while a writer was waiting got the "
                                    "lock before that writer: the order was " + " -> ".join(log))
    # Several waiting writers (2 or 3) and a stream of readers arriving after them (1 or 2),
    # under the explorer: the lock passes from writer to writer before any of those readers.
    # A reader holds the lock while the writers arrive; each later reader arrives only once
    # every writer not yet in provably waits inside acquire_write (the explorer knows who is
    # blocked), and the first reader leaves only once those readers wait or are done.
    _writers_first(submission, explorer, rng.choice((2, 3)), rng.choice((1, 2)))


def _writers_first(submission, explorer, writers: int, readers: int) -> None:
    def setup():
        return SimpleNamespace(lock=submission.RWLock(), entered=[], bad=[])

    writer_names = [f"writer_{k + 1}" for k in range(writers)]
    writer_threads = [f"T{k + 2}" for k in range(writers)]  # T1 is the first reader
    reader_threads = [f"T{writers + 2 + k}" for k in range(readers)]

    def first_reader(s):
        s.lock.acquire_read()
        _until_waiting(writer_threads, "acquire_write()")
        _until_waiting(reader_threads, "acquire_read()")
        s.lock.release_read()

    def writer(name: str):
        def run(s):
            s.lock.acquire_write()
            s.entered.append(name)
            _pause()
            s.lock.release_write()

        run.__name__ = name
        return run

    def reader(name: str):
        def run(s):
            _until_waiting([t for t, w in zip(writer_threads, writer_names)
                            if w not in s.entered], "acquire_write()")
            waiting = [w for w in writer_names if w not in s.entered]
            s.lock.acquire_read()
            overtaken = [w for w in waiting if w not in s.entered]
            if overtaken:
                s.bad.append(f"{name} arrived while {', '.join(waiting)} waited to write, "
                             f"and got in before {overtaken[0]} had written")
            _pause()
            s.lock.release_read()

        run.__name__ = name
        return run

    threads = [first_reader, *(writer(w) for w in writer_names),
               *(reader(f"reader_{k + 2}") for k in range(readers))]

    def invariant(s):
        assert not s.bad, s.bad[0] + ": readers that arrive after a waiting writer wait."

    explorer.check(setup, threads, invariant=invariant,
                   name=f"{writers} waiting writers, then {readers} reader(s) arriving")


def test_writer_handoff(submission, explorer):
    _handoff_under_interleavings(submission, explorer)
    lock = submission.RWLock()
    log: list[str] = []
    first = _Actor(lock, "write", "first writer", log)
    first.enters("acquire_write() on a free lock")
    second = _Actor(lock, "write", "waiting writer", log)
    reader = None
    try:
        _wait_blocked(second, "acquire_write")
        reader = _Actor(lock, "read", "reader arriving after it", log)
        _wait_blocked(reader, "acquire_read")
        first.release("release_write()")
        second.enters("The waiting writer, after the first writer released,")
        second.release("release_write()")
        reader.enters("The reader, after both writers finished,")
        reader.release("release_read()")
    finally:
        _release_all(first, second, *([reader] if reader else []))
    if log.index("waiting writer") > log.index("reader arriving after it"):
        raise CheckFailure("order", "When a writer released the lock, a reader that arrived "
                                    "after another writer was waiting went first: the order "
                                    "was " + " -> ".join(log))


# -- interleavings (explorer) ---------------------------------------------------------


def _until_waiting(threads: list[str], what: str) -> None:
    """Under the explorer: disable the calling thread (not spinning) until each of `threads`
    (scheduler names, T1, T2, ...) waits inside the learner's call or has ended, and nothing
    but such waiting can happen: no other thread can run or is about to wake. A thread that
    polls without sleeping (POLL_STEPS scheduling points in a row, nothing stored) waits as
    well: it runs, but nothing it does changes anything. Then "it waits"
    is a fact about the lock, not about how far its code got (a writer stalled on the lock's
    own mutex, held by a thread that can still run, has not started waiting yet), whatever
    the scheduler, or a timeout it fired early, did before."""
    me = runtime.current()

    def waiting() -> bool:
        names = {other.name for other in me.sched.threads}
        if not all(name in names for name in threads):
            return False  # not started yet
        polling = {other.name for other in me.sched.threads
                   if other is not me and other.state == runtime.RUNNABLE
                   and other.quiet >= POLL_STEPS}
        for other in me.sched.threads:
            if other is me or other.state == runtime.DONE or other.name in polling:
                continue  # a poller runs, but nothing it does changes anything
            if other.state != runtime.BLOCKED or other.blocked is None:
                return False  # it can still run
            if other.blocked.holder() in polling and other.quiet < POLL_STEPS:
                return False  # not polling itself: it goes on once the poller lets go
            if other.blocked.label.startswith("until "):
                if other.name in threads:
                    return False  # not inside the learner's call yet
                continue
            if other.pred is not None and other.pred():
                return False  # what it waits for has come: it is about to run
        return True

    me.sched.block(me, waiting, None,
                   runtime.Blocked(f"until {', '.join(threads)} wait in {what}"))


def _handoff_under_interleavings(submission, explorer) -> None:
    """The hand-off of `test_writer_handoff` in every interleaving: the first writer releases
    only once the second writer waits inside acquire_write() and a reader arrived after it
    waits inside acquire_read(); whatever the scheduler does then, the writer goes first."""

    def until(s, thread: str, what: str) -> None:
        _until_waiting([thread], what)

    def first(s):
        s.lock.acquire_write()
        s.held = True
        until(s, "T3", "acquire_read()")
        s.lock.release_write()

    def second(s):
        me = runtime.current()
        me.sched.block(me, lambda: s.held, None, runtime.Blocked("until T1 holds the lock"))
        s.lock.acquire_write()
        s.log.append("waiting writer")
        s.lock.release_write()

    def reader(s):
        until(s, "T2", "acquire_write()")
        s.lock.acquire_read()
        s.log.append("reader arriving after it")
        s.lock.release_read()

    def invariant(s):
        assert s.log[:1] == ["waiting writer"], (
            "When a writer released the lock, a reader that arrived after another writer was "
            "waiting went first: the order was first writer -> " + " -> ".join(s.log))

    explorer.check(lambda: SimpleNamespace(lock=submission.RWLock(), log=[], held=False),
                   [first, second, reader], invariant=invariant, name="writer hand-off")


def _pause() -> None:
    """A point inside a critical section where the explorer may run another thread."""
    modelled.pause()


def _reader(name: str, rounds: int = 1):
    def run(s):
        for _ in range(rounds):
            s.lock.acquire_read()
            s.readers += 1
            if s.writers:
                s.bad.append(f"{name} got in while a writer held the lock")
            _pause()
            s.readers -= 1
            s.lock.release_read()

    run.__name__ = name
    return run


def _writer(name: str, rounds: int = 1):
    def run(s):
        for _ in range(rounds):
            s.lock.acquire_write()
            s.writers += 1
            if s.writers > 1 or s.readers:
                s.bad.append(f"{name} got in while {s.readers} reader(s) and "
                             f"{s.writers - 1} other writer(s) held the lock")
            _pause()
            s.writers -= 1
            s.lock.release_write()

    run.__name__ = name
    return run


def _setup(submission):
    def setup():
        return SimpleNamespace(lock=submission.RWLock(), readers=0, writers=0, bad=[])

    return setup


def _nobody_intruded(s) -> None:
    assert not s.bad, s.bad[0] + "."


#: Schedules for each barging scenario: every one with up to one preemption (about 40), then
#: as many with two.
BARGING_RUNS = 120


def _barging(submission, explorer, waiter: str, holder: str) -> None:
    """A `waiter` ("reader" or "writer") waits inside its acquire while a `holder` holds the
    lock; the holder releases, and only then a writer arrives. Whoever the lock lets in first,
    it must let them in one at a time: a waiter that takes its wake-up for permission (an `if`
    where a `while` must check again) goes in beside a writer that came in first.

    The waits are facts the explorer knows, so this is set up under every seed, and the
    arriving writer is T1: the scheduler's default, once the holder is done, lets it in
    first, and one preemption inside its critical section lets the waiter go. The search of
    every schedule with one preemption is complete, and seed-independent, well within the
    runs given here."""
    bodies = {"reader": _reader, "writer": _writer}

    def arriving(s):
        me = runtime.current()
        me.sched.block(me, lambda: s.released, None,
                       runtime.Blocked("until T2 released the lock"))
        _writer("a writer arriving as the lock was released")(s)

    def holding(s):
        if holder == "reader":
            s.lock.acquire_read()
            s.readers += 1
        else:
            s.lock.acquire_write()
            s.writers += 1
        _until_waiting(["T3"], "acquire_read()" if waiter == "reader" else "acquire_write()")
        if holder == "reader":
            s.readers -= 1
            s.lock.release_read()
        else:
            s.writers -= 1
            s.lock.release_write()
        s.released = True

    def waiting(s):
        me = runtime.current()
        me.sched.block(me, lambda: s.readers + s.writers > 0, None,
                       runtime.Blocked("until T2 holds the lock"))
        bodies[waiter](f"the waiting {waiter}")(s)

    def setup():
        s = _setup(submission)()
        s.released = False
        return s

    explorer.check(setup, [arriving, holding, waiting], invariant=_nobody_intruded,
                   strategy="exhaustive", runs=BARGING_RUNS,
                   name=f"a {waiter} waiting while a {holder} holds the lock, and a writer "
                        "arriving as it is released")


def test_exclusive_under_interleavings(submission, explorer):
    threads = [_writer("writer_1"), _writer("writer_2"), _reader("reader_1"), _reader("reader_2")]
    explorer.check(_setup(submission), threads, invariant=_nobody_intruded,
                   name="two writers and two readers")
    _barging(submission, explorer, "writer", "reader")
    _barging(submission, explorer, "reader", "writer")


def test_mixed_use_no_deadlock(submission, explorer):
    threads = [_reader("reader_1", 2), _reader("reader_2"), _writer("writer_1"), _writer("writer_2")]
    explorer.check(_setup(submission), threads, invariant=_nobody_intruded)
