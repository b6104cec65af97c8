"""The `counter` exercise's known solutions under the scenarios its no-lost-updates check runs.

Every buggy counter expected to fail `no-lost-updates` is caught under 20 seeds with default
settings; the reference and the other correct counters pass under 25 seeds with 40 schedules
per scenario (the bounded search, which ignores the seed, under the first), and under 100 seeds
with the full 300 schedules with GRADER_EXPLORE_FULL=1. GRADER_TEST_SEEDS sets fewer seeds
(CI runs 2 for the buggy ones and 7 for the correct ones: the check itself is graded under the
same seeds in tests/spine/test_counter_solutions.py, and this file runs on three Pythons there).
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.explore import explore, instrument

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions" / "counter"
FULL = os.environ.get("GRADER_EXPLORE_FULL") == "1"
SEEDS = int(os.environ.get("GRADER_TEST_SEEDS", "20"))
CORRECT_SEEDS = 100 if FULL else SEEDS + 5


def solutions(expect: str) -> list[str]:
    if not SOLUTIONS.is_dir():
        return []
    return sorted(p.stem for p in SOLUTIONS.glob("*.py")
                  if p.read_text().startswith(f"# expect: {expect}"))


@pytest.fixture(scope="module")
def counters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("counters")
    for path in SOLUTIONS.glob("*.py"):
        shutil.copy(path, folder / f"counter_sol_{path.stem}.py")
    instrument.install([str(folder)])
    sys.path.insert(0, str(folder))
    yield lambda stem: importlib.import_module(f"counter_sol_{stem}")
    sys.path.remove(str(folder))


def scenarios(module):
    """The check's kinds of scenario: (threads, increments each, step), increments of mixed
    signs racing, value() read while others increment, many increments under random walks,
    and a counter created while another is in use."""
    plans = [[[1]] * 2, [[1, 1]] * 2, [[2]] * 3, [[1], [-2], [3]]]
    for plan in plans:
        total = sum(sum(steps) for steps in plan)

        def body_for(steps):
            def body(counter):
                for n in steps:
                    counter.increment(n)
            return body

        def invariant(counter, expected=total):
            assert counter.value() == expected, f"expected {expected}, got {counter.value()}"

        yield dict(setup=module.Counter, threads=[body_for(steps) for steps in plan],
                   invariant=invariant)

    def adder(steps):
        def body(counter):
            for n in steps:
                counter.increment(n)
        return body

    def big_counted(counter):
        assert counter.value() == 2, f"expected 2 after steps of 250 and -250, got {counter.value()}"

    # big steps beside small ones, as the check runs them (the bounded search, few runs, room
    # for a counter that adds n as n steps of one)
    yield dict(setup=module.Counter, threads=[adder([1, 250]), adder([-250, 1])],
               invariant=big_counted, strategy="exhaustive", runs=40, max_steps=100_000)

    def reader(counter):
        counter.value()

    def four(counter):
        assert counter.value() == 4, f"expected 4 with a reader beside, got {counter.value()}"

    yield dict(setup=module.Counter, threads=[adder([1, 1]), adder([2]), reader],
               invariant=four)

    def many(counter):
        for _ in range(90):
            counter.increment(1)

    def all_counted(counter):
        assert counter.value() == 180, f"expected 180 after 2 x 90 increments, got {counter.value()}"

    # as the check runs it (at its shortest): write-biased walks only (its race window lies
    # past the bounded search)
    yield dict(setup=module.Counter, threads=[many, many], invariant=all_counted,
               strategy="writes", runs=40, systematic=False)

    def setup():
        return SimpleNamespace(first=module.Counter(), second=None)

    def incrementer(s):
        s.first.increment()
        s.first.increment()

    def creator(s):
        s.second = module.Counter(5)
        s.first.increment()
        s.second.increment(-1)

    def both_right(s):
        got = (s.first.value(), s.second.value())
        assert got == (3, 4), f"expected (3, 4), got {got}"

    yield dict(setup=setup, threads=[incrementer, creator], invariant=both_right)


@pytest.mark.parametrize("stem", solutions("fail no-lost-updates"))
def test_buggy_counter_is_caught_under_every_seed(counters, stem):
    module = counters(stem)
    for seed in range(SEEDS):
        failures = [o.failure for o in (explore(**sc, seed=seed) for sc in scenarios(module))
                    if not o.ok]
        assert failures, f"{stem}: seed {seed} found nothing"
        assert failures[0].kind in ("invariant", "deadlock", "exception")


@pytest.mark.parametrize("stem", solutions("pass"))
def test_correct_counter_passes_under_many_seeds(counters, stem):
    module = counters(stem)
    for seed in range(CORRECT_SEEDS):
        for scenario in scenarios(module):
            # the bounded search ignores the seed; a scenario's own settings come first
            settings = {"runs": 300 if FULL else 40, "systematic": seed == 0, **scenario}
            outcome = explore(**settings, seed=seed)
            assert outcome.ok, (stem, seed, outcome.failure and outcome.failure.message)


def test_self_deadlock_through_a_helper_is_a_deadlock_in_the_functional_check(counters):
    """buggy_self_deadlock: increment() calls value() while holding the plain Lock."""
    from grader.explore.alone import call_alone

    module = counters("buggy_self_deadlock")
    source = (SOLUTIONS / "buggy_self_deadlock.py").read_text().splitlines()
    line_of_value_lock = next(i for i, text in enumerate(source, 1)
                              if "with self._lock" in text and "def value" in source[i - 2])

    def increments_add_up():
        counter = module.Counter()
        counter.increment()
        assert counter.value() == 1

    with pytest.raises(AssertionError) as caught:
        call_alone(increments_add_up)
    failure = caught.value
    assert failure.kind == "deadlock"
    assert [(b["line"], b["held_by"]) for b in failure.deadlock] == [
        (line_of_value_lock, "check")]
    for seed in range(20):  # and in the threaded scenarios, under every seed
        outcome = explore(**next(scenarios(module)), seed=seed)
        assert outcome.failure is not None and outcome.failure.kind == "deadlock", seed
