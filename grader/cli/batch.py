"""`grader batch`: argument parsing for grading a whole class.

Only parses arguments, builds the backend and prints the outcome; the work is
`grader.grading.batch.run_batch`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `batch` sub-command; its handler (`args.handler(args)`) returns the exit code."""
    parser = subparsers.add_parser(
        "batch",
        help="grade a whole class, in parallel and resumably",
        description=(
            "Grade every submission in SUBMISSIONS (one file or folder per student, or a "
            "GitHub Classroom clone) into OUT: results.db (SQLite), gradebook.csv, a report "
            "per student and a class report (index.html). Rerun to resume: what is already "
            "graded is not graded again. Exit 0 when every submission was graded, 1 when "
            "some could not be (they are listed with why)."
        ),
    )
    parser.add_argument("exercise", metavar="EXERCISE", help="exercise id or folder")
    parser.add_argument("submissions", metavar="SUBMISSIONS", type=Path)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument(
        "-j", "--jobs", type=int, default=None, metavar="N",
        help="gradings at once on this machine (default: one per core)",
    )
    parser.add_argument(
        "--dask", metavar="ADDRESS", default=None,
        help="grade on a Dask cluster: tcp://HOST:PORT, or local[:N] for a LocalCluster "
        "of N worker processes here",
    )
    parser.add_argument(
        "--roster", type=Path, default=None, metavar="FILE",
        help="CSV mapping submission names to student ids (GitHub Classroom roster export)",
    )
    parser.add_argument(
        "--regrade", action="store_true", help="grade every submission again, even if stored"
    )
    parser.add_argument("--sandbox", default=None, metavar="NAME", help="sandbox backend")
    parser.add_argument(
        "--instructor-view", action="store_true",
        help="student reports show hidden checks in full (default: as learners see them)",
    )
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from grader.grading.batch import BatchOptions, run_batch
    from grader.grading.distributed import DaskUnavailable
    from grader.grading.roster import RosterError
    from grader.grading.store import StoreError

    try:
        from grader.spec import load_exercise

        exercise = load_exercise(args.exercise)
    except Exception as error:  # the spec layer's errors are one clear sentence
        print(f"grader batch: {error}", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print("grader batch: -j must be at least 1", file=sys.stderr)
        return 2
    backend = None
    cluster = None
    try:
        if args.dask:
            backend, cluster = _dask_backend(exercise, args.dask, args.sandbox, args.exercise)
        options = BatchOptions(
            out=args.out, roster=args.roster, regrade=args.regrade, jobs=args.jobs,
            sandbox=args.sandbox, learner_view=not args.instructor_view,
            exercise_ref=args.exercise,
        )
        if not args.dask:
            warning = weak_sandbox_warning(args.sandbox)
            if warning:
                print(warning, file=sys.stderr)
        _abandon_on_second_interrupt()
        summary = run_batch(exercise, args.submissions, options, backend=backend)
    except (RosterError, StoreError, DaskUnavailable) as error:
        print(f"grader batch: {error}", file=sys.stderr)
        return 2
    finally:
        if backend is not None:
            backend.close()
        if cluster is not None:
            cluster.close()
    out = summary.out
    print(f"gradebook: {out / 'gradebook.csv'}")
    print(f"class report: {out / 'index.html'}")
    if summary.missing:
        print(f"{len(summary.missing)} on the roster without a submission: "
              + ", ".join(summary.missing))
    if summary.not_graded:
        print(f"{len(summary.not_graded)} submission(s) could not be graded:", file=sys.stderr)
        for student, why in summary.not_graded:
            print(f"  {student}: {why}", file=sys.stderr)
    if summary.interrupted:
        print("interrupted: run the same command again to grade the rest", file=sys.stderr)
    return summary.exit_code


def _dask_backend(
    exercise: Any, address: str, sandbox: str | None, exercise_ref: str
) -> tuple[Any, Any]:
    from grader.grading.distributed import DaskBackend, start_local_cluster

    cluster = None
    if address == "local" or address.startswith("local:"):
        workers = int(address.partition(":")[2] or 2)
        cluster = start_local_cluster(workers=workers)
        address = cluster
    return DaskBackend(exercise, address, sandbox=sandbox, exercise_ref=exercise_ref), cluster


def _abandon_on_second_interrupt() -> None:
    """First Ctrl-C: finish the gradings in flight. Second: leave now (the database is safe)."""
    count = 0
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        nonlocal count
        count += 1
        if count > 1:
            sys.stderr.write("\nabandoned; the gradings in flight are regraded next run\n")
            os._exit(130)
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)


def weak_sandbox_warning(name: str | None) -> str | None:
    """Said at the start of a batch whose sandbox cannot keep other people's code out of the
    file system (None when it can, or when no sandbox works: grading then says why)."""
    from grader import sandbox

    try:
        chosen = sandbox.choose(name).name
    except sandbox.SandboxUnavailable:
        return None
    if chosen in sandbox.FILE_SYSTEM_ISOLATED:
        return None
    return (f"grader batch: warning: the '{chosen}' sandbox cannot keep these submissions out "
            f"of {sandbox.CANNOT_CONTAIN[chosen]}; for other people's code get a stronger "
            f"one: {sandbox.stronger_hint()}")
