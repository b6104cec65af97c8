"""Grading: one submission end to end, a batch of them, and where results are stored.

It drives the sandbox and reads the results channel; it never imports learner
code or the harness's fixtures.
"""

from grader.grading.grade import grade_submission
from grader.grading.intake import derive_seed, submission_hash
from grader.grading.options import GradeOptions, GradingError, MachineShare
from grader.grading.plan import plan_checks

__all__ = [
    "GradeOptions",
    "GradingError",
    "MachineShare",
    "derive_seed",
    "grade_submission",
    "plan_checks",
    "submission_hash",
]
