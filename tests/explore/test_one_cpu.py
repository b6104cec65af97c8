"""An exploration's threads share one CPU while it runs, and leave the affinity as it was."""

from __future__ import annotations

import os
import threading

import pytest

from grader import protocol
from grader.explore import explore, one_cpu

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="pinning needs an affinity call and at least two CPUs to choose from")


@pytest.fixture(autouse=True)
def _pinning_on(monkeypatch):
    monkeypatch.delenv(protocol.ENV_EXPLORE_PIN, raising=False)


def test_the_current_cpu_is_one_the_thread_may_run_on():
    assert one_cpu.current_cpu() in os.sched_getaffinity(0)


def test_pinning_holds_for_the_body_and_threads_started_in_it_then_is_undone():
    before = os.sched_getaffinity(0)
    started_before = []
    ready, go = threading.Event(), threading.Event()

    def earlier():
        ready.set()
        go.wait()
        started_before.append(os.sched_getaffinity(0))

    early = threading.Thread(target=earlier)
    early.start()
    ready.wait()
    inside = []
    with one_cpu.pinned() as cpu:
        inside.append(os.sched_getaffinity(0))
        later = threading.Thread(target=lambda: inside.append(os.sched_getaffinity(0)))
        later.start()
        later.join()
        go.set()
        early.join()
    assert cpu in before
    assert inside == [{cpu}, {cpu}]
    assert started_before == [before]  # a thread that existed before is not moved
    assert os.sched_getaffinity(0) == before


def test_the_affinity_is_restored_when_the_body_raises():
    before = os.sched_getaffinity(0)
    with pytest.raises(RuntimeError), one_cpu.pinned():
        raise RuntimeError("the exploration failed")
    assert os.sched_getaffinity(0) == before


def test_an_explorations_threads_run_on_one_cpu_and_the_caller_is_free_after(monkeypatch):
    before = os.sched_getaffinity(0)
    seen = set()

    def body(state):
        seen.add(frozenset(os.sched_getaffinity(0)))

    outcome = explore(lambda: None, [body, body], runs=5)
    assert outcome.ok
    assert len(seen) == 1 and len(next(iter(seen))) == 1
    assert os.sched_getaffinity(0) == before

    monkeypatch.setenv(protocol.ENV_EXPLORE_PIN, "0")
    seen.clear()
    assert explore(lambda: None, [body, body], runs=5).ok
    assert seen == {frozenset(before)}
