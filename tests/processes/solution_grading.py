"""Grade solution files the way a learner does (`python3 -m grader check ... --format json`).

Owns the solution manifests (`# expect: pass` / `# expect: fail CHECK ...` on
line 1, `# why: ...` on line 2) and one function that grades a file through the
CLI and returns its JSON result. Shared by the process-family solution tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
#: correct solutions are graded under this many seeds in the slow tests (the first in the fast)
SEED_COUNT = int(os.environ.get("GRADER_PROCESS_SEEDS", "10"))
#: buggy solutions must fail their named check under this many seeds in the slow tests
BUGGY_SEED_COUNT = int(os.environ.get("GRADER_PROCESS_BUGGY_SEEDS", "3"))


@dataclass(frozen=True)
class Solution:
    exercise: str
    path: Path
    expect_pass: bool
    must_fail: tuple[str, ...]  # the first must fail; the rest may

    def __str__(self) -> str:
        return f"{self.exercise}/{self.path.name}"


def read_manifest(exercise: str, path: Path) -> Solution:
    lines = path.read_text().splitlines()
    expect = re.fullmatch(r"# expect: (pass|fail( [a-z0-9-]+)+)", lines[0] if lines else "")
    assert expect, f"{path}: line 1 must be '# expect: pass' or '# expect: fail CHECK ...'"
    assert len(lines) > 1 and lines[1].startswith("# why: "), f"{path}: line 2 must be '# why:'"
    words = expect.group(1).split()
    return Solution(exercise, path, words[0] == "pass", tuple(words[1:]))


def solutions(exercise: str) -> list[Solution]:
    return [read_manifest(exercise, p)
            for p in sorted((REPO / "solutions" / exercise).glob("*.py"))]


def grade(exercise: str, path: Path, seed: int, only: str | None = None,
          env: dict[str, str] | None = None, timeout_s: float = 600) -> dict[str, Any]:
    """The JSON result of `grader check EXERCISE PATH --seed SEED [--check ONLY]`."""
    command = [sys.executable, "-m", "grader", "check", exercise, str(path), "--format", "json",
               "--seed", str(seed)]
    if only:
        command += ["--check", only]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout_s,
                          env=env)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"`{' '.join(command)}` gave no JSON (exit {done.returncode}): "
                             f"{done.stdout[-500:]} {done.stderr[-1500:]}") from None


def verdict(solution: Solution, seed: int) -> str | None:
    """None when grading comes out as the manifest says; otherwise what went wrong."""
    if solution.expect_pass:
        result = grade(solution.exercise, solution.path, seed)
        wrong = [c for c in result["checks"] if c["status"] != "passed"]
        if wrong:
            c = wrong[0]
            why = (c.get("failure") or {}).get("message") or c.get("message")
            return f"{solution} seed {seed}: {c['id']} {c['status']}: {why}"
        return None
    named = solution.must_fail[0]
    result = grade(solution.exercise, solution.path, seed, only=named)
    checks = {c["id"]: c for c in result["checks"]}
    if named not in checks:
        return f"{solution}: the grading has no check {named!r}"
    status = checks[named]["status"]
    if status not in ("failed", "error", "timeout"):
        return f"{solution} seed {seed}: {named} was {status}, it must fail"
    return None
