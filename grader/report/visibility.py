"""What a learner may see of a result: hidden checks reduced to title and status.

Owns the one rule every learner-facing renderer applies: a check with
`visible=False` keeps its id, title, status and points, and loses its message,
hint and failure (trace, deadlock, processes, replay), so nothing it tested leaks.
It returns a copy and never changes the result it is given.
"""

from __future__ import annotations

import dataclasses

from grader.results import CheckResult, SubmissionResult

HIDDEN_MESSAGE = "This check is hidden: only its status is shown."


def redact_check(check: CheckResult) -> CheckResult:
    """The learner's view of one check (itself when visible)."""
    if check.visible:
        return check
    return dataclasses.replace(check, message="", hint=None, failure=None, exploration=[])


def learner_copy(result: SubmissionResult) -> SubmissionResult:
    """The result as a learner may see it: hidden checks redacted, the rest unchanged."""
    return dataclasses.replace(result, checks=[redact_check(c) for c in result.checks])
