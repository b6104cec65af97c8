"""A check that keeps making progress is not timed out at its budget; one that makes none is.

The explorer raises `grader.channel.progress()` after every schedule; on a loaded machine its
schedules are slower, and a correct solution must not be "stuck" for that. The checks here
raise the beacon themselves, so the test does not depend on how fast the explorer is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.driver import PROGRESS_CAP, _check_limit
from grader.grading.grade import GradeOptions, grade_submission
from grader.results import Status
from grader.spec import load_exercise

from .conftest import exercise_folder

BUDGET = 3

SPEC = f"""\
id: beacon
version: 1
title: Progress beacons
family: threads
entry: beacon
limits:
  check_seconds: {BUDGET}
  submission_seconds: 120
checks:
  - id: progressing
    title: keeps reporting progress for longer than its budget
    points: 1
  - id: silent
    title: waits without a word
    points: 1
  - id: endless
    title: reports progress for ever
    points: 1
"""

CHECKS = f"""\
import threading
import time

from grader import channel


def _pulse(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        channel.progress()
        threading.Event().wait(0.05)


def test_progressing():
    _pulse({2.5 * BUDGET})


def test_silent():
    threading.Event().wait(600)


def test_endless():
    _pulse(600)
"""


@pytest.fixture
def exercise(tmp_path: Path):
    return load_exercise(exercise_folder(tmp_path, SPEC, CHECKS, name="beacon"))


def test_the_limit_follows_progress_up_to_the_cap():
    assert _check_limit(100.0, 30.0, None) == 130.0
    assert _check_limit(100.0, 30.0, 105.0) == 135.0
    assert _check_limit(100.0, 30.0, 101.0) == 131.0
    assert _check_limit(100.0, 30.0, 500.0) == 100.0 + PROGRESS_CAP * 30.0


def test_progress_extends_a_check_and_silence_or_endless_progress_do_not(exercise, tmp_path):
    submission = tmp_path / "beacon.py"
    submission.write_text("VALUE = 1\n")
    result = grade_submission(exercise, submission, GradeOptions(seed=1))
    checks = {c.id: c for c in result.checks}
    assert checks["progressing"].status is Status.PASSED, checks["progressing"]
    assert checks["silent"].status is Status.TIMEOUT
    assert f"within {BUDGET} s" in checks["silent"].failure.message
    assert checks["endless"].status is Status.TIMEOUT
    assert f"within {round(PROGRESS_CAP * BUDGET)} s" in checks["endless"].failure.message
