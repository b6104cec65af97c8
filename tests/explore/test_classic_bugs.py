"""Each classic bug is found under every seed with default settings; each twin always passes."""

from __future__ import annotations

import os

import pytest

from grader.explore import explore

# Bugs: 20 seeds, or GRADER_TEST_SEEDS (CI sets fewer where this file runs on more Pythons).
SEED_COUNT = int(os.environ.get("GRADER_TEST_SEEDS", "20"))
BUG_SEEDS = range(SEED_COUNT)
# Correct twins: 100 seeds. With the full default budget (300 schedules) that takes minutes,
# so the default run uses 40 schedules per seed; GRADER_EXPLORE_FULL=1 runs the defaults.
FULL = os.environ.get("GRADER_EXPLORE_FULL") == "1"
CORRECT_SEEDS = range(100 if FULL or SEED_COUNT >= 20 else 5 * SEED_COUNT)
CORRECT_RUNS = 300 if FULL else 40


def scenarios(c):
    """name -> (buggy kwargs, correct kwargs, the failure kind the bug must produce)."""

    def count_is_2(s):
        assert s.value == 2, f"expected 2 increments, counted {s.value}"

    def fast(s):
        assert s.seen == "fast", f"the reader saw {s.seen!r}"

    def buffer(cls):
        return dict(setup=lambda: cls(1), threads=[lambda s: [s.put(i) for i in range(2)],
                                                   lambda s: s.get(), lambda s: s.get()])

    def bank(fn):
        return dict(setup=lambda: (c.Account(1, 100), c.Account(2, 100)),
                    threads=[lambda s: fn(s[0], s[1], 10), lambda s: fn(s[1], s[0], 10)])

    return {
        "lost-update": (
            dict(setup=c.RacyCounter, threads=[lambda s: s.increment()] * 2,
                 invariant=count_is_2),
            dict(setup=c.LockedCounter, threads=[lambda s: s.increment()] * 2,
                 invariant=count_is_2),
            "invariant"),
        "check-then-act": (
            dict(setup=lambda: c.RacyAccount(100), threads=[lambda s: s.withdraw(80)] * 2,
                 invariant=lambda s: s.balance >= 0),
            dict(setup=lambda: c.SafeAccount(100), threads=[lambda s: s.withdraw(80)] * 2,
                 invariant=lambda s: s.balance >= 0),
            "invariant"),
        "atomicity-violation": (
            dict(setup=c.RacyPair, threads=[lambda s: s.move(10), lambda s: s.move(5)],
                 always=lambda s: s.total() == 100),
            dict(setup=c.SafePair, threads=[lambda s: s.move(10), lambda s: s.move(5)],
                 always=lambda s: s.total() == 100),
            "invariant"),
        "if-instead-of-while": (buffer(c.IfBuffer), buffer(c.WhileBuffer), "exception"),
        "notify-instead-of-notify-all": (
            buffer(c.NotifyOneBuffer), buffer(c.WhileBuffer), "deadlock"),
        "lock-order-deadlock": (bank(c.transfer_unordered), bank(c.transfer_ordered),
                                "deadlock"),
        "self-deadlock": (
            dict(setup=c.Registry, threads=[lambda s: s.add(1, "a"), lambda s: s.add(2, "b")]),
            dict(setup=c.ReentrantRegistry,
                 threads=[lambda s: s.add(1, "a"), lambda s: s.add(2, "b")]),
            "deadlock"),
        "order-violation": (
            dict(setup=c.Config, threads=[lambda s: s.load(),
                                          lambda s: s.use_unsynchronised()], invariant=fast),
            dict(setup=c.Config, threads=[lambda s: s.load(), lambda s: s.use_after_ready()],
                 invariant=fast),
            "exception"),
    }


NAMES = ["lost-update", "check-then-act", "atomicity-violation", "if-instead-of-while",
         "notify-instead-of-notify-all", "lock-order-deadlock", "self-deadlock",
         "order-violation"]


@pytest.mark.parametrize("name", NAMES)
def test_bug_is_found_under_every_seed_with_defaults(classic, name):
    buggy, _, kind = scenarios(classic)[name]
    for seed in BUG_SEEDS:
        outcome = explore(**buggy, seed=seed)
        assert not outcome.ok, f"{name}: seed {seed} missed the bug in {outcome.runs} runs"
        assert outcome.failure.kind == kind, (seed, outcome.failure.message)


@pytest.mark.parametrize("name", NAMES)
def test_correct_twin_passes_under_100_seeds(classic, name):
    _, correct, _ = scenarios(classic)[name]
    for seed in CORRECT_SEEDS:
        outcome = explore(**correct, seed=seed, runs=CORRECT_RUNS,
                          systematic=seed == CORRECT_SEEDS[0])  # it ignores the seed
        assert outcome.ok, f"{name}: seed {seed}: {outcome.failure and outcome.failure.message}"


def test_deadlock_report_names_each_blocked_thread_what_it_waits_for_and_who_holds_it(classic):
    _, _, _ = scenarios(classic)["lock-order-deadlock"]
    buggy = scenarios(classic)["lock-order-deadlock"][0]
    failure = explore(**buggy, seed=3).failure
    assert failure is not None and failure.kind == "deadlock"
    assert {b["thread"] for b in failure.deadlock} == {"T1", "T2"}
    for blocked in failure.deadlock:
        assert set(blocked) == {"thread", "file", "line", "source", "waits_for", "held_by"}
        assert blocked["file"] == "classic.py"
        assert blocked["source"] == "with dst.lock:"
        assert blocked["waits_for"].startswith("Lock#")
        assert blocked["held_by"] in {"T1", "T2"} and blocked["held_by"] != blocked["thread"]


def test_lost_wakeup_deadlock_says_the_threads_wait_for_a_notify(classic):
    buggy = scenarios(classic)["notify-instead-of-notify-all"][0]
    failure = explore(**buggy, seed=0).failure
    assert failure.kind == "deadlock"
    assert all(b["waits_for"].startswith("notify on Condition#1") for b in failure.deadlock)
    assert all(b["held_by"] is None for b in failure.deadlock)


def test_busy_wait_that_ends_under_fair_scheduling_is_not_a_livelock(classic):
    outcome = explore(classic.SpinFlag, [lambda s: s.spin(), lambda s: s.set()],
                      invariant=lambda s: s.seen, seed=1)
    assert outcome.ok, outcome.failure and outcome.failure.message


def test_a_livelock_that_fair_schedules_end_is_retried_fairly_early(classic):
    # The default schedule never ends (the two consumers keep waking each other); every run
    # that long is retried round robin after ten times the steps of a fair run, instead of
    # after max_steps (20,000) unfair steps: a count of steps, the same on every machine.
    def two_each(s):
        for i in range(2):
            s.put(i)

    def take_two(s):
        s.get()
        s.get()

    outcome = explore(classic.WakeEachOther, [two_each, two_each, take_two, take_two],
                      seed=1, runs=40)
    assert outcome.ok, outcome.failure and outcome.failure.message
    runs = outcome.runs + outcome.coverage.schedules  # the portfolio's and the bounded search's
    assert outcome.steps < 3_000 * runs, outcome.steps / runs


def test_polling_with_sleep_runs_on_virtual_time(classic):
    outcome = explore(classic.SleepPoller, [lambda s: s.poll(), lambda s: s.set()], seed=1,
                      runs=50)
    assert outcome.ok, outcome.failure and outcome.failure.message
