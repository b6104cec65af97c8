"""`grader gradescope EXERCISE -o autograder.zip`: the bundle to upload to Gradescope."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.cli import EXIT_OK, fail_usage


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gradescope", help="write a Gradescope autograder bundle for an exercise",
        description="Write the zip Gradescope's programming assignments take: setup.sh "
        "installs the grader and bubblewrap, run_autograder grades /autograder/submission "
        "into /autograder/results/results.json.")
    parser.add_argument("exercise", help="an exercise id or folder")
    parser.add_argument("--output", "-o", type=Path, default=Path("autograder.zip"),
                        help="the zip to write (default: autograder.zip)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from grader.course.gradescope import write_bundle
    from grader.spec import SpecError, load_exercise

    try:
        exercise = load_exercise(args.exercise)
    except SpecError as exc:
        return fail_usage(str(exc))
    if args.output.is_dir():
        return fail_usage(f"{args.output} is a folder: name the zip to write")
    try:
        names = write_bundle(exercise, args.output)
    except OSError as exc:
        return fail_usage(f"cannot write {args.output}: {exc.strerror or exc}")
    print(f"wrote {args.output} ({len(names)} files): upload it as the autograder of a "
          f"Gradescope programming assignment for '{exercise.id}'")
    return EXIT_OK
