"""The explorer side by side with its peer, frontrun (DPOR and random), on the same scenarios.

    pip install '.[peers]'
    python benchmarks/bench_peers.py                      # every scenario (a few minutes)
    python benchmarks/bench_peers.py --exercise counter   # one exercise (and no classics)
    python benchmarks/bench_peers.py --no-solutions       # only the classic bugs

Scenarios: the classic bugs of tests/explore/learner/classic.py (and their correct twins), and
the explorer scenarios of every thread exercise's checks run on every solution in solutions/.
For a known-buggy solution only the explorer checks its `# expect: fail` line names are run;
for a correct one every explorer check. The exercise's own check code builds the scenarios: each
`explorer.check(setup, threads, invariant=...)` it makes is handed to the tool under test
instead of (or as well as) to our explorer, so every tool sees exactly the same setup, thread
bodies and invariant.

Each tool runs in a child process of its own, per solution: ours with the learner's module
instrumented (as in a grading), frontrun's under its own `frontrun` launcher on the plain
module, as its documentation asks. frontrun gets its defaults (DPOR: preemption bound 2;
random: as many attempts as our budget of schedules), except that it does not re-run a found
counterexample ten times (our explorer confirms a failure by one replay) and each scenario is
cut at --peer-seconds. An `always=` invariant (ours checks it at every step) is checked by
frontrun only at the end of each run: frontrun has no per-step invariant.

Printed per scenario and tool: found or not, schedules and seconds to the first failure (for a
bug), or seconds to the verdict (for a correct solution, where any failure is a false alarm).
The summary gives medians, and how many bugs each tool found that the other missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CLASSIC = REPO / "tests" / "explore" / "learner"
TOOLS = ("grader", "frontrun-dpor", "frontrun-random")


# -- the child: one tool, one solution (or the classics) -------------------------------------


def _predicate(invariant: Any, always: Any) -> Any:
    """Our invariants raise on a violation; frontrun's return a bool."""

    def holds(state: Any) -> bool:
        try:
            for check in (invariant, always):
                if check is not None and check(state) is False:
                    return False
        except Exception:  # noqa: BLE001 - a violated assertion, or the state is broken
            return False
        return True

    return holds


class Runner:
    """Runs one scenario with one tool and appends a JSON line about it to `out`."""

    def __init__(self, tool: str, out: Path, unit: str, peer_seconds: float) -> None:
        self.tool, self.out, self.unit, self.peer_seconds = tool, out, unit, peer_seconds
        self.check = ""

    def run(self, setup: Any, threads: Any, *, invariant: Any = None, always: Any = None,
            seed: int = 0, runs: int = 300, name: str = "scenario", **kw: Any) -> dict[str, Any]:
        started = time.perf_counter()
        note = ""
        if self.tool == "grader":
            from grader.explore import explore

            outcome = explore(setup, threads, invariant=invariant, always=always, seed=seed,
                              runs=runs, name=name, **kw)
            verdict = "holds" if outcome.ok else "found"
            schedules, note = outcome.runs, outcome.strategy
        else:
            import frontrun

            options: dict[str, Any] = dict(
                setup=setup, workers=list(threads), invariant=_predicate(invariant, always),
                reproduce_on_failure=0, total_timeout=self.peer_seconds)
            if self.tool == "frontrun-random":
                options.update(strategy="random", seed=seed, max_attempts=runs)
            else:
                options.update(strategy="dpor")
            try:
                result = frontrun.explore(**options)
            except (frontrun.FrontrunInternalError, frontrun.InconclusiveExploration) as exc:
                verdict, schedules = "inconclusive", 0
                note = f"{type(exc).__name__}: {exc}"[:200]
            except Exception as exc:  # noqa: BLE001 - a thread body's exception, passed on
                verdict, schedules = "found", 0
                note = f"raised {type(exc).__name__}: {exc}"[:200]
            else:
                schedules = result.num_explored
                verdict = {True: "holds", False: "found"}.get(result.property_holds,
                                                              "inconclusive")
                if verdict == "inconclusive":
                    note = f"inconclusive: {result.inconclusive_reason}"[:200]
                elif verdict == "found":
                    note = " ".join((result.explanation or "").split())[:200]
        record = {"unit": self.unit, "check": self.check, "scenario": name, "tool": self.tool,
                  "verdict": verdict, "found": verdict == "found", "schedules": schedules,
                  "seconds": round(time.perf_counter() - started, 4), "note": note}
        with open(self.out, "a") as stream:
            stream.write(json.dumps(record) + "\n")
        return record


class ExplorerStandIn:
    """The `explorer` fixture of the checks, handing every scenario to a `Runner`."""

    def __init__(self, runner: Runner, seed: int) -> None:
        self.runner, self.seed = runner, seed

    def check(self, setup: Any, threads: Any, **kw: Any) -> None:
        kw.setdefault("seed", self.seed)
        if self.runner.run(setup, threads, **kw)["found"]:
            raise AssertionError(f"{self.runner.tool} found a failing schedule")

    run = check


class Plugin:
    """pytest plugin for the child: only explorer checks, our stand-in as their `explorer`."""

    def __init__(self, runner: Runner, checks: set[str] | None) -> None:
        self.runner, self.checks = runner, checks

    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list) -> None:
        def wanted(item: Any) -> bool:
            name = getattr(item, "originalname", item.name)
            check = name.removeprefix("test_").replace("_", "-")
            return "explorer" in item.fixturenames and (self.checks is None
                                                         or check in self.checks)

        items[:] = [item for item in items if wanted(item)]

    def pytest_runtest_setup(self, item: Any) -> None:
        self.runner.check = getattr(item, "originalname", item.name).removeprefix("test_")

    def explorer_fixture(self) -> Any:
        import pytest

        runner = self.runner

        @pytest.fixture(name="explorer")
        def explorer(seed: int) -> ExplorerStandIn:
            return ExplorerStandIn(runner, seed)

        return explorer


def child_solution(tool: str, exercise: str, solution: Path, checks: set[str] | None,
                   out: Path, peer_seconds: float) -> None:
    import pytest

    folder = REPO / "exercises" / exercise
    entry = next(line.split(":", 1)[1].strip()
                 for line in (folder / "exercise.yaml").read_text().splitlines()
                 if line.startswith("entry:"))
    work = Path(tempfile.mkdtemp(prefix="peers-"))
    try:
        if solution.is_dir():
            shutil.copytree(solution, work / "sub")
        else:
            (work / "sub").mkdir()
            shutil.copyfile(solution, work / "sub" / f"{entry}.py")
        os.environ.update(GRADER_SUBMISSION_DIR=str(work / "sub"), GRADER_ENTRY=entry,
                          GRADER_SEED="1", GRADER_INSTRUMENT="1" if tool == "grader" else "0")
        runner = Runner(tool, out, f"{exercise}/{solution.stem}", peer_seconds)
        plugin = Plugin(runner, checks)
        holder = types.ModuleType("bench_peers_fixtures")  # a module: its fixture is not bound
        holder.explorer = plugin.explorer_fixture()
        pytest.main([str(folder / "checks"), "-q", "-s", "-p", "no:cacheprovider",
                     "-p", "grader.harness.fixtures", "-c", os.devnull,
                     "--rootdir", str(folder / "checks"), "-W", "ignore"],
                    plugins=[plugin, holder])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def classic_scenarios(c: Any) -> dict[str, tuple[bool, dict[str, Any]]]:
    """name -> (buggy?, scenario) over the classic module `c` (instrumented or not)."""

    def buffer(cls: Any) -> dict[str, Any]:
        return dict(setup=lambda: cls(1), threads=[lambda s: [s.put(i) for i in range(2)],
                                                   lambda s: s.get(), lambda s: s.get()])

    def accounts(transfer: Any) -> dict[str, Any]:
        return dict(setup=lambda: (c.Account(1, 100), c.Account(2, 100)),
                    threads=[lambda s: transfer(s[0], s[1], 10),
                             lambda s: transfer(s[1], s[0], 10)])

    def counter(cls: Any) -> dict[str, Any]:
        def total(s: Any) -> None:
            assert s.value == 2

        return dict(setup=cls, threads=[lambda s: s.increment()] * 2, invariant=total)

    def account(cls: Any) -> dict[str, Any]:
        def solvent(s: Any) -> None:
            assert s.balance >= 0

        return dict(setup=lambda: cls(100), threads=[lambda s: s.withdraw(80)] * 2,
                    invariant=solvent)

    def pair(cls: Any) -> dict[str, Any]:
        def whole(s: Any) -> None:
            assert s.total() == 100

        return dict(setup=cls, threads=[lambda s: s.move(10), lambda s: s.move(5)], always=whole)

    def registry(cls: Any) -> dict[str, Any]:
        return dict(setup=cls, threads=[lambda s: s.add(1, "a"), lambda s: s.add(2, "b")])

    def config(method: str) -> dict[str, Any]:
        def fast(s: Any) -> None:
            assert s.seen == "fast"

        return dict(setup=c.Config, threads=[lambda s: s.load(),
                                             lambda s: getattr(s, method)()], invariant=fast)

    return {
        "lost update": (True, counter(c.RacyCounter)),
        "lost update (locked twin)": (False, counter(c.LockedCounter)),
        "check-then-act": (True, account(c.RacyAccount)),
        "check-then-act (safe twin)": (False, account(c.SafeAccount)),
        "atomicity violation": (True, pair(c.RacyPair)),
        "atomicity violation (safe twin)": (False, pair(c.SafePair)),
        "if instead of while": (True, buffer(c.IfBuffer)),
        "while loop (twin)": (False, buffer(c.WhileBuffer)),
        "notify not notify_all": (True, buffer(c.NotifyOneBuffer)),
        "lock-order deadlock": (True, accounts(c.transfer_unordered)),
        "lock order (ordered twin)": (False, accounts(c.transfer_ordered)),
        "self-deadlock": (True, registry(c.Registry)),
        "self-deadlock (RLock twin)": (False, registry(c.ReentrantRegistry)),
        "order violation": (True, config("use_unsynchronised")),
        "order violation (event twin)": (False, config("use_after_ready")),
    }


def child_classic(tool: str, out: Path, peer_seconds: float) -> None:
    sys.path.insert(0, str(CLASSIC))
    if tool == "grader":
        from grader.explore import instrument

        instrument.install([str(CLASSIC)])
    import classic

    for name, (buggy, scenario) in classic_scenarios(classic).items():
        runner = Runner(tool, out, f"classic/{name}", peer_seconds)
        runner.check = "bug" if buggy else "correct"
        runner.run(**scenario, seed=1, name=name)


# -- the parent: which children, and the table ------------------------------------------------


def expectation(solution: Path) -> tuple[bool, set[str]]:
    """(buggy?, the checks it is expected to fail) from its first line."""
    path = solution / "__init__.py" if solution.is_dir() else solution
    first = next(iter(path.read_text().splitlines()), "") if path.is_file() else ""
    if not first and solution.is_dir():
        files = sorted(solution.glob("*.py"))
        first = files[0].read_text().splitlines()[0] if files else ""
    words = first.removeprefix("# expect:").split()
    if words[:1] == ["fail"]:
        return True, set(words[1:])
    return False, set()


def explorer_checks(exercise: str) -> set[str]:
    """Checks of `exercise` whose test function takes the `explorer` fixture."""
    import ast

    found = set()
    for file in (REPO / "exercises" / exercise / "checks").glob("test_*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                if "explorer" in [a.arg for a in node.args.args]:
                    found.add(node.name.removeprefix("test_").replace("_", "-"))
    return found


def thread_exercises() -> list[str]:
    names = []
    for yaml in sorted((REPO / "exercises").glob("*/exercise.yaml")):
        if any(line.strip() == "family: threads" for line in yaml.read_text().splitlines()):
            if explorer_checks(yaml.parent.name):
                names.append(yaml.parent.name)
    return names


def spawn(tool: str, args: list[str], out: Path, timeout: float) -> str:
    argv = [sys.executable, __file__, "--child", tool, "--out", str(out), *args]
    if tool.startswith("frontrun"):
        argv = [sys.executable, "-m", "frontrun.cli", *argv]
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    try:
        subprocess.run(argv, env=env, cwd=REPO, timeout=timeout, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"child timed out after {timeout:g} s"
    return ""


def cell(rows: list[dict[str, Any]], buggy: bool, problem: str) -> tuple[str, str, float]:
    """Summary of one tool on one unit: (text, verdict, seconds).

    The verdict is "found" (for a correct solution: a false alarm), "holds" (every scenario
    held: for a bug, missed) or "inconclusive" (some scenario gave no verdict)."""
    if not rows:
        return (problem or "no result"), "inconclusive", float("nan")
    seconds = sum(r["seconds"] for r in rows)
    schedules = sum(r["schedules"] for r in rows)
    verdicts = {r["verdict"] for r in rows}
    verdict = ("found" if "found" in verdicts
               else "inconclusive" if "inconclusive" in verdicts or problem else "holds")
    notes = sorted({r["note"].split(":")[0] for r in rows
                    if r["note"].startswith(("raised", "inconclusive", "Frontrun", "Inconcl"))})
    suffix = (" (" + "; ".join(notes) + ")") if notes else ""
    if problem:
        suffix += f" [{problem}]"
    text = {
        (True, "found"): f"found, {schedules} sch, {seconds:.2f} s",
        (True, "holds"): f"MISSED ({schedules} sch, {seconds:.2f} s)",
        (True, "inconclusive"): f"no verdict ({schedules} sch, {seconds:.2f} s)",
        (False, "found"): f"FALSE ALARM ({seconds:.2f} s)",
        (False, "holds"): f"pass, {seconds:.2f} s ({schedules} sch)",
        (False, "inconclusive"): f"no verdict ({seconds:.2f} s)",
    }[(buggy, verdict)]
    return text + suffix, verdict, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", action="append", help="only these exercises")
    parser.add_argument("--solution", action="append", help="only solutions whose name has this")
    parser.add_argument("--no-solutions", action="store_true", help="only the classic bugs")
    parser.add_argument("--no-classics", action="store_true")
    parser.add_argument("--peer-seconds", type=float, default=30.0,
                        help="frontrun's total_timeout per scenario (default 30)")
    parser.add_argument("--child-seconds", type=float, default=600.0)
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--classic", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--target", nargs=2, metavar=("EXERCISE", "SOLUTION"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--checks", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.classic:
            child_classic(args.child, args.out, args.peer_seconds)
        else:
            checks = set(args.checks.split(",")) if args.checks else None
            child_solution(args.child, args.target[0], Path(args.target[1]), checks, args.out,
                           args.peer_seconds)
        return 0

    try:
        import frontrun
    except ImportError:
        print("frontrun is not installed: pip install '.[peers]'", file=sys.stderr)
        return 2
    units: list[tuple[str, bool, list[str]]] = []  # (unit, buggy, child args)
    skipped: list[str] = []
    if not args.no_classics and not args.exercise:
        import importlib.util

        spec = importlib.util.spec_from_file_location("classic_names", CLASSIC / "classic.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, (buggy, _) in classic_scenarios(module).items():
            units.append((f"classic/{name}", buggy, ["--classic"]))
    if not args.no_solutions:
        for exercise in args.exercise or thread_exercises():
            explored = explorer_checks(exercise)
            for solution in sorted((REPO / "solutions" / exercise).iterdir()):
                if solution.name.startswith((".", "__")) or (solution.is_file()
                                                             and solution.suffix != ".py"):
                    continue
                if args.solution and not any(s in solution.name for s in args.solution):
                    continue
                buggy, failing = expectation(solution)
                checks = (failing & explored) if buggy else explored
                if buggy and not checks:
                    skipped.append(f"{exercise}/{solution.stem} (fails {', '.join(sorted(failing))}"
                                   f": no explorer check)")
                    continue
                units.append((f"{exercise}/{solution.stem}", buggy,
                              ["--target", exercise, str(solution),
                               "--checks", ",".join(sorted(checks))]))

    print(f"frontrun {getattr(frontrun, '__version__', '?')}; Python {sys.version.split()[0]}; "
          f"{len(units)} scenarios; frontrun cut at {args.peer_seconds:g} s per scenario")
    results: dict[tuple[str, str], tuple[str, bool | None, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        done_children: dict[tuple[str, str], str] = {}
        header = f"| scenario | expected | {' | '.join(TOOLS)} |"
        print("\n" + header + "\n|" + "---|" * (2 + len(TOOLS)))
        for unit, buggy, child_args in units:
            for tool in TOOLS:
                key = (tool, " ".join(child_args))
                out = Path(tmp, f"{tool}-{abs(hash(key[1]))}.jsonl")
                if key not in done_children:
                    done_children[key] = spawn(tool, [*child_args, "--peer-seconds",
                                                      str(args.peer_seconds)], out,
                                               args.child_seconds)
                rows = []
                if out.exists():
                    rows = [json.loads(line) for line in out.read_text().splitlines()]
                rows = [r for r in rows if r["unit"] == unit]
                if buggy:  # up to the first failure: what a grading would have run
                    first = next((i for i, r in enumerate(rows) if r["found"]), len(rows) - 1)
                    rows = rows[: first + 1]
                results[(unit, tool)] = cell(rows, buggy, done_children[key])
            cells = [results[(unit, tool)][0] for tool in TOOLS]
            print(f"| {unit} | {'bug' if buggy else 'correct'} | {' | '.join(cells)} |",
                  flush=True)

    print()
    for name in skipped:
        print(f"not compared: {name}")
    bugs = [u for u, b, _ in units if b]
    correct = [u for u, b, _ in units if not b]

    def median(values: list[float]) -> str:
        return f"{statistics.median(values):.3f} s" if values else "-"

    for tool in TOOLS:
        found = [u for u in bugs if results[(u, tool)][1] == "found"]
        times = [results[(u, tool)][2] for u in found]
        passes = [results[(u, tool)][2] for u in correct if results[(u, tool)][1] == "holds"]
        alarms = sum(results[(u, tool)][1] == "found" for u in correct)
        print(f"{tool}: found {len(found)}/{len(bugs)} bugs, median {median(times)} to the first "
              f"failure; correct: {len(passes)}/{len(correct)} passed (median {median(passes)}, "
              f"max {max(passes) if passes else float('nan'):.2f} s), {alarms} false alarms, "
              f"{len(correct) - len(passes) - alarms} without a verdict")
    ours = {u for u in bugs if results[(u, "grader")][1] == "found"}
    for tool in TOOLS[1:]:
        theirs = {u for u in bugs if results[(u, tool)][1] == "found"}
        print(f"found by {tool} and missed by grader: {sorted(theirs - ours) or 'none'}; "
              f"found by grader and missed by {tool}: {len(ours - theirs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
