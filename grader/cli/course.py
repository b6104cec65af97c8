"""`grader init DIR` and `grader new ID --family F`: scaffold a course and its exercises."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.cli import EXIT_OK, fail_usage


def register(subparsers: argparse._SubParsersAction) -> None:
    init = subparsers.add_parser("init", help="scaffold a course repository",
                                 description="Create a course repository: grader.toml, "
                                 "exercises/, solutions/, a CI workflow running grader validate "
                                 "and a GitHub Classroom workflow running grader check.")
    init.add_argument("dir", type=Path)
    init.add_argument("--name", help="the course's name (default: the folder's)")
    init.set_defaults(handler=run_init)
    new = subparsers.add_parser("new", help="scaffold an exercise that validates out of the box")
    new.add_argument("id", help="the exercise id, e.g. bank or bounded-buffer")
    new.add_argument("--family", required=True, choices=("threads", "processes", "workers"))
    new.add_argument("--title")
    new.add_argument("--root", type=Path, help="the course repository (default: around here)")
    new.set_defaults(handler=run_new)


def run_init(args: argparse.Namespace) -> int:
    from grader.course import ScaffoldError, init_course

    try:
        paths = init_course(args.dir, args.name)
    except ScaffoldError as exc:
        return fail_usage(str(exc))
    print(f"created a course repository in {args.dir} ({len(paths)} files)")
    print(f"next: cd {args.dir} && grader new EXERCISE --family threads && grader validate")
    return EXIT_OK


def run_new(args: argparse.Namespace) -> int:
    from grader.course import ScaffoldError, new_exercise

    try:
        paths = new_exercise(args.id, args.family, args.root, args.title)
    except ScaffoldError as exc:
        return fail_usage(str(exc))
    for path in paths:
        print(f"  wrote {path}")
    print("next: edit the statement, checks and solutions, then run grader validate")
    return EXIT_OK
