"""Checks of the `lazy` exercise: caching, retries after failure, once-only under threads."""

from __future__ import annotations

from types import SimpleNamespace

from grader.checks import CheckFailure, call_within, lock_operations, stress
from grader.explore import sync as modelled

PATIENCE = 5.0  # seconds a correct get() may take on a loaded machine


class Boom(Exception):
    """The failure a test factory raises."""


class Interrupted(BaseException):
    """A failure that is not an Exception, as KeyboardInterrupt and SystemExit are not."""


def _get_within(lazy) -> tuple:
    """(value, error, finished) of one `lazy.get()` given PATIENCE seconds."""
    call = call_within(lazy.get, PATIENCE, "lazy-get")
    return call.value, call.error, call.finished


def _counting_factory(fail_first: int = 0, result=None, slow: bool = False):
    """A factory that raises Boom on its first `fail_first` calls, then returns new objects.
    A `slow` one takes a moment (a scheduling point, under the explorer) once started: a
    `get` that only looks before and after the call (as `functools.lru_cache` does) lets a
    second caller start it too."""
    calls = SimpleNamespace(started=0, completed=0, values=[])

    def factory():
        calls.started += 1
        if slow:
            modelled.pause()
        if calls.started <= fail_first:
            raise Boom(f"attempt {calls.started} failed")
        value = object() if result is None else result
        calls.completed += 1
        calls.values.append(value)
        return value

    return factory, calls


def test_caches_value(submission):
    factory, calls = _counting_factory()
    lazy = submission.Lazy(factory)
    assert calls.started == 0, "The constructor must not call the factory; the first get() does."
    first = lazy.get()
    assert calls.started == 1, f"The first get() must call the factory once; it was called {calls.started} times."
    assert first is calls.values[0], "get() must return what the factory returned."
    again = [lazy.get() for _ in range(3)]
    assert calls.started == 1, f"Later get() calls must not call the factory again; it ran {calls.started} times."
    assert all(v is first for v in again), "Every get() must return the very same object."
    falsy = submission.Lazy(lambda: 0)
    assert falsy.get() == 0 and falsy.get() == 0, "A factory returning 0 must give 0 every time."


def test_none_is_cached(submission):
    calls = []
    lazy = submission.Lazy(lambda: calls.append(1))
    results = [lazy.get() for _ in range(3)]
    assert results == [None, None, None], f"A factory returning None must give None; got {results}."
    assert len(calls) == 1, (
        f"A factory returning None was called {len(calls)} times by 3 get() calls; None is a "
        f"value like any other and must be cached."
    )


def test_failing_factory_retried(submission, rng):
    factory, calls = _counting_factory(fail_first=1)
    lazy = submission.Lazy(factory)
    value, error, finished = _get_within(lazy)
    if not finished:
        raise CheckFailure("hang", "The first get(), whose factory raised, never returned.")
    assert isinstance(error, Boom), (
        f"The factory raised Boom, so the first get() must raise it; it "
        f"{'raised ' + repr(error) if error else 'returned ' + repr(value)}."
    )
    value, error, finished = _get_within(lazy)
    if not finished:
        raise CheckFailure("hang", "After a failed attempt, the next get() waited forever "
                                   "instead of calling the factory again.")
    if error is not None:
        raise AssertionError(f"After a failed attempt the next get() must call the factory "
                             f"again; it raised {error!r}.")
    assert calls.started == 2 and value is calls.values[0], (
        f"After a failed attempt the next get() must call the factory again and return its "
        f"value; the factory ran {calls.started} times and get() returned {value!r}."
    )
    assert lazy.get() is value and calls.started == 2, (
        "Once a retry succeeded, the value must be cached like any other."
    )
    # However often it failed before, a factory is tried again: a failure is never cached.
    failures = 2 + rng.randrange(3)
    factory, calls = _counting_factory(fail_first=failures)
    lazy = submission.Lazy(factory)
    for attempt in range(1, failures + 1):
        value, error, finished = _get_within(lazy)
        if not finished:
            raise CheckFailure("hang", f"get() number {attempt}, whose factory raised, never "
                                       f"returned.")
        assert isinstance(error, Boom) and calls.started == attempt, (
            f"The factory raises on its first {failures} calls: get() number {attempt} must "
            f"call it again and raise what it raised; the factory ran {calls.started} times "
            f"and get() {'raised ' + repr(error) if error else 'returned ' + repr(value)}."
        )
    value, error, finished = _get_within(lazy)
    if not finished:
        raise CheckFailure("hang", f"After {failures} failed attempts, the next get() waited "
                                   f"forever instead of calling the factory again.")
    assert error is None and calls.started == failures + 1 and value is calls.values[0], (
        f"After {failures} failed attempts the next get() must call the factory again and "
        f"return its value; the factory ran {calls.started} times and get() "
        f"{'raised ' + repr(error) if error else 'returned ' + repr(value)}."
    )
    # Raising is raising: a factory interrupted by something that is not an Exception (Ctrl-C
    # is a KeyboardInterrupt) must leave the Lazy as untried as a Boom does.
    started = []

    def interrupted_once():
        started.append(1)
        if len(started) == 1:
            raise Interrupted("the first attempt was interrupted")
        return "built"

    lazy = submission.Lazy(interrupted_once)
    value, error, finished = _get_within(lazy)
    if not finished:
        raise CheckFailure("hang", "A get() whose factory raised a BaseException (as "
                                   "KeyboardInterrupt is) never returned.")
    assert isinstance(error, Interrupted), (
        f"The factory raised a BaseException that is not an Exception (as KeyboardInterrupt "
        f"and SystemExit are not), so get() must raise it; it "
        f"{'raised ' + repr(error) if error else 'returned ' + repr(value)}."
    )
    value, error, finished = _get_within(lazy)
    if not finished:
        raise CheckFailure("hang", "After a factory raised a BaseException that is not an "
                                   "Exception (as KeyboardInterrupt is), the next get() waited "
                                   "forever instead of calling the factory again: does only "
                                   "`except Exception` clean up a failed attempt?")
    assert error is None and value == "built" and len(started) == 2, (
        f"After a factory raised a BaseException that is not an Exception (as KeyboardInterrupt "
        f"is), the next get() must call the factory again and return its value; the factory "
        f"ran {len(started)} times and get() "
        f"{'raised ' + repr(error) if error else 'returned ' + repr(value)}."
    )


def test_factory_once_under_threads(submission, explorer):
    def setup():
        factory, calls = _counting_factory(slow=True)
        return SimpleNamespace(lazy=submission.Lazy(factory), calls=calls, got=[])

    def caller(s):
        s.got.append(s.lazy.get())

    def invariant(s):
        assert s.calls.completed == 1, (
            f"Three threads called get() at once and the factory ran {s.calls.completed} times; "
            f"it must complete once."
        )
        assert all(v is s.calls.values[0] for v in s.got), (
            "Threads calling get() at once got different objects."
        )

    explorer.check(setup, [caller, caller, caller], invariant=invariant)


def test_failure_under_threads(submission, explorer):
    def setup():
        factory, calls = _counting_factory(fail_first=1)
        return SimpleNamespace(lazy=submission.Lazy(factory), calls=calls, got=[])

    def caller(s):
        for _ in range(3):
            try:
                s.got.append(s.lazy.get())
                return
            except Boom:
                continue

    def invariant(s):
        assert s.calls.completed <= 1, (
            f"The factory completed {s.calls.completed} times; it must complete at most once."
        )
        assert len(s.got) == 2, (
            f"The factory failed once and then succeeded, but only {len(s.got)} of 2 threads "
            f"got the value after retrying."
        )
        assert all(v is s.calls.values[0] for v in s.got), "Threads got different objects."

    explorer.check(setup, [caller, caller], invariant=invariant)


#: Factories whose values a fast path must serve alike: an object, and the falsy 0, "" and None.
FACTORIES = [("a new object", object), ("0", lambda: 0), ('""', lambda: ""),
             ("None", lambda: None)]


def test_no_lock_after_set(submission, explorer, rng):
    # Under the explorer every lock operation is seen, whichever object holds the lock: a get
    # that starts after some get has returned the value must perform none (no acquire, no
    # wait on a Condition, Event or Barrier). Falsy values too: 0, "" and None.
    threads = rng.choice((3, 4))
    with lock_operations() as log:
        for what, factory in FACTORIES:

            def setup(factory=factory):
                return SimpleNamespace(lazy=submission.Lazy(factory), returned=[False], got=[],
                                       locked=[])

            def caller(s):
                for _ in range(2):
                    later = s.returned[0]
                    mark = log.mark()
                    value = s.lazy.get()
                    taken = log.since(mark)
                    s.returned[0] = True
                    s.got.append(value)
                    if later and taken:
                        s.locked.append(taken)

            def invariant(s, what=what):
                assert not s.locked, (
                    f"With a factory returning {what}, a get() called after another get() had "
                    f"returned the value still did: {', '.join(s.locked[0])}. Once the value is "
                    f"there, get() must take no lock and wait for nothing."
                )
                assert all(v is s.got[0] for v in s.got), (
                    f"With a factory returning {what}, threads got different objects from get()."
                )

            explorer.check(setup, [caller] * threads, invariant=invariant, runs=60,
                           name=f"{threads} threads, a factory returning {what}")


def test_stress(submission):
    factory, calls = _counting_factory()
    lazy = submission.Lazy(factory)
    threads_n = 8
    got: list = []

    def run(lazy) -> None:
        for _ in range(50):
            got.append(lazy.get())

    outcome = stress(lambda: lazy, [run] * threads_n, runs=1, switch_interval=None, within=20)
    outcome.raise_problem(lambda _: "Some threads calling get() were still blocked after 20 s.")
    assert calls.completed == 1, f"The factory ran {calls.completed} times under 8 threads."
    assert all(v is got[0] for v in got), "Threads got different objects."
