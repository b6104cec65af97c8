"""`grader list` and `grader schema`: what exercises exist, and the YAML's JSON Schema."""

from __future__ import annotations

import argparse
import json
import sys

from grader.cli import EXIT_OK, EXIT_USAGE


def register(subparsers: argparse._SubParsersAction) -> None:
    listing = subparsers.add_parser("list", help="list the exercises grader can find")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(handler=run_list)
    schema = subparsers.add_parser("schema", help="print the JSON Schema of exercise.yaml")
    schema.set_defaults(handler=run_schema)


def run_list(args: argparse.Namespace) -> int:
    from grader.spec import SpecError, exercise_files, load_exercise_file

    rows, broken = [], []
    for file in exercise_files():
        try:
            exercise = load_exercise_file(file)
        except SpecError as exc:
            broken.append(str(exc))
            continue
        rows.append({"id": exercise.id, "title": exercise.title, "family": exercise.family,
                     "version": exercise.version, "checks": len(exercise.all_checks),
                     "points": exercise.max_score, "folder": str(exercise.folder)})
    if args.format == "json":
        print(json.dumps({"exercises": rows, "invalid": broken}, indent=2))
    else:
        width = max((len(r["id"]) for r in rows), default=2)
        for row in rows:
            print(f"{row['id']:<{width}}  {row['family']:<9}  {row['title']}")
        for problem in broken:
            print(f"invalid: {problem}", file=sys.stderr)
    return EXIT_USAGE if broken else EXIT_OK


def run_schema(args: argparse.Namespace) -> int:
    from grader.spec import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK
