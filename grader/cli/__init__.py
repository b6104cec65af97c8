"""The command line: argument parsing only; every command calls the layers.

Exit statuses: 0 every check passed (or the command succeeded), 1 some check
failed, 2 bad usage or an invalid exercise, 3 an internal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

#: Modules that each add one sub-command with `register(subparsers)`.
COMMANDS = [
    "grader.cli.check",
    "grader.cli.catalogue",
    "grader.cli.learn",
    "grader.cli.validate",
    "grader.cli.batch",
    "grader.cli.doctor",
    "grader.cli.course",
    "grader.cli.gradescope",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, as argparse does, plus help
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    from grader import __version__

    parser = _Parser(
        prog="grader",
        description="Grade concurrency exercises: races, deadlocks, lost wakeups, crashes.",
    )
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a command whose module is not part of this build
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    refusal = platform_refusal(args.command)
    if refusal:
        return fail_usage(refusal)
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


#: Commands that run learner code in a sandbox: they need a POSIX process model.
GRADING_COMMANDS = ("check", "batch", "validate")


def platform_refusal(command: str | None) -> str | None:
    """One sentence when this OS cannot run `command` (Windows: no sandbox), else None."""
    if command not in GRADING_COMMANDS:
        return None
    from grader import host

    if host.has_posix_processes():
        return None
    return (f"'grader {command}' cannot grade on {host.system()}: the sandbox needs "
            f"fork, sessions and rlimits (process exercises need fork too); "
            f"{host.WINDOWS_HINT}")


def fail_usage(message: str) -> int:
    print(f"grader: {message}", file=sys.stderr)
    return EXIT_USAGE


def fail_internal(message: str) -> int:
    print(f"grader: internal error: {message}", file=sys.stderr)
    return EXIT_INTERNAL
