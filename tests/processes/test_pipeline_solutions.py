"""The `pipeline` solutions grade as their manifests say, through `grader check`.

Fast: every solution once (seed 1). Slow: correct ones under SEED_COUNT seeds
(every check passes every time), buggy ones under BUGGY_SEED_COUNT seeds (the
named check fails every time). A flake in either direction fails the test.
"""

from __future__ import annotations

import pytest
from solution_grading import BUGGY_SEED_COUNT, SEED_COUNT, Solution, solutions, verdict

SOLUTIONS = solutions("pipeline")


def test_has_reference_two_other_styles_and_four_buggy() -> None:
    names = [s.path.name for s in SOLUTIONS]
    assert "reference.py" in names
    assert sum(n.startswith("correct_") for n in names) >= 2
    assert sum(n.startswith("buggy_") for n in names) >= 4


@pytest.mark.parametrize("solution", SOLUTIONS, ids=str)
def test_solution_grades_as_its_manifest_says(solution: Solution) -> None:
    problem = verdict(solution, 1)
    assert problem is None, problem


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=str)
def test_solution_grades_the_same_under_every_seed(solution: Solution) -> None:
    count = SEED_COUNT if solution.expect_pass else BUGGY_SEED_COUNT
    problems = [v for seed in range(2, count + 2) if (v := verdict(solution, seed))]
    assert not problems, "\n".join(problems)
