"""`grader validate [PATH]`: lint exercises and prove their solutions grade as declared.

Argument parsing and finding the exercise files only: `grading.validate` validates,
`report.validation` renders.
"""

from __future__ import annotations

import argparse
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
    from grader.report.validation import validation_json, validation_junit, validation_text

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
        text = validation_junit(reports)
    elif args.format == "json":
        text = validation_json(reports)
    else:
        text = validation_text(reports)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        if args.format != "text":
            print(validation_text(reports), end="")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED
