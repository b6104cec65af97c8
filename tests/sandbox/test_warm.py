"""The warm harness (grader.sandbox.warm): gradings forked by one zygote, one after another.

Every test grades real submissions through `grade_submission` with `warm=True`, so they are
forked by a zygote in a real bwrap sandbox; gradings in one test share one session (same
exercise, same thread). What each promises: the same grades as cold children; a run's
processes, files and IPC objects are gone before the next run starts; a run cannot read the
zygote's memory; a run that kills the zygote loses only its own grading.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from grader.grading.grade import GradeOptions, grade_submission
from grader.sandbox import warm
from grader.sandbox.registry import BACKENDS
from grader.spec import load_exercise

ROOT = Path(__file__).resolve().parents[2]
COUNTER = load_exercise(ROOT / "exercises" / "counter")
REFERENCE = (ROOT / "solutions" / "counter" / "reference.py").read_text()

pytestmark = pytest.mark.skipif(
    not BACKENDS["bwrap"]().available()[0], reason="the warm harness needs bwrap")


def _sessions() -> list[warm.WarmSession]:
    return [s for idle in warm.POOL._idle.values() for s in idle]


@pytest.fixture
def submit(tmp_path: Path):
    warm.POOL.close()  # sessions other tests in this process left idle are not this test's

    def submit(source: str, name: str) -> Path:
        path = tmp_path / name / "counter.py"
        path.parent.mkdir()
        path.write_text(source)
        return path

    yield submit
    warm.POOL.close()


def _grade(path: Path, *, warm_: bool = True, seed: int = 1):
    return grade_submission(COUNTER, path, GradeOptions(seed=seed, warm=warm_))


def _check(result, check_id: str):
    return next(c for c in result.checks if c.id == check_id)


def _verdicts(result) -> list[tuple[str, str, str | None]]:
    return [(c.id, c.status.value, c.failure.kind if c.failure else None) for c in result.checks]


@pytest.mark.parametrize("solution", ["reference", "buggy_unlocked", "buggy_ignores_n",
                                      "correct_multiprocessing_lock",
                                      "correct_shards_on_current_thread"])
def test_a_warm_grading_gives_the_cold_grade(solution, submit):
    path = submit((ROOT / "solutions" / "counter" / f"{solution}.py").read_text(), solution)
    first = _grade(path)
    again = _grade(path)  # the session's second run
    cold = _grade(path, warm_=False)
    assert _verdicts(first) == _verdicts(again) == _verdicts(cold)
    assert first.score == again.score == cold.score
    assert [s.runs for s in _sessions()] == [2], "both warm gradings ran in one session"


@pytest.fixture(params=["cgroups", "no-cgroups"])
def cgroups_or_not(request, monkeypatch):
    """Where cgroups do not work (no root, no delegation) the zygote alone kills a run."""
    if request.param == "no-cgroups":
        monkeypatch.setattr(BACKENDS["bwrap"], "use_cgroups", property(lambda self: False))
    return request.param


LEAVE_BEHIND = '''
import ctypes, os, subprocess
for place in ("/tmp/hx-left", "/dev/shm/hx-left", os.path.join(os.getcwd(), "..", "hx-left")):
    with open(place, "w") as f:
        f.write("from the run before")
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget(0x4858, 4096, 0o1000 | 0o600)  # IPC_CREAT
subprocess.Popen(["/bin/sh", "-c", "exec -a TOKEN sleep 600"], start_new_session=True)
try:
    with open("/proc/%d/mem" % os.getppid(), "rb") as f:
        print("HX-MEM readable")
except OSError as exc:
    print("HX-MEM refused", type(exc).__name__)
'''

FIND_LEFTOVERS = '''
import ctypes, os
found = [p for p in ("/tmp/hx-left", "/dev/shm/hx-left", os.path.join(os.getcwd(), "..", "hx-left"))
         if os.path.exists(p)]
if ctypes.CDLL(None).shmget(0x4858, 0, 0) != -1:
    found.append("a System V segment")
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            if b"TOKEN" in f.read():
                found.append("a process")
    except OSError:
        pass
if found:
    raise RuntimeError("left by the run before: %s" % found)
print("HX-CLEAN")
'''


def test_nothing_a_run_leaves_reaches_the_next_run(submit, cgroups_or_not):
    token = "hx" + uuid.uuid4().hex[:10]
    mallory = submit(LEAVE_BEHIND.replace("TOKEN", token) + REFERENCE, "mallory")
    alice = submit(FIND_LEFTOVERS.replace("TOKEN", token) + REFERENCE, "alice")
    left = _grade(mallory)
    assert "HX-MEM refused" in left.output, left.output  # the zygote is not dumpable
    assert left.passed  # leaving things behind is not what is graded here
    graded = _grade(alice)
    assert "HX-CLEAN" in graded.output, graded.output
    assert graded.passed, _verdicts(graded)
    assert [s.runs for s in _sessions()] == [2]


def test_a_run_that_kills_the_zygote_loses_only_its_own_grading(submit):
    # Cold, the harness's parent is bwrap's init, which a signal from inside cannot kill; warm,
    # it is the zygote: the checks that lose their child error (threat-model.md), and the next
    # grading starts a new session.
    oscar = submit(REFERENCE.replace(
        "class Counter", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                         "class Counter", 1), "oscar")
    alice = submit(REFERENCE, "alice")
    killed = _grade(oscar)
    errors = [c for c in killed.checks if c.status.value == "error"]
    assert errors and killed.score < COUNTER.max_score
    assert all(c.failure.kind == "crash" for c in errors)
    honest = _grade(alice)
    assert _verdicts(honest) == _verdicts(_grade(alice, warm_=False))
    assert honest.score == COUNTER.max_score


def test_no_session_is_made_for_a_process_exercise_or_when_turned_off(submit, monkeypatch,
                                                                       tmp_path):
    supervisor = load_exercise(ROOT / "exercises" / "lazy")
    path = tmp_path / "lazy" / "lazy.py"
    path.parent.mkdir()
    shutil.copy(ROOT / "solutions" / "lazy" / "reference.py", path)
    grade_submission(supervisor, path, GradeOptions(seed=1, warm=True))
    assert len(_sessions()) == 1  # a thread exercise: warm
    warm.POOL.close()
    monkeypatch.setenv(warm.ENV_WARM, "0")
    grade_submission(supervisor, path, GradeOptions(seed=1, warm=True))
    assert _sessions() == []
    monkeypatch.delenv(warm.ENV_WARM)
    kv = load_exercise(ROOT / "exercises" / "kvserver")
    kv_path = tmp_path / "kv" / "kvserver.py"
    kv_path.parent.mkdir()
    shutil.copy(ROOT / "solutions" / "kvserver" / "reference.py", kv_path)
    graded = grade_submission(kv, kv_path, GradeOptions(seed=1, warm=True, only=["imports"]))
    assert _check(graded, "imports").status.value == "passed"
    assert _sessions() == []  # a process exercise: cold


def test_the_sessions_of_an_ended_thread_are_closed_and_reaped(submit):
    import threading

    import psutil

    path = submit(REFERENCE, "alice")
    worker = threading.Thread(target=lambda: _grade(path))
    worker.start()
    worker.join()
    assert len(_sessions()) == 1  # idle, but dead: the thread that started it has ended
    warm.POOL.prune()
    assert _sessions() == []
    zombies = [p for p in psutil.Process().children() if p.status() == psutil.STATUS_ZOMBIE]
    assert zombies == [], "a learner-style waitpid(-1) in this process would reap them"


def test_a_run_killed_for_its_time_leaves_the_session_serving(submit, cgroups_or_not):
    # a constructor that spins (a check that is not under the model), and a daemon beside it
    stuck = submit(REFERENCE.replace(
        "class Counter", "import subprocess\n"
                         "subprocess.Popen(['/bin/sleep', '600'], start_new_session=True)\n"
                         "class Counter", 1).replace(
        "    def __init__(self, start: int = 0) -> None:",
        "    def __init__(self, start: int = 0) -> None:\n        while True:\n            pass",
        1), "stuck")
    assert "while True" in stuck.read_text()
    quick = COUNTER.model_copy(update={"limits": COUNTER.limits.model_copy(
        update={"check_seconds": 3})})
    graded = grade_submission(quick, stuck, GradeOptions(seed=1, warm=True,
                                                         only=["starts-at-start"]))
    assert _check(graded, "starts-at-start").status.value == "timeout"
    honest = grade_submission(quick, submit(REFERENCE, "alice"),
                              GradeOptions(seed=1, warm=True, only=["starts-at-start"]))
    assert honest.passed
    assert [s.runs for s in _sessions()] == [2], "the session outlived the stuck run"


def test_a_run_that_stops_the_zygote_costs_it_seconds_not_its_grade(submit):
    # Stopped, the zygote cannot report the run's end: once the run's main process has ended,
    # the session is given up after REPLY_SECONDS instead of after the whole wall clock.
    import time

    frozen = submit(REFERENCE.replace(
        "class Counter", "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n"
                         "class Counter", 1), "frozen")
    started = time.monotonic()
    graded = _grade(frozen)
    took = time.monotonic() - started
    assert _verdicts(graded) == _verdicts(_grade(frozen, warm_=False))
    assert took < 3 * warm.REPLY_SECONDS + 10, f"took {took:.0f} s"
    assert _grade(submit(REFERENCE, "alice")).score == COUNTER.max_score
