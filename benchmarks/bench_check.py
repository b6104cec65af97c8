"""How long `grader check` takes on a reference solution, and how much of it is start-up.

Prints, per exercise: the median wall time of a full `grader check` on the reference, of a
grading that runs only the import check (the fixed cost: CLI, sandbox, harness and pytest
start-up), and of a bare `python -c pass` as the machine's baseline measured in the same run.
Usage: python benchmarks/bench_check.py [EXERCISE ...] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(argv: list[str], runs: int) -> float:
    return statistics.median(timed(argv) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("exercises", nargs="*", default=["counter"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = [sys.executable]
    baseline = median_of([*python, "-c", "pass"], args.runs)
    print(f"python -c pass: {baseline:.3f} s (baseline)")
    print(f"{'exercise':<16}{'full check':>12}{'start-up':>12}{'start-up %':>12}{'x baseline':>12}")
    for exercise in args.exercises:
        reference = ROOT / "solutions" / exercise / "reference.py"
        if not reference.exists():
            reference = ROOT / "solutions" / exercise / "reference"
        check = [*python, "-m", "grader", "check", exercise, str(reference), "--seed", "1"]
        full = median_of(check, args.runs)
        startup = median_of([*check, "--check", "imports"], args.runs)
        print(f"{exercise:<16}{full:>11.2f}s{startup:>11.2f}s{100 * startup / full:>11.0f}%"
              f"{full / baseline:>11.0f}x")


if __name__ == "__main__":
    main()
