"""The JSON report: the result model's own dictionary, nothing added or dropped.

Named `jsonout` so it never shadows the standard `json` module. The shape is
`SubmissionResult.to_dict()`; keys keep the model's field order so two runs
diff cleanly. Redaction for learners is the caller's choice (see `render`).
"""

from __future__ import annotations

import json

from grader.results import SubmissionResult


def render_json(result: SubmissionResult) -> str:
    """`result.to_dict()` as indented JSON with a stable key order and a final newline."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
