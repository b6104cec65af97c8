"""The import-time rewrite: what gets instrumented, and that it changes nothing else."""

from __future__ import annotations

import concurrent.futures  # imported before any test: `learner_dir` forgets what a test imports
import pickle
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from grader.explore import explore, instrument
from grader.explore.sync.locks import Lock as ModelledLock

REPO = Path(__file__).resolve().parents[2]


def write(folder: Path, name: str, source: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(source))


def test_modules_under_the_folder_are_rewritten_and_others_are_not(learner_dir):
    write(learner_dir, "mine", "import threading\nx = 1\n")
    import json

    import mine

    assert "__grader_point__" in vars(mine)
    assert "__grader_point__" not in vars(json)
    assert isinstance(mine.threading.Lock(), ModelledLock)


def test_install_is_idempotent(learner_dir):
    instrument.install([str(learner_dir)])
    instrument.install([str(learner_dir)])
    assert sum(1 for f in sys.meta_path if f is instrument._finder) == 1


def test_from_imports_and_aliases_get_the_models(learner_dir):
    write(learner_dir, "aliases", """
        import threading as th, os
        from threading import Lock as L, Condition
        from queue import Queue
        from time import sleep
        import time
        def make():
            return th.RLock(), L(), Condition(), Queue(), sleep, time.monotonic, os.sep
    """)
    import aliases

    rlock, lock, cond, q, sleep, mono, sep = aliases.make()
    assert type(lock).__module__ == "grader.explore.sync.locks"
    assert type(rlock).__name__ == "RLock" and type(cond).__name__ == "Condition"
    assert type(q).__module__ == "queue" and sleep.__module__ == "grader.explore.sync.clock"
    assert sep == "/"


def test_every_way_of_importing_concurrent_futures_gets_the_modelled_future(learner_dir):
    write(learner_dir, "futs", """
        import concurrent.futures
        import concurrent.futures as cf
        from concurrent.futures import Future, ThreadPoolExecutor, wait
        from concurrent import futures
        import importlib
        def make():
            return (concurrent.futures.Future, cf.Future, Future, futures.Future,
                    importlib.import_module("concurrent.futures").Future,
                    __import__("concurrent.futures").futures.Future, ThreadPoolExecutor, wait)
    """)
    import futs

    real = concurrent.futures

    *kinds, executor, wait = futs.make()
    assert all(kind is kinds[0] for kind in kinds), kinds
    assert kinds[0] is not real.Future and issubclass(kinds[0], object)
    assert executor is real.ThreadPoolExecutor  # executors stay real
    # outside an exploration the modelled Future works on real threads
    future = kinds[0]()
    threading.Timer(0.01, future.set_result, ("late",)).start()
    assert future.result(timeout=10) == "late"
    assert wait([future]).done == {future}
    with real.ThreadPoolExecutor(1) as pool:  # and real futures go to the real wait
        assert wait([pool.submit(int, "7")]).done.pop().result() == 7


def test_star_imports_get_the_models(learner_dir):
    write(learner_dir, "star", """
        from threading import *
        from time import *
        def make():
            return Lock(), Condition(), current_thread(), sleep, strftime
    """)
    import star

    lock, cond, me, sleep, strftime = star.make()
    assert strftime("%Y") >= "2024"
    assert type(lock).__module__ == "grader.explore.sync.locks"
    assert type(cond).__module__ == "grader.explore.sync.condition"
    assert me is threading.current_thread()
    assert sleep.__module__ == "grader.explore.sync.clock"


def test_outside_an_exploration_the_module_runs_on_real_threads(learner_dir):
    write(learner_dir, "counter", """
        import threading
        class Counter:
            def __init__(self):
                self._value = 0
                self._lock = threading.Lock()
            def increment(self, n=1):
                with self._lock:
                    self._value += n
            def value(self):
                return self._value
    """)
    import counter

    c = counter.Counter()
    threads = [threading.Thread(target=lambda: [c.increment() for _ in range(1000)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert c.value() == 4000


def test_functions_and_classes_stay_picklable_with_their_names(learner_dir):
    write(learner_dir, "work", """
        class Job:
            def __init__(self, n):
                self.n = n
        def square(x):
            return x * x
    """)
    import work

    assert work.square.__module__ == "work" and work.Job.__qualname__ == "Job"
    assert pickle.loads(pickle.dumps(work.square))(3) == 9
    assert pickle.loads(pickle.dumps(work.Job(4))).n == 4


def test_rewrite_keeps_semantics_of_tricky_statements(learner_dir):
    write(learner_dir, "tricky", """
        calls = []
        total = 0
        def key():
            calls.append(1)
            return "k"
        class Box:
            def __init__(self):
                self.__hidden = 1
                self.d = {"k": 1}
                self.items = [1, 2, 3]
            def bump(self):
                global total
                self.__hidden += 1
                self.d[key()] += 5
                self.items[1:2] = [7, 8]
                total += 1
                a, self.pair = 1, (2, 3)
                del self.items[0]
                return self.__hidden, self.d, self.items, total, self.pair
    """)
    import tricky

    assert tricky.Box().bump() == (2, {"k": 6}, [7, 8, 3], 1, (2, 3))
    assert tricky.calls == [1]  # a key with side effects is evaluated once


def test_no_bytecode_cache_is_written(learner_dir):
    write(learner_dir, "nocache", "x = 1\n")
    import nocache  # noqa: F401

    assert not (learner_dir / "__pycache__").exists()


def test_a_race_on_a_global_is_found(learner_dir):
    write(learner_dir, "hitcount", """
        hits = 0
        def hit():
            global hits
            hits += 1
    """)
    import hitcount as g

    def setup():
        g.hits = 0
        return g

    outcome = explore(setup, [lambda m: m.hit()] * 2, invariant=lambda m: m.hits == 2, seed=1)
    assert outcome.failure.kind == "invariant"
    assert any(step["operation"] == "read hits" for step in outcome.failure.trace)


def test_a_race_on_a_closure_variable_is_found(learner_dir):
    write(learner_dir, "closure", """
        def make_counter():
            count = 0
            def inc():
                nonlocal count
                count += 1
            def get():
                return count
            return inc, get
    """)
    import closure

    outcome = explore(closure.make_counter, [lambda s: s[0]()] * 2,
                      invariant=lambda s: s[1]() == 2, seed=2)
    assert outcome.failure is not None and outcome.failure.kind == "invariant"


def test_trace_points_at_the_learners_lines(learner_dir):
    write(learner_dir, "racy", """
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                self.value += 1
    """)
    import racy

    failure = explore(racy.Counter, [lambda c: c.increment()] * 2,
                      invariant=lambda c: c.value == 2, seed=0).failure
    assert failure is not None
    for step in failure.trace:
        assert set(step) == {"thread", "file", "line", "source", "operation", "switch"}
    steps = [s for s in failure.trace if s["thread"] in ("T1", "T2")]
    assert {(s["file"], s["line"], s["source"]) for s in steps} == {
        ("racy.py", 6, "self.value += 1")}
    assert {s["operation"] for s in steps} == {"read self.value", "write self.value"}
    assert any(s["switch"] for s in steps)


def interpreters() -> list[str]:
    """python3.10 ... python3.13, by name or from pyenv's folders."""
    import glob
    import os
    import shutil

    found = []
    for minor in (10, 11, 12, 13):
        candidates = [shutil.which(f"python3.{minor}") or ""]
        candidates += sorted(glob.glob(os.path.expanduser(
            f"~/.pyenv/versions/3.{minor}.*/bin/python3.{minor}")))
        for exe in candidates:
            if exe and subprocess.run([exe, "-c", "pass"], capture_output=True).returncode == 0:
                found.append(exe)
                break
    return found


def test_instrumented_module_imports_on_every_python(tmp_path):
    """The rewrite compiles on each interpreter we can find (3.10 to 3.13)."""
    (tmp_path / "m.py").write_text(textwrap.dedent("""
        import threading
        from queue import Queue
        class C:
            def f(self, xs):
                self.n = 0
                for x in xs:
                    self.n += x
                while self.n > 100:
                    self.n //= 2
                return [y for y in xs if y > self.n], (lambda: self.n)()
        print(C().f([50, 60, 70]))
    """))
    code = (f"import sys; sys.path[:0] = [{str(REPO)!r}, {str(tmp_path)!r}]; "
            f"from grader.explore import instrument; instrument.install([{str(tmp_path)!r}]); "
            "import m")
    found = 0
    for exe in interpreters():
        found += 1
        result = subprocess.run([exe, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (exe, result.stderr)
        assert result.stdout.strip() == "([], 90)", (exe, result.stdout)
    assert found >= 1


def test_module_level_primitives_start_every_schedule_afresh(learner_dir):
    write(learner_dir, "globallock", """
        import threading
        LOCK = threading.Lock()
        SLOTS = threading.Semaphore(1)
        READY = threading.Event()
        def grab_and_fail():
            SLOTS.acquire()
            READY.set()
            LOCK.acquire()
            raise ValueError("left the lock held")
    """)
    import globallock

    # The failing schedule is replayed to confirm and shrink it: each replay must start with
    # the lock free and the semaphore at 1, or it would deadlock instead of failing the same way.
    outcome = explore(lambda: None, [lambda s: globallock.grab_and_fail()], seed=0)
    assert outcome.failure.kind == "exception" and "ValueError" in outcome.failure.message
    assert not globallock.LOCK.locked() and not globallock.READY.is_set()


def test_every_module_the_rewrite_sends_to_a_shim_has_one():
    from grader.explore import shims

    assert set(shims.SHIMMED) == {*shims._MODULES, *shims._LAZY}


def test_a_poller_that_writes_nothing_counts_its_quiet_steps(learner_dir):
    """`ManagedThread.quiet` counts a thread's scheduling points since its last store to
    shared state (an attribute, a subscript or a global): a busy poller's count grows while it
    polls, a thread that stores keeps it low. A check may take a long quiet run for waiting."""
    write(learner_dir, "polls", """
        class Flag:
            def __init__(self):
                self.up = False
                self.slots = [0]
                self.ticks = 0

            def wait_up(self):
                while not self.up:
                    pass

            def raise_it(self):
                self.up = True

            def busy(self, n):
                for _ in range(n):
                    self.ticks += 1
                    self.slots[0] = self.ticks
    """)
    import polls

    from grader.explore import runtime

    seen = {}

    def setup():
        return polls.Flag()

    def poller(flag):
        flag.wait_up()

    def raiser(flag):
        me = runtime.current()
        poller_thread = next(t for t in me.sched.threads if t.name == "T1")
        me.sched.block(me, lambda: poller_thread.quiet >= 50, None,
                       runtime.Blocked("until the poller polled a while"))
        seen["poller"] = poller_thread.quiet
        flag.busy(30)
        seen["busy"] = me.quiet
        flag.raise_it()

    outcome = explore(setup, [poller, raiser], runs=5, seed=1, systematic=False)
    assert outcome.ok, outcome.failure and outcome.failure.message
    assert seen["poller"] >= 50
    assert seen["busy"] <= 3
