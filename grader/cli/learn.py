"""`grader show EXERCISE` and `grader start EXERCISE [DIR]`: what a learner needs to begin.

`show` prints the exercise's statement, its Markdown rendered for a terminal
(colour only on a terminal; `--plain` prints the Markdown as written); `start` copies the exercise's
starter file into a folder and says how to grade it. Both read the exercise as
found by `grader check` (the bundled catalogue of the installed package, a
course repository, or a path), so a learner needs nothing but the installed tool.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from grader.cli import EXIT_OK, fail_usage


def register(subparsers: argparse._SubParsersAction) -> None:
    show = subparsers.add_parser("show", help="print an exercise's statement",
                                 description="Print an exercise's statement.")
    show.add_argument("exercise", help="an exercise id (see grader list) or folder")
    show.add_argument("--plain", action="store_true",
                      help="print the Markdown as written, without terminal formatting")
    show.set_defaults(handler=run_show)
    start = subparsers.add_parser("start", help="copy an exercise's starter file to begin",
                                  description="Copy an exercise's starter file into DIR "
                                  "(default: the current folder); never overwrites a file.")
    start.add_argument("exercise", help="an exercise id (see grader list) or folder")
    start.add_argument("dir", nargs="?", type=Path, default=Path("."),
                       help="where to put the starter (created when missing)")
    start.set_defaults(handler=run_start)


def run_show(args: argparse.Namespace) -> int:
    from grader.spec import SpecError, load_exercise

    try:
        exercise = load_exercise(args.exercise)
    except SpecError as exc:
        return fail_usage(str(exc))
    path = exercise.statement_path
    if not path.is_file():
        return fail_usage(f"{exercise.id}: the exercise has no statement ({path.name} is missing)")
    text = path.read_text(encoding="utf-8")
    if args.plain:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:  # colour only on a terminal (rich asks the stream, and honours NO_COLOR)
        from rich.console import Console
        from rich.markdown import Markdown

        width = None if sys.stdout.isatty() else 88
        Console(width=width, no_color="NO_COLOR" in os.environ).print(
            Markdown(text, code_theme="ansi_dark"))
    print(f"\nStart: grader start {exercise.id}    Grade: grader check {exercise.id} "
          f"{exercise.entry}.py")
    return EXIT_OK


def run_start(args: argparse.Namespace) -> int:
    from grader.spec import SpecError, load_exercise

    try:
        exercise = load_exercise(args.exercise)
    except SpecError as exc:
        return fail_usage(str(exc))
    starter = exercise.starter_path
    if not starter.is_file():
        return fail_usage(f"{exercise.id}: the exercise ships no starter file")
    folder: Path = args.dir
    if folder.exists() and not folder.is_dir():
        return fail_usage(f"{folder}: not a folder")
    target = folder / f"{exercise.entry}.py"
    if target.exists():
        return fail_usage(f"{target} already exists: nothing was copied (remove it, or name "
                          "another folder)")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(starter, target)
    statement = folder / f"{exercise.id}.md"
    if exercise.statement_path.is_file() and not statement.exists():
        shutil.copyfile(exercise.statement_path, statement)
    print(f"wrote {target}" + (f" and {statement}" if statement.is_file() else ""))
    print(f"next: edit {target}, then run: grader check {exercise.id} {target}")
    return EXIT_OK
