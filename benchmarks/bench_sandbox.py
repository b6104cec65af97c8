"""Start-up overhead of each sandbox backend against a plain subprocess.

Runs `python -I -S -c pass` N times per variant and prints, in milliseconds, the median and
90th percentile of: start() returning, and the whole run (start to a RunResult, teardown
included). Usage: `python3 benchmarks/bench_sandbox.py [N]` (default 20) from the repository.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.sandbox import (  # noqa: E402
    BwrapBackend,
    Limits,
    ProcessBackend,
    SandboxRequest,
    cgroup_support,
)

COMMAND = [sys.executable, "-I", "-S", "-c", "pass"]


def plain(n: int) -> tuple[list[float], list[float]]:
    total = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(COMMAND, stdin=subprocess.DEVNULL, check=True)
        total.append(time.perf_counter() - t0)
    return [0.0] * n, total


def sandboxed(backend: ProcessBackend, n: int) -> tuple[list[float], list[float]]:
    starts, total = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp, "work")
        work.mkdir()
        for _ in range(n):
            t0 = time.perf_counter()
            child = backend.start(SandboxRequest(
                argv=COMMAND, workdir=work, env={"PATH": "/usr/bin:/bin"},
                limits=Limits(wall_seconds=30), run_dir=Path(tmp, "runs"),
            ))
            t1 = time.perf_counter()
            result = child.wait()
            t2 = time.perf_counter()
            child.close()
            assert result.exit_code == 0 and result.error is None, result
            starts.append(t1 - t0)
            total.append(t2 - t0)
    return starts, total


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    variants = {
        "plain subprocess": lambda: plain(n),
        "process, rlimits only": lambda: sandboxed(ProcessBackend(use_cgroups=False), n),
        "process + cgroups": lambda: sandboxed(ProcessBackend(), n),
    }
    bwrap = BwrapBackend()
    if bwrap.available()[0]:
        variants["bwrap + cgroups"] = lambda: sandboxed(bwrap, n)
    cgroup_support()  # probe cgroups once, outside the timings
    print(f"{'variant':24} {'start() med':>12} {'run med':>9} {'run p90':>9}   (ms, n={n})")
    base = None
    for name, fn in variants.items():
        starts, total = fn()
        med = statistics.median(total) * 1000
        p90 = sorted(total)[int(0.9 * (len(total) - 1))] * 1000
        base = base if base is not None else med
        print(f"{name:24} {statistics.median(starts) * 1000:12.1f} {med:9.1f} {p90:9.1f}"
              f"   +{med - base:.1f} over plain")


if __name__ == "__main__":
    main()
