"""Grading a process exercise leaves no process, socket file or temporary file behind.

Each grading runs under a small wrapper that makes itself a child subreaper
(prctl PR_SET_CHILD_SUBREAPER): any process the grading orphans is re-parented
to the wrapper instead of init, so after `grader check` returns the wrapper
sees every survivor as its own descendant. The grading gets a private TMPDIR
that must be empty afterwards (grading hands its child a TMPDIR inside its own
work folder, which lives in ours, so every temp file and socket file the
checks, the tools or the learner's code make lands there). /tmp itself is not
diffed: other gradings on the machine write there at the same time.
Graded: each reference, and buggy solutions that try hard to leave things
behind (hung workers never killed, a deadlocked pipeline, a socket file never
removed, workers left running after an error).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from solution_grading import REPO

WRAPPER = r"""
import ctypes, json, os, subprocess, sys, time
import psutil
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
time.sleep(0.5)  # an orphan re-parented to us shows up as our child
left = []
for proc in psutil.Process().children(recursive=True):
    try:
        left.append({"pid": proc.pid, "status": proc.status(), "cmdline": proc.cmdline()})
    except psutil.NoSuchProcess:
        pass
for proc in psutil.Process().children(recursive=True):
    try:
        proc.kill()
    except psutil.NoSuchProcess:
        pass
psutil.wait_procs(psutil.Process().children(), timeout=5)
print(json.dumps({"returncode": done.returncode, "left": left, "stdout": done.stdout,
                  "stderr": done.stderr[-3000:]}))
"""

CASES = [
    ("kvserver", "reference.py"),
    ("kvserver", "buggy_keeps_socket_file.py"),
    ("pipeline", "reference.py"),
    ("pipeline", "buggy_join_then_read.py"),
    ("pmap", "reference.py"),
    ("pmap", "buggy_lets_workers_run.py"),
    ("supervisor", "reference.py"),
    ("supervisor", "buggy_timeout_not_killed.py"),
]


def _sockets_under(folder: Path) -> list[str]:
    found = []
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    found.append(path)
            except OSError:
                pass
    return found


def _grade_probed(exercise: str, solution: str, private: str) -> dict:
    env = {**os.environ, "TMPDIR": private}
    command = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "grader", "check",
               exercise, str(REPO / "solutions" / exercise / solution), "--format", "json",
               "--seed", "1"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=900)
    report = json.loads(done.stdout)
    graded = json.loads(report["stdout"])
    assert graded["checks"], report["stderr"]
    return report


@pytest.mark.parametrize(("exercise", "solution"), CASES, ids=[f"{e}/{s}" for e, s in CASES])
def test_grading_leaves_no_process_socket_or_temp_file(exercise: str, solution: str) -> None:
    with tempfile.TemporaryDirectory(prefix="leak-probe-") as private:
        report = _grade_probed(exercise, solution, private)
        assert report["left"] == [], f"processes left behind: {report['left']}"
        leftover = sorted(os.listdir(private))
        assert leftover == [], f"files left in the grading's TMPDIR: {leftover}"
        sockets = _sockets_under(Path(private))
        assert sockets == [], f"socket files left behind: {sockets}"
