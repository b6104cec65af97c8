"""explore(): determinism, replay, strategies, verdicts, the report shape and the fixture."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader import protocol
from grader.explore import Exploration, ExplorationFailure, explore
from grader.explore.explorer import parse_replay, replay_id
from grader.explore.stress import stress

REPO = Path(__file__).resolve().parents[2]


def racy(classic):
    return dict(setup=classic.RacyCounter, threads=[lambda s: s.increment()] * 2,
                invariant=lambda s: s.value == 2)


def test_same_seed_gives_the_same_verdict_runs_and_schedule(classic):
    first = explore(**racy(classic), seed=11)
    second = explore(**racy(classic), seed=11)
    assert (first.runs, first.failure.replay, first.failure.trace) == (
        second.runs, second.failure.replay, second.failure.trace)


def test_replay_id_reruns_exactly_the_failing_schedule(classic):
    failure = explore(**racy(classic), seed=4).failure
    again = explore(**racy(classic), replay=failure.replay)
    assert again.runs == 1 and not again.ok
    assert again.failure.replay == failure.replay
    assert again.failure.trace == failure.trace


def test_replaying_a_schedule_that_passes_gives_ok(classic):
    outcome = explore(**racy(classic), replay="s")
    assert outcome.ok and outcome.runs == 1


def test_replay_ids_round_trip():
    assert parse_replay(replay_id({3: 2, 17: 1})) == {3: 2, 17: 1}
    assert parse_replay("s") == {}
    with pytest.raises(ValueError):
        parse_replay("x1.2")


def test_failing_schedule_is_shrunk_to_few_context_switches(classic):
    for seed in range(5):
        failure = explore(**racy(classic), seed=seed).failure
        switches = [s for s in failure.trace if s["switch"]]
        assert len(parse_replay(failure.replay)) <= 4, failure.replay
        assert len(switches) <= 3, failure.timeline()


@pytest.mark.parametrize("strategy", ["random", "writes", "pct", "pct:1", "pct:2", "pct:3",
                                      "orders", "exhaustive", "portfolio"])
def test_every_strategy_passes_the_correct_counter(classic, strategy):
    outcome = explore(classic.LockedCounter, [lambda s: s.increment()] * 2,
                      invariant=lambda s: s.value == 2, strategy=strategy, runs=60)
    assert outcome.ok, outcome.failure and outcome.failure.message


@pytest.mark.parametrize("strategy", ["random", "writes", "pct:2", "exhaustive", "portfolio"])
def test_preempting_strategies_find_the_lost_update(classic, strategy):
    outcome = explore(**racy(classic), strategy=strategy, runs=300)
    assert outcome.failure is not None and outcome.failure.kind == "invariant"


def test_orders_alone_cannot_preempt_so_it_misses_the_lost_update(classic):
    assert explore(**racy(classic), strategy="orders").ok


def test_exhaustive_search_covers_all_small_schedules_and_stops(classic):
    outcome = explore(classic.LockedCounter, [lambda s: s.increment()] * 2,
                      invariant=lambda s: s.value == 2, strategy="exhaustive", runs=10_000)
    assert outcome.ok and 1 < outcome.runs < 10_000


def test_unknown_strategy_is_refused(classic):
    with pytest.raises(ValueError, match="unknown strategy"):
        explore(**racy(classic), strategy="bogus")


def test_a_loop_that_never_ends_is_a_livelock(classic):
    def spin_forever(s):
        while not s.flag:
            pass

    outcome = explore(classic.SpinFlag, [lambda s: s.spin()], max_steps=500, runs=3)
    assert outcome.failure.kind == "livelock"
    assert "500 steps" in outcome.failure.message


def test_always_is_skipped_where_it_would_block_and_sees_no_half_done_update(classic):
    outcome = explore(classic.SafePair, [lambda s: s.move(10), lambda s: s.move(5)],
                      always=lambda s: s.total() == 100, runs=200)
    assert outcome.ok


def test_exception_names_thread_type_and_learner_line(classic):
    failure = explore(lambda: classic.IfBuffer(1),
                      [lambda s: [s.put(i) for i in range(2)], lambda s: s.get(),
                       lambda s: s.get()], seed=0).failure
    assert failure.kind == "exception"
    assert "raised IndexError" in failure.message and "classic.py:" in failure.message
    assert failure.message.startswith("Thread T")


def test_invariant_returning_false_and_assertion_messages_are_reported(classic):
    def invariant(s):
        assert s.value == 2, f"expected 2, got {s.value}"

    failure = explore(classic.RacyCounter, [lambda s: s.increment()] * 2,
                      invariant=invariant).failure
    assert "expected 2, got 1" in failure.message


def test_a_failure_is_reported_as_the_protocols_typed_failure(classic):
    failure = explore(**racy(classic)).failure
    assert isinstance(failure, AssertionError) and isinstance(failure, ExplorationFailure)
    assert isinstance(failure, protocol.ReportedFailure)
    report = failure.failure
    assert isinstance(report, protocol.Failure) and report.kind == failure.kind
    assert report.trace and all(isinstance(s, protocol.TraceStep) for s in report.trace)
    assert report.replay.schedule == failure.replay and report.replay.check is None
    assert failure.seed == 0 and failure.replay.startswith("s")
    with pytest.raises(ExplorationFailure):
        Exploration(False, 1, failure).raise_if_failed()


def test_a_failure_that_does_not_reproduce_fails_without_a_replay_and_says_why():
    # The code under test changed its behaviour between two runs of one schedule (as one
    # that keys state on id() of objects does): the failure happened, so it is the verdict,
    # but there is no timeline or replay id to give.
    counter = itertools.count()

    class State:
        def __init__(self):
            self.run = next(counter)

    def body(s):
        assert s.run != 3, "fails only the fourth time it runs"

    outcome = explore(State, [body], runs=10)
    assert not outcome.ok and outcome.failure.kind == "exception"
    assert "fails only the fourth time it runs" in outcome.failure.message
    assert outcome.failure.replay == "" and outcome.failure.trace == []
    assert "did not fail the same way" in outcome.failure.details
    assert outcome.failure.failure.replay is None


def test_a_thread_stuck_in_an_unmodelled_call_falls_back_to_real_threads(monkeypatch):
    import threading

    from grader.explore import fallback

    monkeypatch.setattr(fallback, "STRESS_JOIN_SECONDS", 0.5)
    monkeypatch.setattr(fallback, "UNWIND_SECONDS", 0.5)
    real = threading.Lock()
    real.acquire()  # held for good: every run on real threads hangs as well
    try:
        outcome = explore(lambda: real, [lambda lock: lock.acquire()], runs=1)
    finally:
        real.release()
    assert not outcome.ok and outcome.strategy == "real threads"
    assert outcome.failure.kind == "deadlock" and "real threads" in outcome.failure.message
    assert "lost control" in outcome.failure.details


def test_explore_needs_threads():
    with pytest.raises(ValueError):
        explore(lambda: None, [])


def test_stress_misses_a_one_line_race_that_the_explorer_finds(classic):
    result = stress(classic.RacyCounter, [lambda s: [s.increment() for _ in range(100)]] * 2,
                    invariant=lambda s: s.value == 200, runs=20)
    assert result.runs == 20  # found or not, it is only a second opinion
    assert not explore(**racy(classic)).ok


def test_stress_reports_exceptions_and_invariant_failures():
    result = stress(lambda: None, [lambda s: 1 / 0], runs=3)
    assert result.failures == 3 and result.first_failure.startswith("ZeroDivisionError")
    result = stress(lambda: None, [lambda s: None], invariant=lambda s: False, runs=2)
    assert result.failures == 2


def test_stress_keeps_the_first_exception_for_a_check_to_reraise():
    def bad(_):
        raise KeyError("gone")

    result = stress(lambda: None, [bad, lambda s: None], runs=2)
    assert isinstance(result.first_error, KeyError) and result.first_error.args == ("gone",)


def test_stress_within_shares_one_deadline_and_counts_the_stuck_threads():
    import threading

    never = threading.Event()
    try:
        result = stress(lambda: None, [lambda s: never.wait(), lambda s: never.wait(),
                                       lambda s: None], runs=1, within=0.2)
        assert result.failures == 1 and result.stuck == 2
        with pytest.raises(protocol.ReportedFailure) as hung:
            result.raise_problem(lambda stuck: f"{stuck} threads hung")
        assert (hung.value.failure.kind, hung.value.failure.message) == ("hang", "2 threads hung")
    finally:
        never.set()  # the abandoned threads end with the test


def test_stress_raise_problem_reraises_the_learners_exception_and_passes_a_clean_run():
    def bad(_):
        raise KeyError("gone")

    failed = stress(lambda: None, [bad], runs=1)
    with pytest.raises(KeyError) as raised:
        failed.raise_problem(lambda stuck: "hung")
    assert raised.value is failed.first_error
    stress(lambda: None, [lambda s: None], runs=1).raise_problem(lambda stuck: "hung")


def test_explorer_fixture_seeds_from_the_check_and_replays_from_the_environment(tmp_path):
    (tmp_path / "conftest.py").write_text("")
    (tmp_path / "test_scenario.py").write_text(textwrap.dedent("""
        import pytest
        from grader.explore import ExplorationFailure

        class Counter:
            def __init__(self):
                self.value = 0

        def bump(c):
            c.value = c.value + 1

        @pytest.fixture
        def seed():
            return 7

        def test_runs(explorer):
            outcome = explorer.run(Counter, [bump, bump], invariant=lambda c: c.value == 2)
            assert outcome.ok  # uninstrumented: no points inside bump, so no race is seen
            assert explorer.seed == 7

        def test_check_raises(explorer):
            from grader.explore.shims import time
            def racy2(c):
                v = c.value
                time.sleep(0)
                c.value = v + 1
            explorer.check(Counter, [bump], invariant=lambda c: c.value == 1)
            with pytest.raises(ExplorationFailure) as info:
                explorer.check(Counter, [racy2, racy2], invariant=lambda c: c.value == 2)
            print("REPLAY", info.value.replay, explorer.outcomes[-1].runs,
                  explorer.outcomes[0].runs)
    """))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("GRADER_REPLAY", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "grader.explore.pytest_plugin",
           "-p", "no:cacheprovider", str(tmp_path)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(ln for ln in result.stdout.splitlines() if "REPLAY" in ln)
    replay, runs = line.split("REPLAY")[1].split()[:2]
    env["GRADER_REPLAY"] = replay
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert replay.startswith("2@s")  # the second scenario of the check failed
    assert f"REPLAY {replay} 1 0" in result.stdout  # only that scenario ran, once
    # A replay never grades: the other check has no second scenario, so it is not a pass.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout and "this check has no scenario 2" in result.stdout


def test_a_replayed_schedule_that_passes_fails_the_check_and_says_so(classic, monkeypatch):
    from grader.explore.pytest_plugin import Explorer

    monkeypatch.setenv("GRADER_REPLAY", "s")  # no preemption: the racy counter is right
    outcome = Explorer(5).run(**racy(classic))
    assert not outcome.ok and outcome.failure.kind == "replay"
    assert "this schedule passes; the failure was found with" in outcome.failure.message
    with pytest.raises(ExplorationFailure):
        Explorer(5).check(**racy(classic))


CROSS_VERSION_SCRIPT = """
import sys
sys.path[:0] = [{repo!r}, {learner!r}]
from grader.explore import explore, instrument
instrument.install([{learner!r}])
import classic as c
def buffer(cls):
    return dict(setup=lambda: cls(1), threads=[lambda s: [s.put(i) for i in range(2)],
                                               lambda s: s.get(), lambda s: s.get()])
cases = [dict(setup=c.RacyCounter, threads=[lambda s: s.increment()] * 2,
              invariant=lambda s: s.value == 2),
         buffer(c.NotifyOneBuffer), buffer(c.IfBuffer)]
for case in cases:
    for seed in range(4):
        o = explore(**case, seed=seed)
        print(o.runs, o.steps, o.failure.kind, o.failure.replay)
"""


def test_same_seed_gives_the_same_schedules_on_every_python_version():
    from test_instrument import interpreters

    learner = str(Path(__file__).parent / "learner")
    script = CROSS_VERSION_SCRIPT.format(repo=str(REPO), learner=learner)
    outputs = {}
    for exe in interpreters():
        result = subprocess.run([exe, "-c", script], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, (exe, result.stderr)
        outputs[exe] = result.stdout
    assert len(set(outputs.values())) == 1, outputs


def test_race_detector_names_the_unprotected_field_even_when_the_run_passed(classic):
    outcome = explore(classic.RacyCounter, [lambda s: s.increment()] * 2,
                      invariant=lambda s: s.value == 2, strategy="orders")
    assert outcome.ok  # no preemption: the result happened to be right
    assert outcome.races and all(r.startswith("RacyCounter.value: ") for r in outcome.races)
    assert "classic.py:16" in outcome.races[0]


@pytest.mark.parametrize("case", ["locked", "event", "condition"])
def test_race_detector_is_quiet_when_accesses_are_ordered(classic, case):
    scenario = {
        "locked": dict(setup=classic.LockedCounter, threads=[lambda s: s.increment()] * 2),
        "event": dict(setup=classic.Config,
                      threads=[lambda s: s.load(), lambda s: s.use_after_ready()]),
        "condition": dict(setup=lambda: classic.WhileBuffer(1),
                          threads=[lambda s: [s.put(i) for i in range(2)],
                                   lambda s: s.get(), lambda s: s.get()]),
    }[case]
    outcome = explore(**scenario, runs=50)
    assert outcome.ok and outcome.races == []


def test_learner_randomness_is_the_same_in_every_run_so_failures_replay():
    import random

    def body(s):
        s.append(random.random())

    def setup():
        return []

    seen = set()
    before = random.getstate()
    outcome = explore(setup, [body], invariant=lambda s: seen.add(s[0]) or True, runs=20)
    assert outcome.ok and len(seen) == 1
    assert random.getstate() == before  # the caller's random state is left alone


# -- the bounded search and timeouts as choices -------------------------------------------

def test_the_bounded_search_finds_the_lost_update_the_same_way_under_every_seed(classic):
    found = {(o.failure.replay, o.runs) for o in (explore(**racy(classic), seed=seed)
                                                  for seed in range(5))}
    assert len(found) == 1, found
    failure = explore(**racy(classic), seed=9).failure
    assert "found by the bounded search" in failure.details and "under any seed" in (
        failure.details)


def test_a_pass_says_what_the_bounded_search_covered(classic):
    outcome = explore(classic.LockedCounter, [lambda s: s.increment()] * 2,
                      invariant=lambda s: s.value == 2)
    coverage = outcome.coverage
    assert outcome.ok and coverage is not None and coverage.complete
    assert [b for b, _, done in coverage.bounds if done] == [1, 2, 3]
    assert coverage.text() == f"all schedules with up to 3 preemptions: {coverage.bounds[2][1]}, complete"
    record = coverage.to_dict()
    assert record["complete"] and record["bound"] == 3 and record["schedules"] == sum(
        runs for _, runs, _ in coverage.bounds)
    # Two locked increments can switch more than three times: the bound left schedules out.
    assert not coverage.exhaustive and not record["exhaustive"]


def test_a_search_that_leaves_no_schedule_out_says_so_and_searches_no_deeper_bound(classic):
    def setup():
        return [classic.Tally(), classic.Tally()]

    bodies = [lambda s, i=i: s[i].bump3() for i in range(2)]
    outcome = explore(setup, bodies, invariant=lambda s: [t.n for t in s] == [3, 3], seed=4)
    coverage = outcome.coverage
    assert outcome.ok and coverage.exhaustive and coverage.complete
    assert coverage.text() == f"every schedule: {coverage.schedules}, exhaustive"
    assert coverage.to_dict()["exhaustive"]
    # The random portfolio still runs (footprints miss accesses through a local alias).
    assert outcome.runs >= 150
    # No deeper bound is searched once a bound left nothing out.
    alone = explore(classic.Tally, [lambda t: t.bump3()], invariant=lambda t: t.n == 3)
    assert alone.ok and alone.coverage.exhaustive and alone.coverage.bounds == [(1, 1, True)]
    # With a third object the bound leaves schedules out.
    wider = explore(lambda: [classic.Tally() for _ in range(3)],
                    [lambda s, i=i: s[i].bump3() for i in range(3)],
                    invariant=lambda s: [t.n for t in s] == [3, 3, 3], seed=4)
    assert wider.ok and not wider.coverage.exhaustive


def test_steps_on_different_objects_are_not_permuted(classic):
    def setup():
        return [classic.Tally() for _ in range(3)]

    bodies = [lambda s, i=i: s[i].bump3() for i in range(3)]
    def run(**kw):
        return explore(setup, bodies, invariant=lambda s: [t.n for t in s] == [3, 3, 3],
                       strategy="exhaustive", runs=5_000, **kw)

    reduced = run()
    watched = run(always=lambda s: True)  # an `always` check turns the reduction off
    assert reduced.ok and watched.ok
    (bound, r, done), (_, w, _) = reduced.coverage.bounds[1], watched.coverage.bounds[1]
    assert bound == 2 and done and r < w, (reduced.coverage.bounds, watched.coverage.bounds)


def test_a_timed_acquire_can_time_out_while_the_holder_could_still_run():
    from grader.explore.shims import threading

    class Box:
        def __init__(self):
            self.lock = threading.Lock()
            self.got = None

    def holder(s):
        with s.lock:
            pass

    def waiter(s):
        s.got = s.lock.acquire(timeout=0.05)
        if s.got:
            s.lock.release()

    outcomes = [explore(Box, [holder, waiter], invariant=lambda s: s.got, seed=seed)
                for seed in range(3)]
    assert all(o.failure is not None for o in outcomes)
    assert len({o.failure.replay for o in outcomes}) == 1  # the bounded search, not luck
    assert "bounded search" in outcomes[0].failure.details


def test_a_retry_on_timeout_passes_and_the_search_stays_bounded():
    from grader.explore.shims import threading

    class Box:
        def __init__(self):
            self.lock = threading.Lock()
            self.n = 0

    def bump(s):
        while not s.lock.acquire(timeout=0.01):
            pass
        s.n += 1
        s.lock.release()

    outcome = explore(Box, [bump, bump], invariant=lambda s: s.n == 2, seed=1)
    assert outcome.ok, outcome.failure and outcome.failure.message
    assert outcome.coverage.bounds[0][2]  # every schedule with 1 preemption (or timeout)
