"""JUnit XML: what GitHub, GitLab and Jenkins show as test results.

One `<testsuite>` per submission, one `<testcase>` per check, inside one
`<testsuites>` root, in the shape the Jenkins/Ant JUnit schema accepts
(tests/report/junit.xsd checks it). A failed check is a `<failure>`, an error
or timeout an `<error>`, a skipped check `<skipped>`; the body holds the same
feedback as the terminal. Points and the seed travel as suite properties, and
what the learner's code printed as the suite's `<system-out>`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.report.learner_text import visible_controls
from grader.report.status import check_message, points_text
from grader.report.text import check_feedback
from grader.results import CheckResult, Status, SubmissionResult


def _xml_text(text: str) -> str:
    # XML 1.0 refuses most control characters even escaped; learner text may hold them.
    return visible_controls(text)


def _suite_name(result: SubmissionResult) -> str:
    where = result.submission or result.submission_hash[:12] or "submission"
    return f"{result.exercise}: {where}"


def _testcase(result: SubmissionResult, check: CheckResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "name": _xml_text(f"{check.id}: {check.title}"),
            "classname": _xml_text(f"grader.{result.exercise}"),
            "time": f"{check.duration_s:.3f}",
        },
    )
    body = _xml_text(check_feedback(check))
    message = check_message(check)
    summary = _xml_text(message.splitlines()[0] if message else check.title)
    kind = check.failure.kind if check.failure is not None else check.status.value
    if check.status is Status.FAILED:
        child = ET.SubElement(case, "failure", {"type": _xml_text(kind), "message": summary})
        child.text = body
    elif check.status in (Status.ERROR, Status.TIMEOUT):
        child = ET.SubElement(case, "error", {"type": _xml_text(kind), "message": summary})
        child.text = body
    elif check.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", {"message": summary})
    return case


def _testsuite(result: SubmissionResult) -> ET.Element:
    counts = {status: 0 for status in Status}
    for check in result.checks:
        counts[check.status] += 1
    suite = ET.Element(
        "testsuite",
        {
            "name": _xml_text(_suite_name(result)),
            "tests": str(len(result.checks)),
            "failures": str(counts[Status.FAILED]),
            "errors": str(counts[Status.ERROR] + counts[Status.TIMEOUT]),
            "skipped": str(counts[Status.SKIPPED]),
            "time": f"{sum(c.duration_s for c in result.checks):.3f}",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("exercise", result.exercise),
        ("version", result.version),
        ("score", points_text(result.score)),
        ("max_score", points_text(result.max_score)),
        ("seed", str(result.seed)),
        ("replay", result.replay.command() if result.replay else ""),
        ("submission_hash", result.submission_hash),
        ("sandbox", result.sandbox),
        ("grader_version", result.grader_version),
    ):
        if value:
            ET.SubElement(properties, "property", {"name": name, "value": _xml_text(value)})
    for check in result.checks:
        suite.append(_testcase(result, check))
    if result.output:
        out = ET.SubElement(suite, "system-out")
        cut = "\n[output truncated]" if result.output_truncated else ""
        out.text = _xml_text(result.output + cut)
    return suite


def render_junit(results: list[SubmissionResult]) -> str:
    """JUnit XML for several submissions: one testsuite each, one testcase per check."""
    suites = [_testsuite(r) for r in results]
    root = ET.Element(
        "testsuites",
        {
            "name": "grader",
            "tests": str(sum(int(s.get("tests", "0")) for s in suites)),
            "failures": str(sum(int(s.get("failures", "0")) for s in suites)),
            "errors": str(sum(int(s.get("errors", "0")) for s in suites)),
            "time": f"{sum(float(s.get('time', '0')) for s in suites):.3f}",
        },
    )
    root.extend(suites)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
