"""`grader doctor`: what this machine supports for sandboxing, and why."""

from __future__ import annotations

import argparse
import json

from grader.cli import EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help="report which sandbox backends work here")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from grader import host, sandbox

    rows = sandbox.doctor()
    try:
        chosen: str | None = sandbox.choose(None).name
        problem = ""
    except sandbox.SandboxUnavailable as exc:
        chosen, problem = None, str(exc)
    if args.format == "json":
        print(json.dumps(rows, indent=2, default=str))
        return EXIT_OK
    print(f"system: {host.system()}")
    for row in rows:
        mark = "yes" if row.get("available") else "no "
        print(f"[{mark}] {row['name']}: {row.get('why') or ''}")
        if row.get("kind") == "backend" and row.get("available") and row.get("cannot_contain"):
            print(f"      cannot contain: {row['cannot_contain']}")
    if chosen is None:
        print(f"no backend available: {problem}")
        return EXIT_OK
    print(f"default backend: {chosen}")
    if chosen not in sandbox.FILE_SYSTEM_ISOLATED:
        print(f"for other people's code, get a stronger one: {sandbox.stronger_hint()}")
    return EXIT_OK
