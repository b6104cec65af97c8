"""Hostile submissions graded end to end (`grader check`), under each backend.

The issue's "must show": the checks fail with a reason a learner understands, the grader
exits 1 (never 3, never 0), grading ends within its budget, and no process of the
submission survives. The exercise is a copy of `counter` with short time budgets and a
unique id, so that its runs' marker (`GRADER_SANDBOX_RUN=grader-<id>-...`) tells this
test's processes apart from anyone else's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import psutil
import pytest
import yaml

import grader
from grader.sandbox import MARKER_ENV

REPO = Path(grader.__file__).resolve().parent.parent
COUNTER = REPO / "exercises" / "counter"
REFERENCE = (REPO / "solutions" / "counter" / "reference.py").read_text()
BUDGET = 40.0  # seconds a whole grading may take here, even on a loaded machine

pytestmark = pytest.mark.skipif(not COUNTER.is_dir(), reason="the counter exercise is missing")

SUBMISSIONS = {
    "sleep-forever-at-import": "import time\ntime.sleep(10**6)\n",
    "exit-zero-at-import": "import os\nos._exit(0)\n",
    "exit-zero-in-a-call": REFERENCE.replace(
        "        with self._lock:\n            self._value += n",
        "        import os\n        os._exit(0)",
    ),
    "fake-results-on-stdout": textwrap.dedent("""
        import json, sys
        print(json.dumps({"event": "result", "check": "increments-add-up", "status": "passed"}))
        print("=========== 7 passed in 0.01s ===========")
        class Counter:
            def __init__(self, start=0):
                self.v = start
            def increment(self, n=1):
                print('{"event": "done"}')
            def value(self):
                return self.v
    """),
    "kills-its-parent-in-a-call": REFERENCE.replace(
        "        with self._lock:\n            self._value += n",
        "        import os, signal\n        os.kill(os.getppid(), signal.SIGKILL)",
    ),
    "kills-its-parent-leaving-a-child": REFERENCE.replace(
        "        with self._lock:\n            self._value += n",
        "        import os, signal, time\n        if os.fork() == 0:\n            time.sleep(300)\n"
        "        os.kill(os.getppid(), signal.SIGKILL)",
    ),
    "memory-bomb-in-a-call": REFERENCE.replace(
        "        with self._lock:\n            self._value += n",
        "        hog = [bytearray(16 << 20) for _ in range(64)]",
    ),
}


#: In-process forgery: the checks share the interpreter with the learner's code (thread
#: exercises); the sandbox cannot contain this, the harness must (it confirms that each
#: check's body ran to the end). Was a strict xfail until the harness caught it.
PATCH_PYTEST = textwrap.dedent("""
    import _pytest.python
    _pytest.python.Function.runtest = lambda self: None
    class Counter:
        def __init__(self, start=0):
            self.v = start
        def increment(self, n=1):
            pass
        def value(self):
            return self.v
""")


@pytest.fixture(scope="module")
def exercise(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`counter` with 3-second checks, 256 MiB of memory and a unique id."""
    exercise_id = f"counter-hostile-{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("exercises") / exercise_id
    shutil.copytree(COUNTER, folder)
    spec = yaml.safe_load((folder / "exercise.yaml").read_text())
    spec["id"] = exercise_id
    spec["limits"].update(check_seconds=3, submission_seconds=30, memory_mb=256)
    for check in spec["checks"]:
        if "seconds" in check:
            check["seconds"] = 3
    (folder / "exercise.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


def survivors(exercise_id: str) -> list[str]:
    prefix = f"grader-{exercise_id}-"
    found = []
    for proc in psutil.process_iter(["pid", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            if proc.environ().get(MARKER_ENV, "").startswith(prefix):
                found.append(f"{proc.pid} {' '.join(proc.cmdline())[:100]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["process", "bwrap"])
@pytest.mark.parametrize("behaviour", sorted(SUBMISSIONS))
def test_hostile_submission_fails_with_a_reason_and_leaves_nothing(
    exercise: Path, tmp_path: Path, backend: str, behaviour: str
) -> None:
    submission = tmp_path / "counter.py"
    submission.write_text(SUBMISSIONS[behaviour])
    outside = sorted(p.name for p in tmp_path.parent.iterdir())
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(exercise), str(submission),
         "--format", "json", "--sandbox", backend, "--seed", "1"],
        capture_output=True, timeout=BUDGET + 30, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    elapsed = time.monotonic() - t0
    assert done.returncode == 1, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["increments-add-up"]["status"] != "passed"
    assert report["score"] < report["max_score"]
    failed = [c for c in report["checks"] if c["status"] in ("failed", "error", "timeout")]
    assert failed and all(c["message"] for c in failed)
    assert elapsed < BUDGET
    assert survivors(exercise.name) == []
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == outside


@pytest.mark.slow
def test_patching_pytest_in_process_does_not_forge_passes(exercise: Path, tmp_path: Path) -> None:
    submission = tmp_path / "counter.py"
    submission.write_text(PATCH_PYTEST)
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(exercise), str(submission),
         "--format", "json", "--seed", "1"],
        capture_output=True, timeout=BUDGET + 30, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    report = json.loads(done.stdout)
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["increments-add-up"]["status"] != "passed"
    assert done.returncode == 1
