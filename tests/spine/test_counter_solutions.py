"""Every counter solution grades as its manifest says, under 20 seeds, through `grader validate`.

Correct solutions (the reference and the other styles) pass every check under every seed;
each known-buggy one fails the check its manifest names under every seed.
"""

from __future__ import annotations

import pytest

from grader.cli.validate import render_text
from grader.grading.validate import validate_exercise

from .conftest import ROOT


@pytest.mark.slow
def test_every_counter_solution_grades_as_declared_under_20_seeds():
    report = validate_exercise(ROOT / "exercises" / "counter" / "exercise.yaml", runs=20,
                               workers=4)
    assert report.ok, render_text([report])
    assert len(report.solutions) >= 10
    assert all(len(s.outcomes) == 20 for s in report.solutions)
