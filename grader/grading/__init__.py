"""Grading: one submission end to end, a batch of them, and where results are stored.

One submission: `intake` (the submission's files, hash, seed and working folder),
`plan` (which checks run, in which order, and the needs-skip rule), `driver` (the
sandboxed harness children and their channel), `records` (decoding what a child
sends), `grade` (scoring; the entry point `grade_submission`). A class: `batch`
(the run), `machine_share`, `gradebook` (the outputs), `store`, `roster`,
`distributed`.

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
