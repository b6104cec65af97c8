"""Checks for `supervisor`: outcomes for every kind of worker death, retries, kills, parallelism.

Tasks come from `grader.processes.faults` and `grader.processes.tasks`
(module-level, so they pickle under any start method). Every call runs under a
deadline and inside a `ProcessWatch`, so a hung supervisor is reported and a
worker left behind is named.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader.checks import (
    CheckFailure,
    Overran,
    ProcessWatch,
    call_with_deadline,
    deadline,
    faults,
    short_timeout,
    slow_start,
    tasks,
)

#: the idle-machine floor of a call's deadline; it grows with the measured load
DEADLINE_S = 30.0

THREADS_LESSON = (
    "A thread shares its process: a segfault, an abort or os._exit in one task would kill the "
    "supervisor and every other task with it, and a hung thread cannot be killed at all. Run "
    "each task in a worker process: a process that dies, dies alone, and the supervisor "
    "survives to report it."
)


@pytest.fixture
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="supervisor-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(submission: ModuleType, task_list: list, watch: ProcessWatch | None = None,
         **options: Any) -> list:
    limit = deadline(DEADLINE_S)
    try:
        got = call_with_deadline(submission.run_isolated, task_list, deadline_s=limit,
                                 watch=watch, **options)
    except Overran as exc:
        raise CheckFailure(
            "hang",
            f"run_isolated({len(task_list)} tasks, {options}) did not return within "
            f"{limit:.0f}s.",
            processes=[p.as_process_info(note="killed by the grader") for p in exc.watch.workers],
        ) from None
    if not isinstance(got, list) or len(got) != len(task_list):
        raise CheckFailure("outcomes", f"run_isolated should return one outcome per task "
                                       f"({len(task_list)}), got {got!r:.200}.")
    return [tuple(o) if isinstance(o, list) else o for o in got]


def _expect(got: list, want: list, names: list[str], context: str) -> None:
    for outcome, expected, name in zip(got, want, names):
        if outcome != expected:
            raise CheckFailure("outcome", f"{context}: the task that {name} should give "
                                          f"{expected!r} but gave {outcome!r}.")


def test_worker_processes(submission: ModuleType) -> None:
    got = _run(submission, [(faults.worker_pid, ())] * 4, workers=2, timeout=10, retries=0)
    pids = {o[1] for o in got if isinstance(o, tuple) and len(o) == 2 and o[0] == "ok"}
    if len(pids) == 0:
        raise CheckFailure("outcome", f"Tasks that return a value should give ('ok', value); "
                                      f"got {got!r:.200}.")
    if os.getpid() in pids:
        raise CheckFailure("threads", "Your tasks ran inside the supervisor's own process "
                                      f"(in threads, or called directly). {THREADS_LESSON}")


def test_ok_results(submission: ModuleType) -> None:
    values = [1, "two", [3, {"four": 4}], None, 5.5, (6, 7)]
    got = _run(submission, [(faults.return_value, (v,)) for v in values], workers=2,
               timeout=10, retries=0)
    _expect(got, [("ok", v) for v in values], [f"returns {v!r}" for v in values],
            "Six tasks that return values")
    got = _run(submission, [(tasks.add, (40, 2))], workers=1, timeout=10)
    _expect(got, [("ok", 42)], ["computes add(40, 2)"], "A task with two arguments")
    assert _run(submission, [], workers=2) == [], "run_isolated([]) should return []."


def test_validation(submission: ModuleType) -> None:
    cases = [([(faults.return_value, (1,))], o)
             for o in ({"workers": 0}, {"workers": -1}, {"timeout": 0}, {"timeout": -2.5})]
    cases += [([], {"workers": 0}), ([], {"timeout": -1})]  # checked before an early return
    for task_list, options in cases:
        shown = f"{len(task_list)} task(s), {options}"
        try:
            _run(submission, task_list, **options)
        except ValueError:
            continue
        except CheckFailure:
            raise
        except Exception as exc:
            raise CheckFailure("validation", f"run_isolated({shown}) should raise "
                                             f"ValueError, not {type(exc).__name__}.") from None
        raise CheckFailure("validation", f"run_isolated({shown}) should raise ValueError.")


def test_errors(submission: ModuleType, scratch: Path) -> None:
    log = str(scratch / "raise.log")
    task_list = [
        (faults.counted_raise, (log, "ValueError", "bad input")),
        (faults.raise_error, ("KeyError", "k")),
        (faults.raise_error, ("ZeroDivisionError", "no zero")),
        (faults.return_value, ("fine",)),
        (tasks.refuse_on, (6, 6, "will not take")),
        (faults.raise_error, ("ValueError", "")),
    ]
    got = _run(submission, task_list, workers=2, timeout=10, retries=2)
    _expect(got, [("error", "ValueError: bad input"), ("error", "KeyError: 'k'"),
                  ("error", "ZeroDivisionError: no zero"), ("ok", "fine"),
                  ("error", "Refused: will not take 6"), ("error", "ValueError: ")],
            ["raises ValueError('bad input')", "raises KeyError('k')",
             "raises ZeroDivisionError('no zero')", "returns 'fine'",
             "raises Refused (an exception class of the checks' own that does not survive "
             "pickling)", "raises ValueError('') (an empty message: f\"{type(e).__name__}: {e}\" "
             "still has its colon and space)"],
            "Tasks that raise (retries=2)")
    runs = faults.attempts(log)
    if runs != 1:
        raise CheckFailure("retried-error", f"A task that raised ran {runs} times with "
                                            "retries=2: an exception is the task's answer, "
                                            "not a crash, and must not be retried.")
    got = _run(submission, [(faults.exhaust_memory, (64,))], workers=1, timeout=20, retries=0)
    if not (isinstance(got[0], tuple) and got[0][0] == "error"
            and str(got[0][1]).startswith("MemoryError")):
        raise CheckFailure("outcome", f"A task that runs out of memory (MemoryError raised in "
                                      f"the worker) should give ('error', 'MemoryError: ...'), "
                                      f"got {got[0]!r}.")


def test_crashes(submission: ModuleType) -> None:
    cases = [
        (faults.segfault, (), f"signal {signal.SIGSEGV.value}", "segfaults"),
        (faults.abort, (), f"signal {signal.SIGABRT.value}", "aborts"),
        (faults.return_value, ("alive",), None, "returns 'alive'"),
        (faults.exit_now, (3,), "exit code 3", "calls os._exit(3)"),
        (faults.sys_exit, (4,), "exit code 4", "calls sys.exit(4)"),
        (faults.exit_now, (0,), "exit code 0", "calls os._exit(0)"),
        (faults.sys_exit, (0,), "exit code 0", "calls sys.exit(0)"),
        (faults.die_by_signal, (signal.SIGKILL.value,), "signal 9", "is killed by SIGKILL"),
        (faults.die_by_signal, (signal.SIGTERM.value,), "signal 15", "is killed by SIGTERM"),
    ]
    with ProcessWatch() as watch:
        got = _run(submission, [(fn, args) for fn, args, _, _ in cases], watch=watch,
                   workers=2, timeout=10, retries=0)
    want = [("crashed", how) if how else ("ok", "alive") for _, _, how, _ in cases]
    _expect(got, want, [name for *_, name in cases], "Tasks whose worker dies (retries=0)")
    watch.require_no_leftovers("After run_isolated returned")


def test_timeouts(submission: ModuleType, scratch: Path) -> None:
    log = str(scratch / "hang.log")
    task_list = [(faults.counted_hang, (log, 60.0)), (faults.slow_value, ("quick", 0.05)),
                 (faults.spin, (60.0,)), (faults.hang_stubbornly, (60.0,)),
                 (faults.hang_ignoring_sigterm, (60.0,))]
    with ProcessWatch() as watch:
        got = _run(submission, task_list, watch=watch, workers=4, timeout=1.0, retries=0)
    _expect(got, [("timeout", None), ("ok", "quick"), ("timeout", None), ("timeout", None),
                  ("timeout", None)],
            ["sleeps for a minute", "returns after 0.05 s", "spins the CPU for a minute",
             "sleeps for a minute and catches every exception raised into it",
             "ignores SIGTERM and sleeps for a minute (terminate() does not stop it; a kill "
             "does)"],
            "Tasks with timeout=1.0")
    watch.require_no_leftovers("After tasks timed out")
    got = _run(submission, [(faults.slow_value, ("in time", 0.3))], workers=1, timeout=5.0)
    _expect(got, [("ok", "in time")], ["takes 0.3 s"], "A task well inside timeout=5")
    # each task's clock starts with that task: three tasks that each take 0.4 of the timeout,
    # one after another (in one worker, if workers are reused), are all in time
    timeout = short_timeout(1.5, 50)
    each = round(timeout * 0.4, 2)
    got = _run(submission, [(faults.slow_value, (f"task {k}", each)) for k in range(3)],
               workers=1, timeout=timeout, retries=0)
    _expect(got, [("ok", f"task {k}") for k in range(3)],
            [f"takes {each:g} s and runs {('first', 'second', 'third')[k]} of three, with "
             "workers=1" for k in range(3)],
            f"Tasks with timeout={timeout:g} (each task's time counts from its own start, not "
            "from the first task a reused worker ran)")
    # the timeout counts from the task's start: workers that take long to start up are fine
    timeout = short_timeout(1.2, 40)
    with slow_start(timeout + 1.0):
        got = _run(submission, [(faults.slow_value, ("late start", 0.1))] * 2, workers=2,
                   timeout=timeout, retries=0)
    _expect(got, [("ok", "late start")] * 2,
            [f"takes 0.1 s in a worker whose start-up takes {timeout + 1.0:.1f} s"] * 2,
            f"Tasks with timeout={timeout:.1f} (it counts from the task's start, not the "
            "worker's)")


def test_retries(submission: ModuleType, scratch: Path) -> None:
    crash_log, hang_log, flaky_log, flaky0_log, err_log, mixed_log = (
        str(scratch / n) for n in ("crash", "hang", "flaky", "flaky0", "err", "mixed"))
    got = _run(submission, [(faults.counted_exit, (crash_log, 3)),
                            (faults.counted_hang, (hang_log, 60.0)),
                            (faults.crash_first, (flaky_log, "recovered")),
                            (faults.counted_raise, (err_log,)),
                            (faults.crash_then_hang, (mixed_log, 60.0))],
               workers=2, timeout=short_timeout(), retries=1)
    _expect(got, [("crashed", "exit code 3"), ("timeout", None), ("ok", "recovered"),
                  ("error", "ValueError: bad input"), ("timeout", None)],
            ["always exits with code 3", "always hangs", "crashes once, then succeeds",
             "raises ValueError", "crashes, then hangs, then would crash again (one budget "
             "for both kinds of retry: the last attempt is the hang)"], "With retries=1")
    counts = {"crashing": (faults.attempts(crash_log), 2), "hanging": (faults.attempts(hang_log), 2),
              "raising": (faults.attempts(err_log), 1),
              "crashing-then-hanging": (faults.attempts(mixed_log), 2)}
    for name, (runs, want) in counts.items():
        if runs != want:
            raise CheckFailure("retries", f"With retries=1 the {name} task ran {runs} times; it "
                                          f"should run {want} time(s) (a crash or timeout is "
                                          "retried up to `retries` more times, an error never).")
    crash3_log = str(scratch / "crash3")
    got = _run(submission, [(faults.counted_exit, (crash3_log, 6))], workers=1, timeout=5.0,
               retries=3)
    _expect(got, [("crashed", "exit code 6")], ["always exits with code 6"], "With retries=3")
    if faults.attempts(crash3_log) != 4:
        raise CheckFailure("retries", f"With retries=3 a task that always crashes ran "
                                      f"{faults.attempts(crash3_log)} times; it should run 4.")
    got = _run(submission, [(faults.crash_first, (flaky0_log, "recovered"))], workers=1,
               timeout=5.0, retries=0)
    _expect(got, [("crashed", "exit code 5")], ["crashes once, then would succeed"],
            "With retries=0")


def test_killed_from_outside(submission: ModuleType, scratch: Path) -> None:
    markers = scratch / "marks"
    task_list = [(faults.held_task, (str(markers), "victim", "survived", 20.0)),
                 (faults.slow_value, ("bystander", 0.2))]
    with faults.KillWhileHolding(markers, "victim") as killer:
        got = _run(submission, task_list, workers=2, timeout=25, retries=1)
    if not killer.killed:
        raise CheckFailure("not-killed", "The grader could not find the worker running the "
                                         "task to kill it (it should run in a child process).")
    _expect(got, [("ok", "survived"), ("ok", "bystander")],
            [f"was SIGKILLed from outside mid-task (pid {killer.killed[0]}) and retried",
             "ran beside it"], "A worker killed mid-task, retries=1")
    markers0 = scratch / "marks0"
    with faults.KillWhileHolding(markers0, "victim") as killer:
        got = _run(submission, [(faults.held_task, (str(markers0), "victim", "x", 20.0))],
                   workers=1, timeout=25, retries=0)
    _expect(got, [("crashed", "signal 9")], ["was SIGKILLed from outside mid-task"],
            "A worker killed mid-task, retries=0")
    # a reused worker killed while it waits for work: no task is lost, the supervisor survives
    idle = scratch / "idle"
    idle.mkdir()
    quick = [(faults.marked_value, (str(idle), i)) for i in range(4)]
    with ProcessWatch() as watch:
        got = _run(submission, [*quick, (faults.kill_idle_siblings, (str(idle), 4))],
                   watch=watch, workers=2, timeout=25, retries=0)
    _expect(got[:4], [("ok", i) for i in range(4)], [f"returns {i}" for i in range(4)],
            "Four quick tasks, then one that SIGKILLs the idle workers beside it")
    if not (isinstance(got[4], tuple) and got[4][0] == "ok"):
        raise CheckFailure("outcome", f"The task that kills idle workers beside it should give "
                                      f"('ok', [pids]) but gave {got[4]!r}.")
    watch.require_no_leftovers("After idle workers were killed from outside")


def test_isolation(submission: ModuleType) -> None:
    task_list = [(faults.return_value, (0,)), (faults.segfault, ()), (faults.return_value, (2,)),
                 (faults.abort, ()), (faults.return_value, (4,)), (faults.hang, (60.0,)),
                 (faults.return_value, (6,)), (faults.exit_now, (9,)), (faults.return_value, (8,))]
    got = _run(submission, task_list, workers=2, timeout=short_timeout(), retries=0)
    for i in (0, 2, 4, 6, 8):
        if got[i] != ("ok", i):
            raise CheckFailure("isolation", f"Task {i} returns {i} but gave {got[i]!r}: a worker "
                                            "that died cost another task its result.")
    kinds = [got[i][0] if isinstance(got[i], tuple) else got[i] for i in (1, 3, 5, 7)]
    if kinds != ["crashed", "crashed", "timeout", "crashed"]:
        raise CheckFailure("isolation", f"The dying tasks (segfault, abort, hang, os._exit) "
                                        f"gave {kinds}, expected crashed, crashed, timeout, "
                                        "crashed.")


def test_parallel(submission: ModuleType, scratch: Path) -> None:
    meet = scratch / "meet"
    meet.mkdir()
    got = _run(submission, [(tasks.meet, (str(meet), 10.0, 0.1, i)) for i in range(2)],
               workers=2, timeout=25, retries=0)
    met = [o for o in got if isinstance(o, tuple) and o[0] == "ok" and o[1].get("met")]
    if not met:
        raise CheckFailure("not-parallel", f"With workers=2, two tasks never ran at the same time "
                                           f"in two worker processes (outcomes {got!r:.200}).")
    occupied = scratch / "occupied"
    occupied.mkdir()
    got = _run(submission, [(tasks.occupy, (str(occupied), 0.25))] * 4, workers=2, timeout=25,
               retries=0)
    most = max((o[1] for o in got if isinstance(o, tuple) and o[0] == "ok"), default=0)
    if most > 2:
        raise CheckFailure("too-many", f"With workers=2, {most} tasks ran at the same time: "
                                       "run at most `workers` tasks at once.")
    retried = scratch / "retried"
    retried.mkdir()
    task_list = [(faults.crash_then_occupy, (str(scratch / f"crash{i}"), str(retried), 0.3))
                 for i in range(2)] + [(tasks.occupy, (str(retried), 0.3))] * 3
    got = _run(submission, task_list, workers=2, timeout=25, retries=1)
    most = max((o[1] for o in got if isinstance(o, tuple) and o[0] == "ok"
                and isinstance(o[1], int)), default=0)
    if most > 2:
        raise CheckFailure("too-many", f"With workers=2 and retries=1, {most} tasks (retries "
                                       "included) ran at the same time: a retry takes a worker "
                                       "slot like any task.")


def test_nothing_left(submission: ModuleType) -> None:
    with ProcessWatch() as watch:
        _run(submission, [(faults.return_value, (1,)), (faults.exit_now, (2,)),
                          (faults.hang, (60.0,)), (faults.return_value, (3,))],
             watch=watch, workers=2, timeout=short_timeout(), retries=0)
    watch.require_no_leftovers("After run_isolated returned")
    # The hanging task holds memory, as a real worker does, so once killed it takes
    # milliseconds to die: multiprocessing reaps dead children when it starts the next one,
    # and a worker that died quickly would be reaped by that chance, not by the supervisor.
    with ProcessWatch() as watch:
        _run(submission, [(faults.exit_now, (2,)), (faults.return_value, (1,)),
                          (faults.hang_holding, (256, 60.0)), (faults.die_by_signal, (9,))],
             watch=watch, workers=2, timeout=short_timeout(), retries=1)
    watch.require_no_leftovers(
        "After run_isolated returned (retries=1: every attempt's worker counts)")


def test_mixed_outcomes(submission: ModuleType, scratch: Path, rng: Any) -> None:
    """Hidden: a mix of outcomes drawn from the seed, with the seed's workers and retries."""
    workers, retries = rng.randrange(1, 4), rng.randrange(0, 3)
    task_list: list = []
    want: list = []
    for i in range(rng.randrange(6, 11)):
        kind = rng.choice(["ok", "error", "exit", "signal", "flaky", "slow"])
        if kind == "ok":
            task_list.append((faults.return_value, ([i, "v"],)))
            want.append(("ok", [i, "v"]))
        elif kind == "error":
            task_list.append((faults.raise_error, ("LookupError", f"no {i}")))
            want.append(("error", f"LookupError: no {i}"))
        elif kind == "exit":
            code = rng.randrange(0, 10)
            task_list.append((faults.exit_now, (code,)))
            want.append(("crashed", f"exit code {code}"))
        elif kind == "signal":
            signum = rng.choice([signal.SIGKILL, signal.SIGTERM, signal.SIGUSR1]).value
            task_list.append((faults.die_by_signal, (signum,)))
            want.append(("crashed", f"signal {signum}"))
        elif kind == "flaky":
            task_list.append((faults.crash_first, (str(scratch / f"flaky{i}"), i)))
            want.append(("ok", i) if retries else ("crashed", "exit code 5"))
        else:
            task_list.append((faults.slow_value, (i, 0.05)))
            want.append(("ok", i))
    with ProcessWatch() as watch:
        got = _run(submission, task_list, watch=watch, workers=workers, timeout=10,
                   retries=retries)
    got = [(o[0], list(o[1]) if isinstance(o[1], tuple) else o[1]) if isinstance(o, tuple) else o
           for o in got]
    _expect(got, want, [f"is task {i}" for i in range(len(want))],
            f"{len(want)} mixed tasks, workers={workers}, retries={retries}")
    watch.require_no_leftovers("After the mixed run returned")
