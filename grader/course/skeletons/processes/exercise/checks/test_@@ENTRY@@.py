"""Checks of @@ID@@: the result comes back, from another process, which is reaped."""

import os

from grader.checks import CheckFailure, ProcessWatch, tasks


def test_returns_the_result(submission):
    assert submission.run_in_child(tasks.times, 21) == 42, "run_in_child(times, 21) should be 42"
    assert submission.run_in_child(tasks.add, 1) == 2, "run_in_child(add, 1) should be 2"


def test_runs_in_a_child(submission):
    pid, _ = submission.run_in_child(tasks.pid_of, "x")
    if pid == os.getpid():
        raise CheckFailure("same-process", "fn ran in the calling process, not in a child")


def test_nothing_left_behind(submission):
    with ProcessWatch() as watch:
        submission.run_in_child(tasks.times, 2)
    left = watch.leftovers()
    if left:
        raise CheckFailure("leak", "after run_in_child returned, these processes were left: "
                           + ", ".join(f"pid {p.pid} ({p.state})" for p in left))
