"""The OS threads reused from schedule to schedule carry nothing of one schedule into the next."""

from __future__ import annotations

import contextvars
import os
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from grader.explore import carriers, explore


def write(folder: Path, name: str, source: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(source))


def test_a_module_level_local_starts_empty_in_every_schedule(learner_dir):
    # A flag left set in a thread-local by one schedule (here: never cleared) would make the
    # next schedule on the same OS thread behave differently: runs would depend on history.
    write(learner_dir, "marks", """
        import threading
        import _thread
        import _threading_local
        from threading import local as imported_local
        MARKS = [threading.local(), _thread._local(), _threading_local.local(), imported_local()]
        def mark():
            seen = [getattr(m, "seen", None) for m in MARKS]
            for m in MARKS:
                m.seen = threading.current_thread().name
            return seen
    """)
    import marks

    found = []

    def body(state):
        found.append(marks.mark())

    outcome = explore(lambda: None, [body, body], runs=30, seed=3)
    assert outcome.ok and len(found) >= 2 * 30  # every schedule ran both threads
    assert all(seen == [None] * 4 for seen in found)


def test_attributes_set_on_the_current_thread_do_not_reach_the_next_schedule(learner_dir):
    write(learner_dir, "tagged", """
        import threading
        def tag():
            me = threading.current_thread()
            seen = getattr(me, "shard", None)
            me.shard = [1]
            return seen
    """)
    import tagged

    found = []
    assert explore(lambda: None, [lambda s: found.append(tagged.tag())] * 2, runs=20).ok
    assert len(found) >= 40 and set(map(repr, found)) == {"None"}


def test_a_local_subclass_is_initialised_once_per_thread_with_its_arguments(learner_dir):
    write(learner_dir, "depth", """
        import threading
        class Depth(threading.local):
            def __init__(self, start):
                self.level = start
                self.inits = getattr(self, "inits", 0) + 1
        DEPTH = Depth(5)
        def enter():
            DEPTH.level += 1
            return DEPTH.level, DEPTH.inits
    """)
    import depth

    seen = []
    outcome = explore(lambda: None, [lambda s: seen.append(depth.enter())] * 2, runs=10)
    assert outcome.ok
    assert set(seen) == {(6, 1)}
    assert depth.DEPTH.level == 5  # the creating thread's value, untouched


def test_a_local_outside_an_exploration_is_per_os_thread(learner_dir):
    write(learner_dir, "plain", """
        import threading
        TL = threading.local()
    """)
    import plain

    plain.TL.value = "main"
    other = []
    worker = threading.Thread(target=lambda: other.append(getattr(plain.TL, "value", None)))
    worker.start()
    worker.join()
    assert other == [None] and plain.TL.value == "main"


def test_a_trace_function_or_an_affinity_set_by_a_schedule_does_not_reach_the_next():
    can_pin = hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1
    allowed = os.sched_getaffinity(0) if can_pin else set()
    seen = []

    def mine(*args):
        return None

    def body(state):
        cpus = os.sched_getaffinity(0) if can_pin else None
        seen.append((sys.gettrace(), cpus))
        sys.settrace(mine)
        if can_pin:  # somewhere this job was not put
            os.sched_setaffinity(0, set((sorted(allowed - cpus) or sorted(cpus))[:1]))

    assert explore(lambda: None, [body, body], runs=10, seed=1).ok
    assert len(seen) >= 20
    traces = {trace for trace, _ in seen}
    assert mine not in traces and len(traces) == 1
    if can_pin:
        assert len({frozenset(cpus) for _, cpus in seen}) == 1


def test_context_variables_do_not_cross_schedules():
    var = contextvars.ContextVar("var", default=None)
    seen = []

    def body(state):
        seen.append(var.get())
        var.set("set in an earlier schedule")

    assert explore(lambda: None, [body, body], runs=20).ok
    assert seen and set(seen) == {None}


def test_carriers_serve_the_next_schedules_and_a_stuck_one_is_left_out():
    explore(lambda: None, [lambda s: None] * 3, runs=3)
    assert carriers.idle() >= 4  # the scenario's main thread and its three threads
    before = carriers.idle()
    stuck = threading.Event()
    job = carriers.start(stuck.wait, (), "stuck")
    assert not job.join(0.05) and job.is_alive()
    assert carriers.idle() == before - 1
    stuck.set()
    assert job.join(5.0) and not job.is_alive()
    assert carriers.idle() == before


def test_a_job_gets_the_name_it_was_started_with():
    names = []
    job = carriers.start(lambda: names.append(threading.current_thread().name), (), "job-one")
    job.join(5.0)
    assert names == ["job-one"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_has_no_carriers_and_makes_its_own():
    explore(lambda: None, [lambda s: None] * 2, runs=2)
    assert carriers.idle() >= 3
    read, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its carriers did not survive the fork; an exploration still runs
        ok = carriers.idle() == 0 and explore(lambda: None, [lambda s: None] * 2, runs=2).ok
        os.write(write_end, b"1" if ok and carriers.idle() >= 3 else b"0")
        os._exit(0)
    os.close(write_end)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
