"""How fast each technique finds known concurrency bugs: real threads vs the explorer.

For every buggy counter in solutions/counter (those expected to fail `no-lost-updates`) and
every classic bug of tests/explore/learner/classic.py, it measures runs and seconds to the first
detection for: repetition on real threads (default switch interval), stress with
sys.setswitchinterval(1e-6), the explorer's random walk, PCT (d=3) and the default portfolio
(explorer figures are medians over seeds). It also measures scheduling points per second and
the explorer's share of grading `counter` (the `no-lost-updates` scenarios on the reference,
which must run the full budget). Prints a Markdown table.

    python3 benchmarks/bench_explorer.py [--seeds 5] [--real-runs 200] [--real-seconds 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.explore import explore, instrument  # noqa: E402
from grader.explore.stress import stress  # noqa: E402

LEARNER = REPO / "tests" / "explore" / "learner"


def load_counter_solutions(tmp: Path) -> dict[str, Any]:
    """Buggy counters expected to fail no-lost-updates, and the reference, as modules."""
    folder = tmp / "counters"
    folder.mkdir()
    modules: dict[str, Any] = {}
    for path in sorted((REPO / "solutions" / "counter").glob("*.py")):
        head = path.read_text().splitlines()[:1]
        if not head:
            continue
        wanted = head[0].startswith("# expect: fail no-lost-updates")
        if not wanted and path.stem != "reference":
            continue
        name = f"counter_{path.stem}"
        shutil.copy(path, folder / f"{name}.py")
        modules[path.stem] = name
    instrument.install([str(folder)])
    sys.path.insert(0, str(folder))
    return {stem: __import__(name) for stem, name in modules.items()}


def counter_scenario(module: Any, threads: int = 2, each: int = 1) -> dict[str, Any]:
    def body(c: Any) -> None:
        for _ in range(each):
            c.increment()

    def invariant(c: Any) -> None:
        assert c.value() == threads * each

    return dict(setup=module.Counter, threads=[body] * threads, invariant=invariant)


def classic_scenarios() -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    """name -> (explorer scenario, real-thread scenario or None when it would hang)."""
    instrument.install([str(LEARNER)])
    sys.path.insert(0, str(LEARNER))
    import classic as c

    def buffer(cls: Any) -> dict[str, Any]:
        return dict(setup=lambda: cls(1), threads=[lambda s: [s.put(i) for i in range(2)],
                                                   lambda s: s.get(), lambda s: s.get()])

    def bank() -> dict[str, Any]:
        return dict(setup=lambda: (c.Account(1, 100), c.Account(2, 100)),
                    threads=[lambda s: c.transfer_unordered(s[0], s[1], 10),
                             lambda s: c.transfer_unordered(s[1], s[0], 10)])

    racy = dict(setup=c.RacyCounter, threads=[lambda s: s.increment()] * 2,
                invariant=lambda s: s.value == 2)
    racy_real = dict(setup=c.RacyCounter,
                     threads=[lambda s: [s.increment() for _ in range(2000)]] * 8,
                     invariant=lambda s: s.value == 16000)
    return {
        "classic: lost update": (racy, racy_real),
        "classic: check-then-act": (
            dict(setup=lambda: c.RacyAccount(100), threads=[lambda s: s.withdraw(80)] * 2,
                 invariant=lambda s: s.balance >= 0),
            dict(setup=lambda: c.RacyAccount(100), threads=[lambda s: s.withdraw(80)] * 2,
                 invariant=lambda s: s.balance >= 0)),
        "classic: atomicity violation": (
            dict(setup=c.RacyPair, threads=[lambda s: s.move(10), lambda s: s.move(5)],
                 always=lambda s: s.total() == 100), None),
        "classic: if instead of while": (buffer(c.IfBuffer), buffer(c.IfBuffer)),
        "classic: notify not notify_all": (buffer(c.NotifyOneBuffer), buffer(c.NotifyOneBuffer)),
        "classic: lock-order deadlock": (bank(), bank()),
        "classic: self-deadlock": (
            dict(setup=c.Registry, threads=[lambda s: s.add(1, "a"), lambda s: s.add(2, "b")]),
            dict(setup=c.Registry, threads=[lambda s: s.add(1, "a"), lambda s: s.add(2, "b")])),
        "classic: order violation": (
            dict(setup=c.Config, threads=[lambda s: s.load(), lambda s: s.use_unsynchronised()],
                 invariant=lambda s: s.seen == "fast"),
            dict(setup=c.Config, threads=[lambda s: s.load(), lambda s: s.use_unsynchronised()],
                 invariant=lambda s: s.seen == "fast")),
    }


def real_threads(scenario: dict[str, Any], *, switch: float | None, max_runs: int,
                 max_seconds: float) -> tuple[str, str]:
    """Runs and seconds until real threads first show the bug (or the budget runs out)."""
    start = time.perf_counter()
    runs = 0
    while runs < max_runs and time.perf_counter() - start < max_seconds:
        runs += 1
        result = stress(scenario["setup"], scenario["threads"],
                        invariant=scenario.get("invariant"), runs=1, switch_interval=switch,
                        join_timeout=0.5)
        if result.failures:
            return str(runs), f"{time.perf_counter() - start:.3f}"
    return f"0/{runs}", f">{time.perf_counter() - start:.2f}"


def explorer(scenario: dict[str, Any], strategy: str, seeds: int) -> tuple[str, str, int]:
    runs, seconds, found = [], [], 0
    for seed in range(seeds):
        t = time.perf_counter()
        outcome = explore(**scenario, seed=seed, strategy=strategy)
        seconds.append(time.perf_counter() - t)
        runs.append(outcome.runs)
        found += not outcome.ok
    return (f"{statistics.median(runs):g}", f"{statistics.median(seconds):.3f}", found)


def points_per_second(scenario: dict[str, Any]) -> tuple[float, float]:
    t = time.perf_counter()
    outcome = explore(**scenario, seed=0, runs=300)
    elapsed = time.perf_counter() - t
    assert outcome.ok
    return outcome.steps / elapsed, elapsed / outcome.runs * 1000


def grading_share(reference: Any) -> float:
    """The explorer's part of grading `counter`: its three no-lost-updates scenarios."""
    t = time.perf_counter()
    for threads, each in ((2, 1), (2, 2), (3, 1)):
        outcome = explore(**counter_scenario(reference, threads, each), seed=1)
        assert outcome.ok
    return time.perf_counter() - t


LOOP_SOURCE = """
class Accumulator:
    def __init__(self):
        self.total = 0

    def run(self, n):
        for i in range(n):
            self.total += i
        return self.total
"""


def idle_overhead(tmp: Path, n: int = 200_000) -> tuple[float, float]:
    """Seconds for a tight loop of `self.total += i`, plain and instrumented (no exploration)."""
    plain: dict[str, Any] = {}
    exec(compile(LOOP_SOURCE, "plain_loop.py", "exec"), plain)
    module = instrument.instrument_source(LOOP_SOURCE, str(tmp / "loop.py"), "bench_loop")
    times = []
    for cls in (plain["Accumulator"], module.Accumulator):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            cls().run(n)
            best = min(best, time.perf_counter() - t)
        times.append(best)
    return times[0], times[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--real-runs", type=int, default=200)
    parser.add_argument("--real-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        counters = load_counter_solutions(Path(tmp))
        rows: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for stem, module in counters.items():
            if stem == "reference":
                continue
            rows.append((f"counter/{stem}", counter_scenario(module),
                         counter_scenario(module, threads=8, each=2000)))
        for name, (scenario, real) in classic_scenarios().items():
            rows.append((name, scenario, real))

        print(f"Python {sys.version.split()[0]}; explorer medians over {args.seeds} seeds; "
              f"real threads: up to {args.real_runs} runs or {args.real_seconds:g} s.\n")
        header = ("| bug | real threads: runs / s | switchinterval 1e-6: runs / s | "
                  "random walk: runs / s (found) | PCT d=3: runs / s (found) | "
                  "portfolio: runs / s (found) |")
        print(header)
        print("|" + "---|" * 6)
        for name, scenario, real in rows:
            cells = []
            for switch in (None, 1e-6):
                if real is None:
                    cells.append("n/a")
                else:
                    r, s = real_threads(real, switch=switch, max_runs=args.real_runs,
                                        max_seconds=args.real_seconds)
                    cells.append(f"{r} / {s}")
            for strategy in ("random", "pct:3", "portfolio"):
                r, s, found = explorer(scenario, strategy, args.seeds)
                cells.append(f"{r} / {s} ({found}/{args.seeds})")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)

        reference = counters["reference"]
        pps, ms = points_per_second(counter_scenario(reference, 3, 2))
        print(f"\nScheduling points per second (reference counter, 3 threads x 2 increments, "
              f"300 schedules): {pps:,.0f}; {ms:.2f} ms per schedule.")
        share = grading_share(reference)
        print(f"Explorer part of grading `counter` (3 scenarios x 300 schedules, reference): "
              f"{share:.2f} s.")
        plain, instrumented = idle_overhead(Path(tmp))
        print(f"Instrumented code outside an exploration (200k x `self.total += i`): "
              f"{plain * 1000:.1f} ms plain, {instrumented * 1000:.1f} ms instrumented "
              f"({instrumented / plain:.1f}x).")


if __name__ == "__main__":
    main()
