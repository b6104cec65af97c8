"""Every lock a learner's code can reach is modelled, or the check falls back to real threads.

One test per route: `_thread`, `functools.cached_property`'s lock, `multiprocessing`'s
primitives used from threads, `threading` reached through `importlib`, `__import__` and
`sys.modules`, `threading.local`. Each shows the route is *modelled*: a correct scenario passes
under the explorer itself (not the real-thread fallback), and a scenario that needs the model
(a deadlock, a contended lock) is reported with the model's names. Then the fallback, and
single-thread functional calls under the model (`call_alone`).
"""

from __future__ import annotations

import itertools
import sys
import textwrap

import pytest

from grader.explore import explore, fallback, instrument
from grader.explore.alone import call_alone, under_model
from grader.explore.shims import time

_names = itertools.count()


def learner(tmp_path, source: str):
    """An instrumented learner module from `source` (written to a file, so lines show)."""
    name = f"reach_learner_{next(_names)}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return instrument.instrument_source(path.read_text(), str(path), name)


def modelled_pass(outcome):
    assert outcome.ok, outcome.failure and (outcome.failure.message, outcome.failure.details)
    assert outcome.strategy != "real threads", outcome.note
    return outcome


COUNTER = """
    {imports}

    class Counter:
        def __init__(self):
            self.n = 0
            self.lock = {make}

        def increment(self):
            {enter}
            try:
                self.n = self.n + 1
            finally:
                {leave}
"""


def counter_scenario(module, threads=2):
    def body(c):
        c.increment()

    def invariant(c):
        assert c.n == threads, f"expected {threads}, got {c.n}"

    return dict(setup=module.Counter, threads=[body] * threads, invariant=invariant)


ROUTES = {
    "_thread.allocate_lock": ("import _thread", "_thread.allocate_lock()"),
    "_thread.LockType": ("from _thread import LockType", "LockType()"),
    "_thread.RLock": ("import _thread", "_thread.RLock()"),
    "importlib.import_module": ("import importlib",
                                "importlib.import_module('threading').Lock()"),
    "from importlib": ("from importlib import import_module",
                       "import_module('threading').Lock()"),
    "import importlib.util": ("import importlib.util",
                              "importlib.import_module('threading').Lock()"),
    "__import__": ("", "__import__('threading').Lock()"),
    "sys.modules": ("import sys, threading", "sys.modules['threading'].Lock()"),
    "multiprocessing.Lock": ("import multiprocessing", "multiprocessing.Lock()"),
    "multiprocessing.RLock": ("import multiprocessing", "multiprocessing.RLock()"),
    "multiprocessing.Semaphore": ("from multiprocessing import Semaphore", "Semaphore(1)"),
    "multiprocessing.BoundedSemaphore": ("import multiprocessing",
                                         "multiprocessing.BoundedSemaphore(1)"),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_lock_reached_this_way_is_modelled(tmp_path, route):
    imports, make = ROUTES[route]
    right = learner(tmp_path, COUNTER.format(imports=imports, make=make,
                                             enter="self.lock.acquire()",
                                             leave="self.lock.release()"))
    for seed in range(3):
        modelled_pass(explore(**counter_scenario(right), seed=seed, runs=40))
    # Acquired twice by the same thread (reentrant kinds excepted): the model names it.
    twice = learner(tmp_path, COUNTER.format(imports=imports, make=make,
                                             enter="self.lock.acquire(); self.lock.acquire()",
                                             leave="self.lock.release(); self.lock.release()"))
    outcome = explore(**counter_scenario(twice, threads=1), runs=1)
    if "RLock" in route:
        modelled_pass(outcome)
    else:
        assert outcome.failure is not None and outcome.failure.kind == "deadlock", outcome
        assert outcome.failure.deadlock[0]["line"] == 10
        owner = None if "Semaphore" in route else "T1"  # a semaphore has no owner
        assert outcome.failure.deadlock[0]["held_by"] == owner


def test_thread_lock_type_is_the_model(tmp_path):
    module = learner(tmp_path, """
        import _thread
        import threading

        def kinds():
            return (isinstance(threading.Lock(), _thread.LockType),
                    type(_thread.allocate_lock()) is _thread.LockType)
    """)
    assert module.kinds() == (True, True)


def test_thread_start_new_thread_runs_a_managed_thread(tmp_path):
    module = learner(tmp_path, """
        import _thread
        import threading

        class Box:
            def __init__(self):
                self.n = 0
                self.done = threading.Event()

            def bump(self):
                self.n = self.n + 1
                self.done.set()

            def run(self):
                _thread.start_new_thread(self.bump, ())
                self.done.wait()
    """)

    def invariant(box):
        assert box.n == 1

    modelled_pass(explore(module.Box, [lambda b: b.run()], invariant=invariant, runs=20))


LAZY = """
    import functools

    class Lazy:
        def __init__(self, factory):
            self.factory = factory

        @functools.cached_property
        def value(self):
            return self.factory()

        def get(self):
            return self.value
"""


class Calls:
    def __init__(self, module):
        self.completed = 0
        self.lazy = module.Lazy(self.factory)

    def factory(self):
        time.sleep(0)  # a scheduling point inside the factory
        self.completed += 1
        return object()


def test_cached_property_lock_is_modelled_for_the_running_interpreter(tmp_path):
    module = learner(tmp_path, LAZY)

    def once(calls):
        assert calls.completed == 1, f"the factory completed {calls.completed} times"

    scenario = dict(setup=lambda: Calls(module), threads=[lambda c: c.lazy.get()] * 3,
                    invariant=once)
    for seed in range(20):
        outcome = explore(**scenario, seed=seed, runs=60)
        if sys.version_info < (3, 12):  # cached_property holds an RLock while it computes
            modelled_pass(outcome)
        else:  # no lock since 3.12: a check-then-act race, found by the explorer
            assert outcome.failure is not None and outcome.failure.kind == "invariant"
            assert outcome.strategy != "real threads"


MP = """
    import multiprocessing

    class Pair:
        def __init__(self):
            self.cond = multiprocessing.Condition()
            self.event = multiprocessing.Event()
            self.barrier = multiprocessing.Barrier(2)
            self.value = multiprocessing.Value("i", 0)
            self.items = []

        def produce(self):
            with self.cond:
                self.items.append(1)
                self.cond.notify()
            self.event.set()
            self.barrier.wait()
            with self.value.get_lock():
                self.value.value += 1

        def consume(self):
            with self.cond:
                while not self.items:
                    self.cond.wait()
            self.event.wait()
            self.barrier.wait()
            with self.value.get_lock():
                self.value.value += 1

        def wait_forever(self):
            with self.cond:
                self.cond.wait()
"""


def test_multiprocessing_condition_event_barrier_value_from_threads_are_modelled(tmp_path):
    module = learner(tmp_path, MP)

    def invariant(p):
        assert p.value.value == 2 and p.event.is_set()

    for seed in range(3):
        modelled_pass(explore(module.Pair, [lambda p: p.produce(), lambda p: p.consume()],
                              invariant=invariant, seed=seed, runs=40))
    outcome = explore(module.Pair, [lambda p: p.wait_forever()], runs=1)
    assert outcome.failure is not None and outcome.failure.kind == "deadlock"
    assert outcome.failure.deadlock[0]["waits_for"].startswith("notify on Condition")


def test_multiprocessing_value_without_its_lock_loses_an_update(tmp_path):
    module = learner(tmp_path, """
        import multiprocessing

        class Counter:
            def __init__(self):
                self.shared = multiprocessing.Value("i", 0)

            def increment(self):
                self.shared.value += 1
    """)

    def invariant(c):
        assert c.shared.value == 2, f"expected 2, got {c.shared.value}"

    for seed in range(20):
        outcome = explore(module.Counter, [lambda c: c.increment()] * 2, invariant=invariant,
                          seed=seed)
        assert outcome.failure is not None and outcome.failure.kind == "invariant", seed


def test_multiprocessing_errors_are_multiprocessing_errors(tmp_path):
    module = learner(tmp_path, """
        import multiprocessing

        def misuse(log):
            try:
                multiprocessing.Lock().release()
            except ValueError:
                log.append("Lock: ValueError")
            try:
                multiprocessing.RLock().release()
            except AssertionError:
                log.append("RLock: AssertionError")
            sem = multiprocessing.BoundedSemaphore(1)
            try:
                sem.release()
            except ValueError:
                log.append("BoundedSemaphore: ValueError")
            log.append(multiprocessing.Semaphore(3).get_value())
    """)
    log: list = []
    modelled_pass(explore(lambda: log.clear() or log, [module.misuse], runs=1))  # last run
    assert log == ["Lock: ValueError", "RLock: AssertionError", "BoundedSemaphore: ValueError",
                   3]
    outside: list = []
    module.misuse(outside)  # outside an exploration: the real multiprocessing objects
    assert outside == log


def test_sys_modules_view_behaves_like_a_mapping(tmp_path):
    module = learner(tmp_path, """
        import sys

        def look():
            return ("threading" in sys.modules, sys.modules.get("no such module"),
                    type(sys.modules["threading"].Lock()).__module__, sys.maxsize > 0)
    """)
    assert module.look() == (True, None, "grader.explore.sync.locks", True)


def test_threading_local_is_per_thread_under_the_explorer(tmp_path):
    module = learner(tmp_path, """
        import threading

        class PerThread:
            def __init__(self):
                self.local = threading.local()
                self.seen = []

            def work(self, n):
                self.local.n = n
                threading.Event().wait(0.01)  # let the other thread run in between
                self.seen.append(self.local.n == n)
    """)

    def invariant(p):
        assert p.seen == [True, True]

    modelled_pass(explore(module.PerThread, [lambda p: p.work(1), lambda p: p.work(2)],
                          invariant=invariant, runs=40))


def test_collections_counter_update_is_a_sequence_of_steps(tmp_path):
    module = learner(tmp_path, """
        import collections
        import threading
        from collections import Counter

        class Words:
            def __init__(self):
                self.counts = Counter()
                self.lock = threading.Lock()

            def add(self, words):
                self.counts.update(words)

            def add_locked(self, words):
                with self.lock:
                    self.counts.update(words)

            def kinds(self):
                return isinstance(self.counts, collections.Counter), self.counts + Counter(a=1)
    """)

    def invariant(w):
        assert w.counts["a"] == 2, f"a = {w.counts['a']}"

    for seed in range(20):  # the read-then-write inside Counter.update(mapping): a lost update
        outcome = explore(module.Words, [lambda w: w.add({"a": 1})] * 2, invariant=invariant,
                          seed=seed)
        assert outcome.failure is not None and outcome.failure.kind == "invariant", seed
    modelled_pass(explore(module.Words, [lambda w: w.add_locked({"a": 1})] * 2,
                          invariant=invariant, runs=60))
    # Counting an iterable is one C call (`_count_elements`), atomic under the GIL.
    modelled_pass(explore(module.Words, [lambda w: w.add(["a"])] * 2, invariant=invariant,
                          runs=60))
    words = module.Words()
    words.add({"a": 2})
    assert words.kinds() == (True, {"a": 3})
    import pickle

    assert type(pickle.loads(pickle.dumps(words.counts))) is __import__("collections").Counter


# -- the fallback ----------------------------------------------------------------------------

def test_a_lock_outside_the_model_falls_back_to_real_threads_and_gives_a_verdict():
    import threading  # a real lock, as an uninstrumented library would make

    real = threading.Lock()

    class State:
        def __init__(self):
            self.n = 0

    def body(s):
        with real:
            time.sleep(0)  # a scheduling point while a real lock is held
            s.n += 1

    def invariant(s):
        assert s.n == 2

    outcome = explore(State, [body, body], invariant=invariant, seed=3)
    assert outcome.ok and outcome.strategy == "real threads"
    assert "lost control" in outcome.note and f"all {fallback.STRESS_RUNS} runs" in outcome.note
    assert not real.locked()

    def lossy(s):
        seen = s.n
        with real:
            time.sleep(0)
        s.n = seen + 1

    found = explore(State, [lossy, lossy], invariant=invariant, seed=3)
    assert found.failure is not None and found.failure.kind == "invariant"


# -- single-thread calls under the model -----------------------------------------------------

SELF_DEADLOCK = """
    import threading

    class Counter:
        def __init__(self):
            self._value = 0
            self._lock = threading.Lock()

        def increment(self, n=1):
            with self._lock:
                self._value = self.value() + n

        def value(self):
            with self._lock:
                return self._value
"""


def test_a_self_deadlock_in_a_functional_check_is_a_deadlock_with_its_line(tmp_path):
    module = learner(tmp_path, SELF_DEADLOCK)

    @under_model
    def check():
        counter = module.Counter()
        counter.increment()
        assert counter.value() == 1

    with pytest.raises(AssertionError) as caught:
        check()
    failure = caught.value
    assert failure.kind == "deadlock"
    blocked = failure.deadlock[0]
    assert (blocked["line"], blocked["held_by"]) == (14, "check")
    assert blocked["waits_for"].startswith("Lock#1") and blocked["source"] == "with self._lock:"
    assert "which it holds itself" in failure.message
    # The explorer's cost: a handful of scheduling points, nowhere near a second of work.
    assert len(failure.trace) < 20


def test_call_alone_passes_results_and_the_checks_own_failures_through(tmp_path):
    module = learner(tmp_path, SELF_DEADLOCK.replace("self.value() + n", "self._value + n"))

    def add(times):
        counter = module.Counter()
        for _ in range(times):
            counter.increment(3)
        return counter.value()

    assert call_alone(add, 100) == 300

    def wrong():
        assert add(1) == 4, "increment(3) should add 3"

    with pytest.raises(AssertionError, match="should add 3") as caught:
        call_alone(wrong)
    assert not hasattr(caught.value, "kind")  # the check's own assertion, unchanged
    with pytest.raises(ZeroDivisionError):
        call_alone(lambda: 1 / 0)


def test_call_alone_reports_a_join_and_a_wait_that_never_end(tmp_path):
    module = learner(tmp_path, """
        import threading

        class Stuck:
            def __init__(self):
                self.cond = threading.Condition()
                self.go = threading.Event()

            def join_a_waiter(self):
                worker = threading.Thread(target=self.go.wait)
                worker.start()
                worker.join()

            def wait_unnotified(self):
                with self.cond:
                    self.cond.wait()

            def wait_with_timeout(self):
                with self.cond:
                    return self.cond.wait(timeout=0.2)
    """)
    with pytest.raises(AssertionError) as caught:
        call_alone(lambda: module.Stuck().join_a_waiter())
    assert caught.value.kind == "deadlock"
    waits = {b["thread"]: b["waits_for"] for b in caught.value.deadlock}
    assert waits["check"] == "join T1" and waits["T1"].startswith("notify on Event")
    with pytest.raises(AssertionError) as caught:
        call_alone(lambda: module.Stuck().wait_unnotified())
    assert caught.value.kind == "deadlock"
    assert caught.value.deadlock[0]["line"] == 16  # self.cond.wait()
    # A timed wait is not a deadlock: it times out, after really waiting, as without the model.
    import time as real_time

    started = real_time.monotonic()
    assert call_alone(lambda: module.Stuck().wait_with_timeout()) is False
    assert real_time.monotonic() - started >= 0.2
