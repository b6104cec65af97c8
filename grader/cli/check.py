"""`grader check EXERCISE SUBMISSION`: grade one submission and report it."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from grader.cli import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, fail_internal, fail_usage

FORMATS = ("text", "json", "html", "junit", "gradescope")

# An explorer schedule id: optionally "K@" (the K-th scenario of the check), then "s" and
# choice.thread pairs joined by "-", as a failure's replay command prints it: "2@s4.2-17.1".
REPLAY_ID = re.compile(r"(?:[1-9][0-9]*@)?s(?:[1-9][0-9]*\.[0-9]+(?:-[1-9][0-9]*\.[0-9]+)*)?")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="grade one submission",
        description="Grade one submission and print what a learner needs to fix it.",
    )
    parser.add_argument("exercise", help="a bundled exercise id, or a path to an exercise folder")
    parser.add_argument("submission", help="your file (or a folder holding the entry module)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument("--seed", type=int, help="the seed (default: from the submission)")
    parser.add_argument("--check", action="append", metavar="ID", dest="only",
                        help="run only this check (and the checks it needs); repeatable")
    parser.add_argument("--replay", metavar="SCHEDULE", help="replay one explorer schedule")
    parser.add_argument("--sandbox", metavar="NAME", help="sandbox backend (see grader doctor)")
    parser.add_argument("--html", metavar="FILE", type=Path, help="also write an HTML report")
    parser.add_argument("--open", action="store_true", help="open the HTML report in a browser")
    parser.add_argument("--output", "-o", metavar="FILE", type=Path,
                        help="write the report to FILE instead of standard output")
    parser.add_argument("--staff", action="store_true",
                        help="show hidden checks' details (instructors)")
    parser.add_argument("--no-color", action="store_true", help="never colour the text output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from grader.cli.suggest import unknown_name_sentence
    from grader.grading import GradeOptions, GradingError, grade_submission
    from grader.report import render
    from grader.spec import SpecError, load_exercise

    if args.replay is not None and not REPLAY_ID.fullmatch(args.replay):
        return fail_usage(f"--replay {args.replay!r} is not a schedule id: copy it from a "
                          "failure's replay command (it looks like s4.2-17.1 or 2@s4.2).")
    try:
        exercise = load_exercise(args.exercise)
    except SpecError as exc:
        return fail_usage(str(exc))
    known_checks = [c.id for c in exercise.all_checks]
    for wanted in args.only or []:
        if wanted not in known_checks:
            return fail_usage(f"{exercise.id}: "
                              + unknown_name_sentence("check", wanted, known_checks))
    submission = Path(args.submission)
    if not submission.exists():
        return fail_usage(f"{submission}: no such file or folder")
    html_path = args.html
    if args.open and html_path is None:
        html_path = Path(f"grader-report-{exercise.id}.html")
    options = GradeOptions(
        seed=args.seed, sandbox=args.sandbox, only=args.only, replay=args.replay,
        coverage=html_path is not None or args.format == "html", exercise_ref=args.exercise,
    )
    try:
        result = grade_submission(exercise, submission, options)
    except GradingError as exc:
        return fail_internal(str(exc))
    except Exception as exc:  # noqa: BLE001 - an internal error gets exit 3, not a traceback
        if os.environ.get("GRADER_DEBUG"):
            raise
        return fail_internal(f"{type(exc).__name__}: {exc} (set GRADER_DEBUG=1 for details)")

    learner_view = not args.staff
    stream_is_tty = args.output is None and sys.stdout.isatty()
    color = stream_is_tty and not args.no_color and "NO_COLOR" not in os.environ
    text = render(result, args.format, color=color, learner_view=learner_view)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if html_path is not None:
        from grader.report import render_html

        html_path.write_text(render_html(result, learner_view=learner_view), encoding="utf-8")
        if args.format == "text":
            print(f"HTML report: {html_path}", file=sys.stderr)
        if args.open:
            import webbrowser

            webbrowser.open(html_path.resolve().as_uri())
    return EXIT_OK if result.passed else EXIT_FAILED


__all__ = ["register", "run", "EXIT_USAGE", "EXIT_INTERNAL"]
