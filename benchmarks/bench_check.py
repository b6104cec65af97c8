"""How long `grader check` takes on each reference solution, against a same-run baseline.

The baseline is `python -c "import pytest"` measured in the same run, interleaved with the
gradings (the machine is shared, so only ratios mean anything). Prints, per exercise: the
median wall time of a full `grader check` on the reference, of a grading that runs only the
import check (the fixed cost: CLI, sandbox, harness and pytest start-up), and both as
multiples of the baseline. Also `grader --help` (the CLI's own cold start).

    python benchmarks/bench_check.py [EXERCISE ...] [--runs N]     # default: every exercise
    python benchmarks/bench_check.py counter --against /tmp/before  # and another checkout

With `--against TREE` (another checkout of grader, e.g. `git archive COMMIT | tar -x -C
/tmp/before`), every grading also runs on that tree in the same rounds, so "before" and
"after" share the machine's load.

The issue's targets (benchmarks, not tests): counter at most 4x, every thread exercise at
most 6x, every process exercise at most 12x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = [sys.executable]
BASELINE = [*PYTHON, "-c", "import pytest"]


def timed(argv: list[str], tree: Path = ROOT) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    start = time.perf_counter()
    subprocess.run(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def interleaved(argvs: list[list[str] | tuple[list[str], Path]], runs: int) -> list[float]:
    """Median of each command (an argv, or an argv and the tree it runs in), run in rounds so
    that load changes hit every one alike."""
    samples: list[list[float]] = [[] for _ in argvs]
    for _ in range(runs):
        for index, item in enumerate(argvs):
            argv, tree = item if isinstance(item, tuple) else (item, ROOT)
            samples[index].append(timed(argv, tree))
    return [statistics.median(s) for s in samples]


def reference_of(exercise: str) -> Path:
    reference = ROOT / "solutions" / exercise / "reference.py"
    return reference if reference.exists() else ROOT / "solutions" / exercise / "reference"


def family_of(exercise: str) -> str:
    for line in (ROOT / "exercises" / exercise / "exercise.yaml").read_text().splitlines():
        if line.startswith("family:"):
            return line.split(":", 1)[1].strip()
    return "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--against", type=Path, metavar="TREE",
                        help="another checkout of grader: each grading also runs on it")
    args = parser.parse_args()
    against = args.against.resolve() if args.against else None
    exercises = args.exercises or sorted(p.name for p in (ROOT / "exercises").iterdir()
                                         if (p / "exercise.yaml").is_file())
    grader = [*PYTHON, "-m", "grader"]
    base, helped = interleaved([BASELINE, [*grader, "--help"]], args.runs)
    print(f'python -c "import pytest": {base:.3f} s (baseline, x1.0)')
    print(f"grader --help: {helped:.3f} s (x{helped / base:.1f})")
    columns = f"{'exercise':<16}{'family':<11}{'full check':>11}{'x base':>8}" \
              f"{'imports only':>14}{'x base':>8}"
    if against:
        columns += f"{'full, against':>15}{'x base':>8}{'imports, against':>18}{'x base':>8}"
    print(columns + f"{'baseline':>10}")
    for exercise in exercises:
        check = [*grader, "check", exercise, str(reference_of(exercise)), "--seed", "1"]
        commands: list = [BASELINE, check, [*check, "--check", "imports"]]
        if against:
            commands += [(check, against), ([*check, "--check", "imports"], against)]
        b, full, startup, *others = interleaved(commands, args.runs)
        line = (f"{exercise:<16}{family_of(exercise):<11}{full:>10.2f}s{full / b:>7.1f}x"
                f"{startup:>13.2f}s{startup / b:>7.1f}x")
        if against:
            old_full, old_startup = others
            line += (f"{old_full:>14.2f}s{old_full / b:>7.1f}x"
                     f"{old_startup:>17.2f}s{old_startup / b:>7.1f}x")
        print(line + f"{b:>9.2f}s")


if __name__ == "__main__":
    main()
