"""Gradescope's `results.json`, per its autograder specification.

Top level: `score` (the grade), `execution_time` (whole seconds), `output`
(the verdict, seed and replay command, then what the learner's code printed),
`output_format`, `visibility`, `extra_data`, and `tests[]`. Each check becomes
one test with `name`, `score`, `max_score`, `status` ("passed"/"failed"; a
skipped, errored or timed-out check is "failed"), `output`, `output_format`,
`visibility` ("visible", or "after_published" for a hidden check, so
Gradescope holds it back until grades are published), `number` and `tags`.
Hidden checks keep their full output here: Gradescope itself hides them.
"""

from __future__ import annotations

import json
import math
from typing import Any

from grader.report.status import WORDS
from grader.report.text import check_feedback
from grader.results import CheckResult, Status, SubmissionResult

#: Learner output beyond this many characters is cut in the top-level output.
OUTPUT_CHARS = 8000
#: One test's feedback beyond this many characters is cut (a long trace or traceback).
TEST_OUTPUT_CHARS = 16000


def _test(number: int, check: CheckResult) -> dict[str, Any]:
    output = check_feedback(check)
    if check.status is not Status.PASSED:
        output = f"[{WORDS[check.status]}]\n{output}".rstrip()
    if len(output) > TEST_OUTPUT_CHARS:
        output = output[:TEST_OUTPUT_CHARS] + "\n[feedback cut; the HTML report has all of it]"
    test: dict[str, Any] = {
        "name": check.title,
        "number": str(number),
        "score": check.points,
        "max_score": check.max_points,
        "status": "passed" if check.status is Status.PASSED else "failed",
        "output": output,
        "output_format": "text",
        "visibility": "visible" if check.visible else "after_published",
        "tags": [check.id] + ([check.failure.kind] if check.failure is not None else []),
    }
    return test


def _top_output(result: SubmissionResult) -> str:
    parts = [result.verdict(), f"Seed: {result.seed}"]
    if result.replay:
        parts.append(f"Replay: {result.replay.command()}")
    if result.output:
        printed = result.output[:OUTPUT_CHARS]
        cut = len(result.output) > OUTPUT_CHARS or result.output_truncated
        parts.append("Your code printed:\n" + printed + ("\n[output truncated]" if cut else ""))
    return "\n".join(parts)


def gradescope_results(result: SubmissionResult) -> dict[str, Any]:
    """The `results.json` document as a dictionary."""
    return {
        "score": result.score,
        "execution_time": math.ceil(result.resources.wall_s),
        "output": _top_output(result),
        "output_format": "text",
        "visibility": "visible",
        "extra_data": {
            "exercise": result.exercise,
            "version": result.version,
            "max_score": result.max_score,
            "seed": result.seed,
            "submission_hash": result.submission_hash,
        },
        "tests": [_test(i, c) for i, c in enumerate(result.checks, start=1)],
    }


def render_gradescope(result: SubmissionResult) -> str:
    """Gradescope's `results.json` for one submission, as JSON text."""
    return json.dumps(gradescope_results(result), indent=2, ensure_ascii=False) + "\n"
