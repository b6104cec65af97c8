"""GitHub Classroom points: turn a `grader check --format json` result into the reporter's input.

GitHub Classroom's `autograding-grading-reporter` action reads, for each runner id named in
its `runners` input, an environment variable `<ID>_RESULTS` holding base64 of a JSON
document `{version: 1, status, max_score, tests: [{name, status, score, message, ...}]}`.
The classroom workflow that `grader init` writes runs
`python -m grader.course.classroom RESULT.json` and passes what it prints to the reporter,
so the points of every check (not all-or-nothing) reach the classroom. Checks the result
marks invisible keep their points but not their messages.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any


def classroom_results(result: dict[str, Any]) -> dict[str, Any]:
    """The reporter's JSON document for one graded submission."""
    tests = []
    for check in result.get("checks", []):
        visible = check.get("visible", True)
        passed = check.get("status") == "passed"
        tests.append({
            "name": check.get("title") or check.get("id"),
            "status": "pass" if passed else "fail",
            "score": float(check.get("points") or 0),
            "message": (check.get("message") or "") if visible else "",
            "test_code": f"grader check --check {check.get('id')}",
            "filename": "",
            "line_no": 0,
            "execution_time": f"{float(check.get('duration_s') or 0):.2f}s",
        })
    max_score = float(result.get("max_score") or 0)
    score = float(result.get("score") or 0)
    return {
        "version": 1,
        "status": "pass" if result.get("passed") or (max_score and score >= max_score)
        else "fail",
        "max_score": max_score,
        "tests": tests,
    }


def encode(result: dict[str, Any]) -> str:
    """base64 of the reporter's JSON, as `<ID>_RESULTS` carries it."""
    text = json.dumps(classroom_results(result), separators=(",", ":"))
    return base64.b64encode(text.encode()).decode()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m grader.course.classroom RESULT.json", file=sys.stderr)
        return 2
    try:
        result = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"grader: cannot read the result {args[0]}: {exc}", file=sys.stderr)
        return 2
    print(encode(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
