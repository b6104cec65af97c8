"""Where a grading's fixed cost goes: each start-up step against `import pytest`, same run.

Every step is a separate command, run in interleaved rounds (the machine is shared, so only
ratios to the baseline measured alongside mean anything):

- the CLI's own imports for `check` (what `grader check` imports before grading);
- the same plus loading the exercise's YAML (the spec model);
- the harness child's imports (pytest, the harness, the explorer's pytest plugin);
- the sandbox: a supervised `python -I -S -c pass` through the strongest backend;
- a whole `grader check EXERCISE REFERENCE --check imports` (the fixed cost end to end);
- `grader --help` and `grader list` (commands that grade nothing).

    python benchmarks/bench_startup.py [--exercise counter] [--runs 7]
    python benchmarks/bench_startup.py --against OTHER_TREE   # also each step on another
                                                              # checkout (e.g. a `git archive`
                                                              # of main), same rounds
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
PY = sys.executable

SANDBOX_PASS = """
import sys, tempfile
from pathlib import Path
from grader import sandbox
backend = sandbox.choose(None)
with tempfile.TemporaryDirectory() as tmp:
    work = Path(tmp, "work"); work.mkdir()
    child = backend.start(sandbox.SandboxRequest(
        argv=[sys.executable, "-I", "-S", "-c", "pass"], workdir=work,
        env={"PATH": "/usr/bin:/bin"}, limits=sandbox.Limits(wall_seconds=30),
        run_dir=Path(tmp, "runs")))
    result = child.wait(); child.close()
    assert result.exit_code == 0, result
"""


def steps(exercise: str) -> dict[str, list[str]]:
    reference = ROOT / "solutions" / exercise / "reference.py"
    if not reference.exists():
        reference = reference.with_suffix("")
    cli_imports = ("import grader.cli, grader.cli.check; from grader.cli import check; "
                   "import grader.grading, grader.spec")
    return {
        "python -c pass": [PY, "-c", "pass"],
        'python -c "import pytest" (baseline)': [PY, "-c", "import pytest"],
        "CLI imports for check": [PY, "-c", cli_imports],
        "  + load the exercise": [PY, "-c", f"{cli_imports}; grader.spec.load_exercise"
                                  f"({exercise!r})"],
        "  + report imports (text)": [PY, "-c", f"{cli_imports}; import grader.report"],
        "harness child imports": [PY, "-s", "-c", "import grader.harness.runner, "
                                  "grader.harness.fixtures, grader.explore.pytest_plugin"],
        "sandboxed python -I -S -c pass": [PY, "-c", SANDBOX_PASS],
        f"grader check {exercise} --check imports": [
            PY, "-m", "grader", "check", exercise, str(reference), "--seed", "1",
            "--check", "imports"],
        f"grader check {exercise} (all checks)": [
            PY, "-m", "grader", "check", exercise, str(reference), "--seed", "1"],
        "grader --help": [PY, "-m", "grader", "--help"],
        "grader list": [PY, "-m", "grader", "list"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="counter")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", type=Path, metavar="TREE",
                        help="another checkout of grader: each step also runs on it")
    args = parser.parse_args()
    trees = {"here": ROOT}
    if args.against:
        trees["against"] = args.against.resolve()
    commands = steps(args.exercise)
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.runs):
        for name, argv in commands.items():
            for tree, path in trees.items():
                if tree != "here" and "pytest" in name and "harness" not in name:
                    continue  # the baselines do not depend on the tree
                env = dict(os.environ, PYTHONPATH=str(path))
                start = time.perf_counter()
                done = subprocess.run(argv, cwd=path, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)
                samples.setdefault((name, tree), []).append(time.perf_counter() - start)
                if done.returncode not in (0, 1):
                    raise SystemExit(f"{name} ({tree}) failed ({done.returncode}): "
                                     f"{done.stderr[-500:]}")
    medians = {key: statistics.median(values) for key, values in samples.items()}
    base = medians[('python -c "import pytest" (baseline)', "here")]
    print(f"median of {args.runs} interleaved rounds; x = multiple of import pytest "
          f"({base:.3f} s here)")
    print(f"{'step':<44}" + "".join(f"{tree:>18}" for tree in trees))
    for name in commands:
        cells = []
        for tree in trees:
            value = medians.get((name, tree))
            cells.append(f"{value:>9.3f} s {value / base:>5.2f}x" if value is not None
                         else f"{'':>18}")
        print(f"{name:<44}" + "".join(cells))


if __name__ == "__main__":
    main()
