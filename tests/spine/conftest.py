"""Shared helpers for the spine's tests: run the real CLI, find solutions and their manifests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"


def exercise_folder(tmp_path: Path, yaml_text: str,
                    checks: str = "def test_works():\n    pass\n", name: str = "demo") -> Path:
    """A minimal exercise folder `name` (entry `name`, an empty starter) with these checks."""
    folder = tmp_path / name
    (folder / "checks").mkdir(parents=True)
    (folder / "starter").mkdir()
    (folder / "starter" / f"{name}.py").write_text("")
    (folder / "statement.md").write_text(f"# {name}\n")
    (folder / "checks" / f"test_{name}.py").write_text(checks)
    (folder / "exercise.yaml").write_text(yaml_text)
    return folder


def run_grader(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def grade_json(exercise: str, submission: Path | str, *extra: str) -> tuple[int, dict]:
    proc = run_grader("check", exercise, str(submission), "--format", "json", *extra)
    assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr}"
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture
def hostile(tmp_path: Path):
    """Write a hostile submission: hostile(source) -> path."""

    def write(source: str, name: str = "submission.py") -> Path:
        path = tmp_path / name
        path.write_text(source)
        return path

    return write
