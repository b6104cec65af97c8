"""Rendering `grader validate`'s reports: the terminal text, JSON and JUnit XML.

It turns the validation reports (`grader.grading.validate`'s `ExerciseReport`s, read as
plain attributes) into text; it validates, grades and writes nothing.
"""

from __future__ import annotations

import json
from typing import Any


def validation_json(reports: list[Any]) -> str:
    """The reports as a JSON list, one object per exercise."""
    return json.dumps([_as_dict(r) for r in reports], indent=2)


def _as_dict(report: Any) -> dict[str, Any]:
    return {
        "exercise": report.id, "file": str(report.file), "ok": report.ok,
        "problems": report.problems, "seconds": round(report.seconds, 2),
        "slow_checks": [{"check": c, "median_s": round(s, 2)} for c, s in report.slow_checks],
        "solutions": [{
            "path": str(s.path), "expect": s.manifest.expect if s.manifest else None,
            "checks": list(s.manifest.checks) if s.manifest else [], "ok": s.ok,
            "flaky": s.flaky, "problem": s.problem, "outcomes": s.outcomes,
            "median_s": round(sorted(s.seconds)[len(s.seconds) // 2], 2) if s.seconds else None,
        } for s in report.solutions],
    }


def validation_text(reports: list[Any]) -> str:
    """The terminal report: one line per exercise, then its problems and solutions."""
    lines = []
    total = 0.0
    for report in reports:
        total += report.seconds
        mark = "ok  " if report.ok else "FAIL"
        lines.append(f"{mark} {report.id}  ({report.seconds:.1f} s)")
        for problem in report.problems:
            lines.append(f"     problem: {problem}")
        for sol in report.solutions:
            if sol.problem:
                lines.append(f"     {sol.path.name}: {sol.problem}")
                continue
            good = sum(o == "ok" for o in sol.outcomes)
            expect = "pass" if sol.manifest and sol.manifest.expect == "pass" else (
                f"fail {sol.manifest.checks[0]}" if sol.manifest and sol.manifest.checks
                else "fail")
            median = sorted(sol.seconds)[len(sol.seconds) // 2] if sol.seconds else 0.0
            status = "ok" if sol.ok else ("FLAKY" if sol.flaky else "WRONG")
            lines.append(f"     {status:<5} {sol.path.name}: expect {expect}, "
                         f"{good}/{len(sol.outcomes)} as expected, median {median:.1f} s")
            for outcome in dict.fromkeys(o for o in sol.outcomes if o != "ok"):
                lines.append(f"           {outcome}")
        for check, seconds in report.slow_checks:
            lines.append(f"     slow: check {check} takes {seconds:.1f} s (median)")
    ok = sum(r.ok for r in reports)
    lines.append(f"{ok}/{len(reports)} exercises valid in {total:.1f} s")
    return "\n".join(lines) + "\n"


def validation_junit(reports: list[Any]) -> str:
    """JUnit XML: a suite per exercise, a case for its spec and one per solution."""
    from xml.etree import ElementTree as ET  # only for --format junit

    suites = ET.Element("testsuites", name="grader validate")
    for report in reports:
        cases = [("spec", report.problems)] + [
            (s.path.name, [s.problem] if s.problem else [o for o in s.outcomes if o != "ok"])
            for s in report.solutions
        ]
        suite = ET.SubElement(suites, "testsuite", name=report.id, tests=str(len(cases)),
                              failures=str(sum(bool(p) for _, p in cases)), errors="0",
                              skipped="0", time=f"{report.seconds:.3f}")
        for name, problems in cases:
            case = ET.SubElement(suite, "testcase", classname=report.id, name=name, time="0")
            if problems:
                failure = ET.SubElement(case, "failure", message=problems[0][:300],
                                        type="validation")
                failure.text = "\n".join(problems)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
