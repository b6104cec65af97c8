"""Lanes: a grading's ordinary checks dealt to children that run side by side.

The split depends only on the exercise; a grading in two lanes gives the grade one lane
gives; a module that does not import, or imports once and then no more, ends its grading at
once instead of starting children until the deadline; the learner's output of every lane is
kept, lane by lane.
"""

from __future__ import annotations

import pytest

from grader.grading import GradeOptions, grade_submission
from grader.grading.driver import ENV_LANES, lanes_wanted
from grader.grading.plan import plan_checks, split_lanes
from grader.spec import IMPORTS, load_exercise

from .conftest import ROOT, SOLUTIONS, exercise_folder


def _exercise(name: str):
    return load_exercise(ROOT / "exercises" / name / "exercise.yaml")


@pytest.mark.parametrize("name", ["supervisor", "bank", "counter", "pmap"])
def test_the_split_deals_every_check_once_keeping_plan_order(name):
    exercise = _exercise(name)
    checks = [c for c in plan_checks(exercise, None) if not c.exclusive]
    order = [c.id for c in checks]
    lanes = split_lanes(exercise, checks, 2)
    assert sorted(sum(lanes, [])) == sorted(order)
    assert lanes[0][0] == IMPORTS
    for lane in lanes:
        assert lane == sorted(lane, key=order.index)
    assert split_lanes(exercise, checks, 1) == [order]
    assert split_lanes(exercise, checks, 2) == lanes  # nothing but the exercise decides it


def test_the_split_balances_declared_costs():
    exercise = _exercise("supervisor")
    checks = [c for c in plan_checks(exercise, None) if not c.exclusive]
    cost = {c.id: c.cost for c in checks}
    lanes = split_lanes(exercise, checks, 2)
    loads = [sum(cost[c] for c in lane) for lane in lanes]
    # the two costliest checks go to different lanes, and the lanes' loads differ by no more
    # than the costliest check
    costliest = sorted(cost, key=cost.get)[-2:]
    assert [any(c in lane for c in costliest) for lane in lanes] == [True, True]
    assert abs(loads[0] - loads[1]) <= max(cost.values())


def test_lanes_wanted_follows_the_environment_and_the_options(monkeypatch):
    monkeypatch.delenv(ENV_LANES, raising=False)
    assert lanes_wanted(GradeOptions(lanes=3)) == 3
    assert lanes_wanted(GradeOptions(warm=True)) == 1
    assert 1 <= lanes_wanted(GradeOptions()) <= 2
    monkeypatch.setenv(ENV_LANES, "1")
    assert lanes_wanted(GradeOptions(lanes=3)) == 1


def _statuses(result):
    return {c.id: c.status.value for c in result.checks}


@pytest.mark.parametrize("exercise, solution", [
    ("counter", "reference.py"), ("counter", "buggy_bulk_past_hundred.py"),
    ("bank", "buggy_lock_order.py"), ("pipeline", "reference.py"),
])
def test_two_lanes_give_the_grade_one_lane_gives(monkeypatch, exercise, solution):
    monkeypatch.delenv(ENV_LANES, raising=False)
    spec = _exercise(exercise)
    path = SOLUTIONS / exercise / solution
    if not path.exists():
        pytest.fail(f"{path} is gone: name another solution of {exercise}")
    one = grade_submission(spec, path, GradeOptions(seed=5, lanes=1))
    two = grade_submission(spec, path, GradeOptions(seed=5, lanes=2))
    assert _statuses(one) == _statuses(two)
    assert one.score == two.score
    dealt = split_lanes(spec, [c for c in plan_checks(spec, None) if not c.exclusive], 2)
    assert len(dealt) == 2
    assert two.resources.children_started >= 2  # one child per lane at least


def test_a_module_that_does_not_import_is_graded_in_one_child_per_lane(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_LANES, raising=False)
    submission = tmp_path / "counter.py"
    submission.write_text("print('loading')\nraise RuntimeError('not today')\n")
    result = grade_submission(_exercise("counter"), submission, GradeOptions(seed=1, lanes=2))
    statuses = _statuses(result)
    assert statuses.pop(IMPORTS) == "failed"
    assert set(statuses.values()) == {"skipped"}
    assert result.resources.children_started <= 2
    assert result.output.count("loading") == result.resources.children_started


SECOND_IMPORT_FAILS = '''
import os

if os.path.exists("imported-once"):
    raise RuntimeError("this module imports only once")
open("imported-once", "w").close()


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        os._exit(1)  # the child dies: the next check runs in a fresh one

    def value(self):
        return self._value
'''


def test_a_module_that_imports_only_once_fails_the_checks_after_a_crash(monkeypatch, tmp_path):
    """The fresh child after a crash cannot import the module: its checks fail with the
    import's error at once (they used to be started again and again until the deadline)."""
    monkeypatch.delenv(ENV_LANES, raising=False)
    submission = tmp_path / "counter.py"
    submission.write_text(SECOND_IMPORT_FAILS)
    result = grade_submission(_exercise("counter"), submission, GradeOptions(seed=1, lanes=1))
    checks = {c.id: c for c in result.checks}
    assert checks[IMPORTS].status.value == "passed"
    assert checks["starts-at-start"].status.value == "passed"
    assert checks["increments-add-up"].status.value == "error"
    independent = checks["counters-are-independent"]
    assert independent.status.value == "failed"
    assert "this module imports only once" in independent.message
    assert result.resources.children_started == 2


NEEDS_SPEC = """\
id: needy
version: 1
title: A need in another lane
family: threads
entry: needy
limits:
  check_seconds: 30
  submission_seconds: 120
checks:
  - id: first
    title: fails at once
    cost: 0.1
  - id: second
    title: needs first, and would wait for its whole budget
    needs: [first]
    cost: 5
"""

NEEDS_CHECKS = """\
import threading


def test_first():
    # fails once `second` is under way in the other lane (its child started with this one's)
    threading.Event().wait(1.5)
    assert False, "first fails"


def test_second():
    threading.Event().wait(600)
"""


def test_a_check_beside_its_failed_need_is_stopped_and_skipped(monkeypatch, tmp_path):
    """`second` lands in the first lane (the costlier), `first` in the other: when `first`
    fails, `second`'s child is stopped, so its skip costs nothing (a skip decided after its
    timeout would keep the 30 s it ran). Should the machine be so loaded that `second` has
    not started when `first` fails, it is skipped before it starts: a pass either way."""
    monkeypatch.delenv(ENV_LANES, raising=False)
    exercise = load_exercise(exercise_folder(tmp_path, NEEDS_SPEC, NEEDS_CHECKS, name="needy"))
    checks = plan_checks(exercise, None)
    assert split_lanes(exercise, checks, 2) == [[IMPORTS, "second"], ["first"]]
    submission = tmp_path / "needy.py"
    submission.write_text("")
    result = grade_submission(exercise, submission, GradeOptions(seed=1, lanes=2))
    checks = {c.id: c for c in result.checks}
    assert checks["first"].status.value == "failed"
    assert checks["second"].status.value == "skipped"
    assert checks["second"].duration_s == 0.0
