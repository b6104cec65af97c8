"""The shared-state thread exercises (counter, bank, bounded-buffer, rwlock, barrier, lazy) grade right.

Every solution file in `solutions/<id>/` names what it expects in its first line:
`# expect: pass` (reference and correct styles: every check passes) or
`# expect: fail CHECK [CHECK ...]` (known-buggy: the first named check must fail). The
fast tests grade each solution once; the `slow` ones grade each under SEEDS (20 unless GRADER_TEST_SEEDS says), the whole
submission for correct ones and the named check (with the checks it needs) for buggy ones.
(`counter`'s twenty-seed run is tests/spine/test_counter_solutions.py, through `grader validate`.)
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.grading import GradeOptions, grade_submission
from grader.results import Status
from grader.spec import load_exercise

REPO = Path(__file__).resolve().parents[2]
EXERCISES = ["counter", "bank", "bounded-buffer", "rwlock", "barrier", "lazy"]
SLOW_EXERCISES = [e for e in EXERCISES if e != "counter"]
#: seeds of the slow tests: 20 by default; CI sets fewer (GRADER_TEST_SEEDS) to fit its budget
SEEDS = range(1, 1 + int(os.environ.get("GRADER_TEST_SEEDS", "20")))
NOT_PASSING = {Status.FAILED, Status.ERROR, Status.TIMEOUT}


@dataclass(frozen=True)
class Solution:
    exercise: str
    path: Path
    expect_pass: bool
    must_fail: tuple[str, ...]  # the first one must fail; the others are documentation

    def __str__(self) -> str:
        return f"{self.exercise}/{self.path.name}"


def _manifest(exercise: str, path: Path) -> Solution:
    lines = path.read_text().splitlines()
    expect = re.fullmatch(r"# expect: (pass|fail( [a-z0-9-]+)+)", lines[0] if lines else "")
    assert expect, f"{path}: the first line must be '# expect: pass' or '# expect: fail CHECK'"
    assert len(lines) > 1 and lines[1].startswith("# why: "), f"{path}: line 2 must be '# why: ...'"
    words = expect.group(1).split()
    return Solution(exercise, path, words[0] == "pass", tuple(words[1:]))


def _solutions() -> list[Solution]:
    return [_manifest(ex, p) for ex in EXERCISES
            for p in sorted((REPO / "solutions" / ex).glob("*.py"))]


SOLUTIONS = _solutions()
CORRECT = [s for s in SOLUTIONS if s.expect_pass]
BUGGY = [s for s in SOLUTIONS if not s.expect_pass]
SLOW_CORRECT = [s for s in CORRECT if s.exercise in SLOW_EXERCISES]
SLOW_BUGGY = [s for s in BUGGY if s.exercise in SLOW_EXERCISES]


def _grade(solution: Solution, seed: int):
    exercise = load_exercise(REPO / "exercises" / solution.exercise)
    only = None if solution.expect_pass else [solution.must_fail[0]]
    return grade_submission(exercise, solution.path, GradeOptions(seed=seed, only=only))


def _verdict(solution: Solution, seed: int) -> str | None:
    """None when the grading came out as the manifest says, else what went wrong."""
    result = _grade(solution, seed)
    checks = {c.id: c for c in result.checks}
    if solution.expect_pass:
        wrong = [c for c in result.checks if c.status != Status.PASSED]
        if wrong:
            c = wrong[0]
            return (f"{solution} seed {seed}: {c.id} {c.status.value}: "
                    f"{c.failure.message if c.failure else c.message}")
        return None
    named = checks.get(solution.must_fail[0])
    if named is None:
        return f"{solution} seed {seed}: no result for {solution.must_fail[0]}"
    if named.status not in NOT_PASSING:
        blocked = [c.id for c in result.checks if c.status in NOT_PASSING]
        return (f"{solution} seed {seed}: {named.id} {named.status.value}"
                + (f" (failed before it: {blocked})" if blocked else ""))
    return None


def _verdicts(solution: Solution, seeds) -> list[str]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        return [v for v in pool.map(lambda s: _verdict(solution, s), seeds) if v]


# -- the exercises themselves ---------------------------------------------------------


@pytest.mark.parametrize("exercise", EXERCISES)
def test_exercise_loads_with_statement_starter_and_checks(exercise):
    spec = load_exercise(REPO / "exercises" / exercise)
    assert spec.family == "threads" and spec.instrument
    assert spec.statement_path.read_text().startswith("# ")
    assert spec.starter_path.is_file()
    for check in spec.checks:
        assert check.hints.get("default"), f"{exercise}: {check.id} has no default hint"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_each_exercise_has_a_reference_two_correct_styles_and_four_buggy(exercise):
    mine = [s for s in SOLUTIONS if s.exercise == exercise]
    names = {s.path.name for s in mine}
    assert "reference.py" in names
    assert sum(1 for s in mine if s.path.name.startswith("correct_") and s.expect_pass) >= 2
    assert sum(1 for s in mine if s.path.name.startswith("buggy_") and not s.expect_pass) >= 4
    assert all(s.expect_pass == (not s.path.name.startswith("buggy_")) for s in mine)


@pytest.mark.parametrize("solution", BUGGY, ids=str)
def test_buggy_solution_names_checks_the_exercise_has(solution):
    spec = load_exercise(REPO / "exercises" / solution.exercise)
    known = {c.id for c in spec.all_checks} | {"allowed-modules"}
    unknown = [c for c in solution.must_fail if c not in known]
    assert not unknown, f"{solution} names checks the exercise lacks: {unknown}"


def test_starter_fails_every_graded_check():
    spec = load_exercise(REPO / "exercises" / "bank")
    result = grade_submission(spec, spec.starter_path, GradeOptions(seed=1))
    graded = [c for c in result.checks if c.id not in ("imports", "allowed-modules")]
    assert result.score == 0 and all(c.status != Status.PASSED for c in graded)


# -- one grading each (fast) ----------------------------------------------------------


@pytest.mark.parametrize("solution", CORRECT, ids=str)
def test_correct_solution_passes_every_check(solution):
    verdict = _verdict(solution, seed=0)
    assert verdict is None, verdict


@pytest.mark.parametrize("solution", BUGGY, ids=str)
def test_buggy_solution_fails_its_named_check(solution):
    verdict = _verdict(solution, seed=0)
    assert verdict is None, verdict


# -- SEEDS each (slow) ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("solution", SLOW_CORRECT, ids=str)
def test_correct_solution_passes_under_every_seed(solution):
    wrong = _verdicts(solution, SEEDS)
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
@pytest.mark.parametrize("solution", SLOW_BUGGY, ids=str)
def test_buggy_solution_fails_its_named_check_under_every_seed(solution):
    wrong = _verdicts(solution, SEEDS)
    assert not wrong, "\n".join(wrong)
