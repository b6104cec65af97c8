"""On Windows every command starts and answers in one sentence, never a traceback.

Windows is imitated by `windows_seam.py` (POSIX-only modules and `os` functions removed,
GRADER_PRETEND_OS=windows); no Windows machine runs here. Commands that do not grade work;
the grading commands refuse in one sentence pointing to WSL; `doctor` says no backend works
and why.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
SEAM = Path(__file__).with_name("windows_seam.py")

#: A typical invocation of each command (commands not listed run with --help).
INVOCATIONS = {
    "check": ["check", "counter", "solutions/counter/reference.py"],
    "batch": ["batch", "pmap", "solutions/pmap", "--out", "{tmp}/out"],
    "validate": ["validate", "exercises/counter"],
    "doctor": ["doctor"],
    "list": ["list"],
    "init": ["init", "{tmp}/course"],
    "new": ["new", "tally", "--family", "threads", "--root", "{tmp}/course"],
    "gradescope": ["gradescope", "counter", "-o", "{tmp}/autograder.zip"],
}


def commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(sub.choices)


def run(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    args = [a.replace("{tmp}", str(tmp)) for a in args]
    return subprocess.run([sys.executable, str(SEAM), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("command", commands())
def test_every_command_answers_without_a_traceback(command, tmp_path):
    if command == "new":
        assert run(INVOCATIONS["init"], tmp_path).returncode == 0
    done = run(INVOCATIONS.get(command, [command, "--help"]), tmp_path)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, done.stderr
        assert done.returncode == 2


@pytest.mark.parametrize("exercise", ["counter", "pmap"])
def test_grading_is_refused_with_a_pointer_to_wsl(exercise, tmp_path):
    done = run(["check", exercise, f"solutions/{exercise}/reference.py"], tmp_path)
    assert done.returncode == 2
    assert "cannot grade on windows" in done.stderr and "WSL" in done.stderr


def test_doctor_says_no_backend_works_and_where_to_go(tmp_path):
    done = run(["doctor"], tmp_path)
    assert done.returncode == 0
    assert "system: windows" in done.stdout
    assert "[no ] portable" in done.stdout and "WSL" in done.stdout
