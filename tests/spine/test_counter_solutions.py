"""Every counter solution grades as its manifest says, under every seed, through `grader validate`.

The seeds: 20 unless GRADER_TEST_SEEDS says fewer (CI does, to fit its time budget).

Correct solutions (the reference and the other styles) pass every check under every seed;
each known-buggy one fails the check its manifest names under every seed.
"""

from __future__ import annotations

import os

import pytest

from grader.grading.validate import validate_exercise
from grader.report.validation import validation_text

from .conftest import ROOT


@pytest.mark.slow
def test_every_counter_solution_grades_as_declared_under_every_seed():
    runs = int(os.environ.get("GRADER_TEST_SEEDS", "20"))
    report = validate_exercise(ROOT / "exercises" / "counter" / "exercise.yaml", runs=runs,
                               workers=4)
    assert report.ok, validation_text([report])
    assert len(report.solutions) >= 10
    assert all(len(s.outcomes) == runs for s in report.solutions)
