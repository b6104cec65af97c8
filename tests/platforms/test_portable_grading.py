"""The portable backend (macOS's) grades every exercise, and the macOS code paths run on Linux.

Linux cannot run macOS, so this suite runs the paths macOS takes, in two ways:

- `--sandbox portable` on this Linux: the reference and one known-buggy solution of every
  exercise, graded end to end by the CLI (the reference passes every check; the buggy one,
  graded on the check its manifest names, fails it);
- `GRADER_PRETEND_OS=macos` (the seam in `grader.host`): no prctl, no /proc,
  no cgroups, no bubblewrap, for the grader and the sandboxed child alike. The grader then
  chooses `portable` by itself, grades references, contains a `setsid` daemon, and the
  process inspector still finds a worker left behind (psutil instead of /proc);
- `GRADER_MP_START=spawn` (macOS's default start method) together with the seam: the
  reference of every process exercise passes. (Every `correct_*` solution of the process
  exercises also passed under spawn when this suite was written; within the CI budget only
  the references run here.)

What is not tested here: a real macOS kernel (its rlimits, sysctl-based psutil, launchd as
the orphans' parent). psutil itself still reads /proc under the seam.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
EXERCISES = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
PROCESS_EXERCISES = ("kvserver", "pipeline", "pmap", "supervisor")


def manifest(path: Path) -> tuple[bool, list[str]]:
    """(expect pass, checks that must fail) from a solution's first line."""
    first = path.read_text().splitlines()[0]
    found = re.fullmatch(r"# expect: (pass|fail((?: [a-z0-9-]+)+))", first)
    assert found, f"{path}: bad manifest line {first!r}"
    return found.group(1) == "pass", (found.group(2) or "").split()


def first_buggy(exercise: str) -> Path:
    return sorted((REPO / "solutions" / exercise).glob("buggy_*.py"))[0]


def grade(exercise: str, path: Path, *extra: str, env: dict[str, str] | None = None,
          seed: int = 7) -> dict:
    command = [sys.executable, "-m", "grader", "check", exercise, str(path), "--format", "json",
               "--seed", str(seed), *extra]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    return json.loads(done.stdout)


def statuses(result: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in result["checks"]}


def assert_as_expected(path: Path, result: dict) -> None:
    passes, must_fail = manifest(path)
    got = statuses(result)
    if passes:
        assert all(s == "passed" for s in got.values()), f"{path.name}: {got}"
    else:
        assert got[must_fail[0]] in ("failed", "error", "timeout"), f"{path.name}: {got}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_and_a_known_bug_under_the_portable_backend(exercise):
    reference = REPO / "solutions" / exercise / "reference.py"
    result = grade(exercise, reference, "--sandbox", "portable")
    assert result["sandbox"] == "portable"
    assert_as_expected(reference, result)
    buggy = first_buggy(exercise)
    result = grade(exercise, buggy, "--sandbox", "portable", "--check", manifest(buggy)[1][0])
    assert result["sandbox"] == "portable"
    assert_as_expected(buggy, result)


MACOS = {"GRADER_PRETEND_OS": "macos"}


def test_doctor_without_linux_facilities_offers_the_portable_backend():
    done = subprocess.run([sys.executable, "-m", "grader", "doctor", "--format", "json"],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **MACOS})
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert not rows["bwrap"]["available"] and not rows["process"]["available"]
    assert rows["portable"]["available"]
    assert "file system" in rows["portable"]["cannot_contain"]
    assert not rows["cgroup-memory"]["available"] and not rows["subreaper"]["available"]


def test_without_linux_facilities_the_reference_passes_under_the_chosen_portable_backend():
    exercise = "counter"  # the process exercises' references: the spawn test below
    result = grade(exercise, REPO / "solutions" / exercise / "reference.py", env=MACOS)
    assert result["sandbox"] == "portable"
    assert all(s == "passed" for s in statuses(result).values()), statuses(result)


def test_without_proc_a_worker_left_behind_is_still_found():
    """The process inspector asks psutil when /proc is missing: never an empty answer."""
    path = REPO / "solutions" / "pmap" / "buggy_never_joins.py"
    assert manifest(path) == (False, ["nothing-left"])
    result = grade("pmap", path, "--check", "nothing-left", env=MACOS)
    assert result["sandbox"] == "portable"
    assert statuses(result)["nothing-left"] == "failed"


def survivors(token: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if token in " ".join(proc.info["cmdline"] or []):
            found.append(proc.pid)
    return found


def test_without_linux_facilities_a_setsid_daemon_is_contained(tmp_path):
    token = "daemon-" + uuid.uuid4().hex
    submission = tmp_path / "counter.py"
    submission.write_text(
        "import os, sys, threading\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', {token!r}])\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "class Counter:\n"
        "    def __init__(self, start=0):\n"
        "        self._v = start\n"
        "        self._lock = threading.Lock()\n"
        "    def increment(self, n=1):\n"
        "        with self._lock:\n"
        "            self._v += n\n"
        "    def value(self):\n"
        "        with self._lock:\n"
        "            return self._v\n")
    try:
        result = grade("counter", submission, "--check", "increments-add-up", env=MACOS)
        assert result["sandbox"] == "portable"
        assert statuses(result)["increments-add-up"] == "passed"
        assert survivors(token) == []
    finally:
        for pid in survivors(token):
            psutil.Process(pid).kill()


@pytest.mark.parametrize("exercise", PROCESS_EXERCISES)
def test_process_references_pass_with_spawn_on_the_macos_code_paths(exercise):
    """macOS as a whole: the spawn start method, the portable backend, no /proc."""
    folder = REPO / "solutions" / exercise
    result = grade(exercise, folder / "reference.py",
                   env={"GRADER_MP_START": "spawn", **MACOS})
    assert result["sandbox"] == "portable"
    assert_as_expected(folder / "reference.py", result)


def test_the_start_method_seam_reaches_the_learners_code(tmp_path):
    """GRADER_MP_START really changes what the submission's multiprocessing uses."""
    source = (REPO / "solutions" / "counter" / "reference.py").read_text()
    probe = ("import multiprocessing as _mp, sys as _sys\n"
             "print('START-METHOD', _mp.get_start_method(), file=_sys.stderr)\n")
    submission = tmp_path / "counter.py"
    submission.write_text(probe + source)
    result = grade("counter", submission, "--check", "imports", env={"GRADER_MP_START": "spawn"})
    assert "START-METHOD spawn" in result["output"]
