"""Checks of @@ID@@: each way a worker can end, reported, with the caller alive."""

from grader.checks import faults, tasks


def test_returns_ok(submission):
    assert submission.run_safely(tasks.times, 4) == ("ok", 8)


def test_reports_errors(submission):
    outcome = submission.run_safely(faults.raise_error, "ValueError", "bad input")
    assert outcome == ("error", "ValueError: bad input"), f"got {outcome!r}"


def test_survives_a_segfault(submission):
    outcome = submission.run_safely(faults.segfault)
    assert outcome == ("crashed", "signal 11"), f"a segfaulting worker gave {outcome!r}"
