"""What the explorer's bounded search covers on every scenario of every thread exercise.

Grades each thread exercise's reference solution (every check passes, so every scenario runs
its whole bounded search) and prints a Markdown table: per scenario, the schedules the bounded
search ran, whether it completed every schedule with up to 2 preemptions (and 3, where the
budget allowed), and its seconds. The schedule counts do not depend on the seed or the machine;
the seconds do. docs/explorer.md keeps the table this prints.
Usage: python benchmarks/bench_coverage.py [EXERCISE ...] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_EXERCISES = ["counter", "bank", "bounded-buffer", "rwlock", "barrier", "lazy"]


def grade(exercise: str, seed: int) -> dict:
    solution = ROOT / "solutions" / exercise / "reference.py"
    proc = subprocess.run(["grader", "check", exercise, str(solution), "--format", "json",
                           "--seed", str(seed)], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{exercise}: the reference did not pass (exit {proc.returncode})")
    return json.loads(proc.stdout)


def per_bound(record: dict, bound: int) -> str:
    for b in record.get("bounds", []):
        if b["preemptions"] == bound:
            return f"{b['schedules']:,}, complete" if b["complete"] else (
                f"not after {b['schedules']:,}")
    return "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", default=THREAD_EXERCISES)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| exercise | check | scenario | schedules | up to 1 preemption | up to 2 | up to 3 "
          "| 2 complete | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for exercise in args.exercises:
        result = grade(exercise, args.seed)
        for check in result["checks"]:
            for record in check.get("exploration", []):
                cells = " | ".join(per_bound(record, b) for b in (1, 2, 3))
                print(f"| {exercise} | {check['id']} | {record['scenario']} | "
                      f"{record['schedules']:,} | {cells} | "
                      f"{'yes' if record['complete'] else 'no'} | {record['seconds']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
