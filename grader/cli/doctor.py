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
    from grader import sandbox

    rows = sandbox.doctor()
    if args.format == "json":
        print(json.dumps(rows, indent=2, default=str))
        return EXIT_OK
    for row in rows:
        mark = "yes" if row.get("available") else "no "
        name = row.get("name") or row.get("backend") or row.get("feature")
        print(f"[{mark}] {name}: {row.get('why') or row.get('reason') or ''}")
    try:
        chosen = sandbox.choose(None)
        print(f"default backend: {chosen.name}")
    except Exception as exc:  # noqa: BLE001
        print(f"no backend available: {exc}")
    return EXIT_OK
