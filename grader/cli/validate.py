"""`grader validate [PATH]`: lint exercises and prove their solutions grade as declared."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from grader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check exercises: specs, checks, and every solution graded N times",
        description="Validate exercises: the YAML and its checks, then every reference and "
        "correct solution must pass and every known-buggy one must fail its named check, "
        "under N different seeds.",
    )
    parser.add_argument("paths", nargs="*", type=Path,
                        help="exercise folders, folders of exercises, or a course repository "
                        "(default: the course repository here, else the bundled catalogue)")
    parser.add_argument("--runs", type=int, default=10, help="gradings per solution (default 10)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2,
                        help="gradings at once (default: one per core)")
    parser.add_argument("--no-solutions", action="store_true", help="only lint the specs")
    parser.add_argument("--sandbox", metavar="NAME")
    parser.add_argument("--format", choices=("text", "json", "junit"), default="text")
    parser.add_argument("--output", "-o", type=Path, help="write the report to a file")
    parser.set_defaults(handler=run)


def find_exercise_files(paths: list[Path]) -> list[Path]:
    from grader.spec import bundled_exercises_dir, course_config, exercise_files

    if not paths:
        course = course_config()
        folders = course[1] if course else [bundled_exercises_dir()]
        return exercise_files(folders)
    files: list[Path] = []
    for path in paths:
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            files.append(path)
        elif (path / "exercise.yaml").is_file():
            files.append(path / "exercise.yaml")
        elif path.is_dir():
            course = course_config(path)
            folders = course[1] if course and course[0] == path.resolve() else [path]
            files += exercise_files(folders)
    return files


def run(args: argparse.Namespace) -> int:
    from grader.grading.validate import validate

    if args.runs < 1:
        print("grader: --runs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    files = find_exercise_files(args.paths)
    if not files:
        print("grader: no exercise found (looked for */exercise.yaml)", file=sys.stderr)
        return EXIT_USAGE
    reports = validate(files, runs=args.runs, workers=args.jobs, sandbox=args.sandbox,
                       solutions=not args.no_solutions)
    if args.format == "junit":
        text = render_junit(reports)
    elif args.format == "json":
        text = json.dumps([_as_dict(r) for r in reports], indent=2)
    else:
        text = render_text(reports)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        if args.format != "text":
            print(render_text(reports), end="")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED


def _as_dict(report) -> dict:
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


def render_text(reports) -> str:
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


def render_junit(reports) -> str:
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
