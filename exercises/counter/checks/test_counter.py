"""Checks of the counter exercise: behaviour, independence, and no lost update."""

import sys
import threading

from grader.explore.alone import under_model
from grader.harness import plain


def value_of(counter):
    """The counter's value, as a plain int (never the learner's own object)."""
    return plain(counter.value(), int, "value()")


def test_starts_at_start(submission):
    assert value_of(submission.Counter()) == 0, "Counter() should start at 0"
    assert value_of(submission.Counter(5)) == 5, "Counter(5) should start at 5"
    assert value_of(submission.Counter(-3)) == -3, "Counter(-3) should start at -3"


@under_model  # one thread, under the explorer's model: a self-deadlock is named at once
def test_increments_add_up(submission):
    counter = submission.Counter()
    counter.increment()
    assert value_of(counter) == 1, f"after one increment() the value should be 1, not {value_of(counter)!r}"
    counter.increment(5)
    assert value_of(counter) == 6, f"after increment() and increment(5) the value should be 6, not {value_of(counter)!r}"
    counter.increment(0)
    assert value_of(counter) == 6, "increment(0) should not change the value"
    counter.increment(-2)
    assert value_of(counter) == 4, "increment(-2) should subtract 2"
    for _ in range(100):
        counter.increment(3)
    assert value_of(counter) == 304, f"after 100 more increment(3) the value should be 304, not {value_of(counter)!r}"


@under_model
def test_counters_are_independent(submission):
    first, second = submission.Counter(), submission.Counter(10)
    first.increment(7)
    assert value_of(second) == 10, "incrementing one counter changed another counter's value"
    assert value_of(first) == 7, "a counter's value changed when another counter was created"


def test_no_lost_updates(submission, explorer):
    # Two and three threads, one and two increments each: small scenarios, every interleaving
    # that matters is within reach of the explorer.
    for threads, each, step in ((2, 1, 1), (2, 2, 1), (3, 1, 2)):
        expected = threads * each * step

        def body(counter, each=each, step=step):
            for _ in range(each):
                counter.increment(step)

        def no_update_lost(counter, expected=expected, threads=threads, each=each, step=step):
            got = value_of(counter)
            assert got == expected, (
                f"{threads} threads each called increment({step}) {each} time(s) on a new "
                f"Counter(): the value should be {expected}, but it was {got}"
            )

        explorer.check(submission.Counter, [body] * threads, invariant=no_update_lost,
                       name=f"{threads} threads x {each} increment({step})")


def test_stress_real_threads(submission):
    threads, each = 8, 2000
    counter = submission.Counter()
    start = threading.Barrier(threads)
    errors = []

    def work():
        try:
            start.wait()
            for _ in range(each):
                counter.increment()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sys.setswitchinterval(old)
    if errors:
        raise errors[0]
    assert value_of(counter) == threads * each, (
        f"{threads} threads each incremented {each} times: the value should be "
        f"{threads * each}, but it was {value_of(counter)} ({threads * each - value_of(counter)} lost)"
    )
