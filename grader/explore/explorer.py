"""`explore`: run a scenario under many schedules until one fails, then explain it.

Owns the public API check authors call (`explore`, `Exploration`, `ExplorationFailure`), one run
of a scenario (`run_once`), the confirmation of a failing schedule by replay, its shrinking to
the fewest context switches, the printable replay id, and the learner-facing trace. Budgets
that decide verdicts are counts of runs and steps, never seconds; the only wall-clock limit
here turns a thread stuck in an unmodelled call into an infrastructure error.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader import channel, protocol
from grader.explore import carriers, fallback, messages, one_cpu, places, runtime
from grader.explore.messages import RunFailure
from grader.explore.places import short_path, source_line
from grader.explore.runtime import (
    Abort,
    Blocked,
    Scheduler,
    Strategy,
)
from grader.explore.strategies import Bounded, Node, Portfolio, Replay, Search, next_branch, pad
from grader.protocol import BlockedThread, Failure, ReportedFailure, TraceStep

STUCK_SECONDS = fallback.STUCK_SECONDS  # wall time without any scheduling point: lost control
TRACE_LIMIT = 40
SHRINK_BUDGET = 80
RANDOM_SEED = 20_101  # the global `random` state at the start of every run
RACE_RUNS = 12  # the first schedules also run the happens-before race detector (advice)
# The bounded search: every schedule with at most 1 preemption, then 2 (the bound its
# coverage is judged by), then 3 while the budget lasts; shallow bugs come first.
BOUNDS = (1, 2, 3)
BOUND = 2
BOUNDED_RUNS = 200  # schedules the bounded search may run before the portfolio's turn
# A run is retried fairly (round robin) once it has taken this many times the steps of one
# fair run of the scenario (at least FAIR_AFTER_MIN): a run that long is a busy wait or a
# livelock that a fair schedule ends, and spending `max_steps` unfair steps on each such run
# made one learner's livelocked buffer take minutes per check. The probe run is part of every
# exploration, replays included, so a replayed schedule goes fair at the same step.
FAIR_AFTER_FACTOR = 10
FAIR_AFTER_MIN = 1_000

# What each exploration since the last `take_explored()` covered: the harness sends it with
# the check's result, so reports can say how strong a pass is.
EXPLORED: list[dict[str, Any]] = []


def take_explored() -> list[dict[str, Any]]:
    """The coverage records of the explorations since the last call, and forget them."""
    out = list(EXPLORED)
    EXPLORED.clear()
    return out


class ExplorationFailure(ReportedFailure):
    """A schedule under which the scenario fails, confirmed by replay.

    Its trace and deadlock stay plain dicts while the explorer works on them (the pytest
    plugin prefixes `replay` with the scenario); `failure` is the typed record the harness
    reports.
    """

    def __init__(self, kind: str, message: str, *, trace: list[dict[str, Any]] | None = None,
                 deadlock: list[dict[str, Any]] | None = None, replay: str = "",
                 seed: int = 0, details: str = "") -> None:
        AssertionError.__init__(self, message)
        self.kind = kind
        self.message = message
        self.trace = trace or []
        self.deadlock = deadlock or []
        self.replay = replay
        self.seed = seed
        self.details = details

    def __str__(self) -> str:
        return self.message

    @property
    def failure(self) -> Failure:  # type: ignore[override]
        return Failure(kind=self.kind, message=self.message,
                       trace=[TraceStep(**step) for step in self.trace],
                       deadlock=[BlockedThread(**item) for item in self.deadlock],
                       replay=protocol.Replay(schedule=self.replay) if self.replay else None,
                       details=self.details or None)

    def timeline(self) -> str:
        """The trace as text, one step a line, '>' marking a context switch."""
        lines = []
        for step in self.trace:
            mark = ">" if step["switch"] else " "
            where = f"{step['file']}:{step['line']}" if step["file"] else ""
            lines.append(f"{mark}{step['thread']:<5} {where:<18} {step['operation']:<34} "
                         f"{step['source']}")
        return "\n".join(lines)


@dataclass
class Coverage:
    """What the bounded search covered: per preemption bound tried, schedules run and
    whether every schedule within the bound (up to the partial-order reduction) ran."""

    bounds: list[tuple[int, int, bool]] = field(default_factory=list)  # (bound, runs, done)
    seconds: float = 0.0
    # The last bound's search left no schedule out (no preemption it forbade, no forced or
    # unrepeatable choice): every schedule ran, whatever the bound.
    exhaustive: bool = False

    @property
    def schedules(self) -> int:
        return sum(runs for _, runs, _ in self.bounds)

    @property
    def complete(self) -> bool:
        """Every schedule with up to BOUND (2) preemptions ran."""
        return self.exhaustive or any(done and bound >= BOUND for bound, _, done in self.bounds)

    def text(self) -> str:
        if self.exhaustive:
            return f"every schedule: {self.schedules:,}, exhaustive"
        parts = []
        shown = [b for b in self.bounds if not (b[2] and any(
            done and other > b[0] for other, _, done in self.bounds))]  # the deepest done
        for bound, runs, done in shown:
            plural = "s" if bound != 1 else ""
            if done:
                parts.append(f"all schedules with up to {bound} preemption{plural}: {runs:,}, "
                             "complete")
            else:
                parts.append(f"schedules with up to {bound} preemption{plural}: bound not "
                             f"completed after {runs:,}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        complete = [b for b, _, done in self.bounds if done]
        return {"schedules": self.schedules, "complete": self.complete,
                "bound": max(complete) if complete else (self.bounds[0][0] if self.bounds
                                                         else 0),
                "bounds": [{"preemptions": b, "schedules": r, "complete": d}
                           for b, r, d in self.bounds],
                "exhaustive": self.exhaustive,
                "seconds": round(self.seconds, 3), "text": self.text()}


@dataclass
class Exploration:
    """What an exploration found. `runs` counts schedules explored, replays excluded."""

    ok: bool
    runs: int
    failure: ExplorationFailure | None = None
    steps: int = 0  # scheduling points over all runs
    seconds: float = 0.0  # informational only; never decides anything
    strategy: str = ""
    races: list[str] = field(default_factory=list)  # advice: unordered conflicting accesses
    coverage: Coverage | None = None  # the bounded search's part (None: it did not run)
    note: str = ""  # set when the explorer lost control and the verdict came from real threads

    def raise_if_failed(self) -> None:
        if self.failure is not None:
            raise self.failure


@dataclass
class ScheduleRun:
    """One schedule, run once: its failure (if any), the choices made and what each step did."""

    failure: RunFailure | None
    log: list[tuple[int, int]]
    steps: int
    choices: int
    records: list[tuple[int, Any, tuple[str, int] | None]]
    names: list[str]
    enabled_log: list[list[int]] | None = None
    races: list[str] = field(default_factory=list)
    footprints: list[dict[Any, bool]] = field(default_factory=list)
    bases: list[int] = field(default_factory=list)

    @property
    def deviations(self) -> dict[int, int]:
        return {i + 1: chosen for i, (chosen, default) in enumerate(self.log)
                if chosen != default}

    def signature(self) -> tuple[str, str] | None:
        if self.failure is None:
            return None
        return self.failure.kind, self.failure.exc_type


@dataclass
class _Scenario:
    setup: Callable[[], Any]
    threads: Sequence[Callable[[Any], Any]]
    invariant: Callable[[Any], Any] | None
    always: Callable[[Any], Any] | None
    max_steps: int
    snapshots: dict[int, Any] = field(default_factory=dict)
    name: str = "scenario"
    fair_after: int | None = None  # see FAIR_AFTER_FACTOR; None: after max_steps


def _scenario_main(sched: Scheduler, scenario: _Scenario, holder: dict[str, Any]) -> None:
    """The scenario's main thread: set up, start the threads, join them, check."""
    main = sched.threads[0]
    state = scenario.setup()
    holder["state"] = state
    if scenario.always is not None:
        always = scenario.always
        sched.always = lambda: always(state)
    started = []
    for i, body in enumerate(scenario.threads):
        sched.point(main, f"start T{i + 1}", keys=())  # starting a thread touches no state
        mt = sched.new_thread(f"T{i + 1}", daemon=False)
        if sched.hb is not None:
            sched.hb.fork(main, mt)
        started.append(mt)
        holder["os_threads"].append(carriers.start(
            sched.bootstrap, (mt, _bind(body, state)), f"grader-explore-T{i + 1}"))
    for mt in started:
        _join(sched, main, mt)
    sched.always = None
    # Like interpreter shutdown: wait for every non-daemon thread the learner started.
    for mt in list(sched.threads[1:]):
        if not mt.daemon:
            _join(sched, main, mt)
    if scenario.invariant is not None:
        try:
            result = scenario.invariant(state)
        except AssertionError as exc:
            text = _assertion_text(exc)
            sched.fail(RunFailure("invariant",
                                  f"After all threads finished, a check failed: {text}"))
            raise Abort from None
        if result is False:
            sched.fail(RunFailure("invariant", "After all threads finished, the invariant "
                                               "returned False."))
            raise Abort


def _assertion_text(exc: AssertionError) -> str:
    """The check author's message, without the `assert a == b` explanation pytest appends."""
    text = str(exc)
    cut = text.find("\nassert ")
    if cut >= 0:
        text = text[:cut]
    return text.strip() or "an assertion failed"


def _bind(body: Callable[[Any], Any], state: Any) -> Callable[[], Any]:
    return lambda: body(state)


def _join(sched: Scheduler, main: runtime.ManagedThread, mt: runtime.ManagedThread) -> None:
    if mt.state != runtime.DONE:
        sched.block(main, lambda: mt.state == runtime.DONE, None,
                    Blocked(f"join {mt.name}", internal=True))
    if sched.hb is not None:
        sched.hb.join(main, mt.vc)


def run_once(scenario: _Scenario, strategy: Strategy, *, record: bool = False,
             log_enabled: bool = False, detect_races: bool = False,
             footprints: bool = False, fair: bool = False) -> ScheduleRun:
    """Run the scenario once under `strategy` (round robin throughout when `fair`); every
    managed thread has ended on return."""
    sched = Scheduler(strategy, max_steps=scenario.max_steps, record=record, always=None,
                      snapshots=scenario.snapshots, log_enabled=log_enabled,
                      detect_races=detect_races, footprints=footprints,
                      fair_after=scenario.fair_after)
    sched.fair = fair
    holder: dict[str, Any] = {"os_threads": []}
    # The learner's `random` calls give the same numbers in every run, so a replay replays them.
    random.seed(RANDOM_SEED)
    main = sched.new_thread("main", daemon=False)
    holder["os_threads"].append(carriers.start(
        sched.bootstrap, (main, lambda: _scenario_main(sched, scenario, holder)),
        "grader-explore-main"))
    sched.current = main
    main.baton.release()
    watchdog = fallback.Watchdog(sched)
    while not sched.finished.acquire(timeout=0.5):
        try:
            watchdog.check()  # a thread blocked outside the model: fallback.LostControl
        except fallback.LostControl:
            fallback.wait_for_unwinding(holder["os_threads"])
            raise
    # Every carrier's job has ended: wait for each to be free for the next run.
    for t in holder["os_threads"]:
        t.join(5.0)
    if sched.footprint is not None and sched.choices:
        sched.footprints.append(sched.footprint)
    channel.progress()  # a schedule ran to its end: the check is not stuck
    races = list(sched.hb.races.values()) if sched.hb is not None else []
    return ScheduleRun(sched.failure, sched.log, sched.steps, sched.choices, sched.records,
                     [t.name for t in sched.threads], sched.enabled_log,
                     races, sched.footprints, sched.bases)


# -- replay ids ------------------------------------------------------------------------------

def replay_id(deviations: dict[int, int]) -> str:
    """A printable schedule id: 's' then choice.thread pairs, e.g. 's3.2-17.1'."""
    return "s" + "-".join(f"{c}.{t}" for c, t in sorted(deviations.items()))


def parse_replay(text: str) -> dict[int, int]:
    text = text.strip().rpartition("@")[2]  # "2@s4.2": the scenario number is the fixture's
    if not text.startswith("s"):
        raise ValueError(f"not a schedule id: {text!r}")
    out: dict[int, int] = {}
    body = text[1:]
    if body:
        for part in body.split("-"):
            c, t = part.split(".")
            out[int(c)] = int(t)
    return out


# -- the exploration -------------------------------------------------------------------------

def explore(setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]], *,
            invariant: Callable[[Any], Any] | None = None,
            always: Callable[[Any], Any] | None = None, seed: int = 0, runs: int = 300,
            strategy: str = "portfolio", max_steps: int = 20_000, replay: str | None = None,
            name: str = "scenario", systematic: bool = True) -> Exploration:
    """Explore the interleavings of `threads` (each called with `setup()`'s state).

    Stops at the first failing schedule, confirms it by replay, shrinks it to the fewest
    context switches and returns it in `Exploration.failure`. The same arguments give the same
    verdict on any machine. The default portfolio starts with the bounded search, which does
    not depend on the seed (`systematic=False` skips it, for tests that vary only the seed).
    """
    if not threads:
        raise ValueError("explore needs at least one thread body")
    if runtime.MANAGED and runtime.current() is not None:
        raise RuntimeError("explore cannot be nested inside an exploration")
    scenario = _Scenario(setup, list(threads), invariant, always, max_steps, name=name)
    random_state = random.getstate()
    try:
        with one_cpu.pinned():  # the threads take turns: on one CPU a hand-off is cheaper
            outcome = _explore(scenario, seed=seed, runs=runs, strategy=strategy,
                               replay=replay, systematic=systematic)
        if outcome.coverage is not None:
            EXPLORED.append({"scenario": name, **outcome.coverage.to_dict()})
        return outcome
    except fallback.LostControl as lost:
        return _on_real_threads(scenario, lost, seed=seed)
    finally:
        random.setstate(random_state)
        # Primitives made before the exploration (module-level ones) leave it as they entered.
        for obj, snapshot in scenario.snapshots.values():
            obj._restore(snapshot)
            obj._run = None


def _size_fair_retry(scenario: _Scenario) -> None:
    """Set when runs are retried fairly, from the length of one fair run."""
    probe = run_once(scenario, Replay({}), fair=True)
    if probe.steps <= scenario.max_steps:  # a fair schedule ends it
        scenario.fair_after = max(FAIR_AFTER_MIN, FAIR_AFTER_FACTOR * probe.steps)


def _explore(scenario: _Scenario, *, seed: int, runs: int, strategy: str,
             replay: str | None, systematic: bool = True) -> Exploration:
    started = time.perf_counter()
    total_steps = 0
    _size_fair_retry(scenario)
    if replay is not None:
        result = run_once(scenario, Replay(parse_replay(replay)))
        total_steps += result.steps
        if result.failure is None:
            return Exploration(True, 1, None, total_steps, time.perf_counter() - started, "replay")
        failure = _confirm_and_explain(scenario, result, seed=seed, label="replay",
                                       run_number=1, runs=1, shrink=False)
        return Exploration(False, 1, failure, total_steps, time.perf_counter() - started,
                       "replay")
    if strategy == "exhaustive":
        return _bounded_phase(scenario, seed=seed, budget=runs, started=started,
                              bounds=BOUNDS[:BOUNDS.index(BOUND) + 1])
    if strategy == "portfolio" and systematic:
        found = _bounded_phase(scenario, seed=seed, budget=BOUNDED_RUNS, started=started,
                               bounds=BOUNDS)
        if found.failure is not None:
            return found
        coverage = found.coverage
        total_steps = found.steps
        # The bounded search took the shallow bugs: the portfolio shares the budget with it.
        # An exhaustive search still leaves the portfolio its share: footprints do not see an
        # access through a local alias, and the random runs cover for that.
        runs = max(runs - found.runs, runs // 2)
    else:
        coverage = None
    plan = Portfolio(strategy, seed=seed, runs=runs, threads=len(scenario.threads))
    done = 0
    races: dict[str, None] = {}
    for strat in plan:
        result = run_once(scenario, strat, detect_races=done < RACE_RUNS)
        races.update(dict.fromkeys(result.races))
        done += 1
        total_steps += result.steps
        plan.learn(result.choices)
        if result.failure is not None:
            failure = _confirm_and_explain(scenario, result, seed=seed, label=strat.name,
                                           run_number=done, runs=runs, shrink=True,
                                           coverage=coverage)
            return Exploration(False, done, failure, total_steps, time.perf_counter() - started,
                           strat.name, list(races), coverage)
    return Exploration(True, done, None, total_steps, time.perf_counter() - started, strategy,
                   list(races), coverage)


def _on_real_threads(scenario: _Scenario, lost: fallback.LostControl, *, seed: int
                     ) -> Exploration:
    """The verdict when control was lost: a bounded stress run on real threads."""
    started = time.perf_counter()
    verdict = fallback.stress_on_real_threads(scenario.setup, scenario.threads,
                                              scenario.invariant)
    note = fallback.explanation(lost, verdict)
    if scenario.always is not None:
        note += " The property that must hold at every moment was not checked there."
    seconds = time.perf_counter() - started
    if verdict.kind is None:
        return Exploration(True, verdict.runs, None, 0, seconds, "real threads", note=note)
    details = f"Scenario {scenario.name!r}: {note}"
    if verdict.details:
        details += "\n" + verdict.details
    failure = ExplorationFailure(verdict.kind, verdict.message, seed=seed, details=details)
    return Exploration(False, verdict.runs, failure, 0, seconds, "real threads", note=note)


def _bounded_phase(scenario: _Scenario, *, seed: int, budget: int, started: float,
                   bounds: Sequence[int]) -> Exploration:
    """The systematic part: every schedule with at most `bounds[0]` preemptions (then the
    next bound, while the budget lasts), steps on different objects not permuted (sleep
    sets). A timeout that fires early counts as a preemption. Deterministic: no seed."""
    coverage = Coverage()
    steps = 0
    spent = 0
    for bound in bounds:
        search = Search()
        runs, done, used, result = _bounded_search(scenario, bound, budget - spent, search)
        spent += runs
        steps += used
        coverage.bounds.append((bound, runs, done))
        coverage.exhaustive = done and not search.cut
        coverage.seconds = time.perf_counter() - started
        if result is not None:
            failure = _confirm_and_explain(
                scenario, result, seed=seed,
                label=f"the bounded search (up to {bound} preemption{'s' if bound != 1 else ''})",
                run_number=runs,
                runs=budget, shrink=True, coverage=coverage)
            return Exploration(False, spent, failure, steps, time.perf_counter() - started,
                           "bounded", [], coverage)
        if not done or spent >= budget or coverage.exhaustive:
            break
    return Exploration(True, spent, None, steps, time.perf_counter() - started, "bounded", [],
                   coverage)


def _bounded_search(scenario: _Scenario, bound: int, budget: int, search: Search
                    ) -> tuple[int, bool, int, ScheduleRun | None]:
    """Depth-first search over schedules: (runs, complete, steps, the failing run).
    `search.cut` ends False when the bound left no schedule out: the search was exhaustive."""
    path: list[Node] = []
    runs = 0
    steps = 0
    reduce = scenario.always is None
    while runs < budget:
        strategy = Bounded(path, bound, reduce)
        result = run_once(scenario, strategy, footprints=True)
        runs += 1
        steps += result.steps
        if strategy.diverged:
            search.cut = True
        if result.failure is not None:
            return runs, False, steps, result
        pad(path, result.log, result.bases, result.footprints, len(result.log))
        for i, node in enumerate(path):
            if node.footprint is None and i < len(result.footprints):
                node.footprint = result.footprints[i]
        if not next_branch(path, bound, search):
            return runs, True, steps, None
    return runs, False, steps, None


def _replay(scenario: _Scenario, deviations: dict[int, int], *, record: bool = False
            ) -> ScheduleRun:
    return run_once(scenario, Replay(deviations), record=record)


def _confirm_and_explain(scenario: _Scenario, found: ScheduleRun, *, seed: int, label: str,
                         run_number: int, runs: int, shrink: bool,
                         coverage: Coverage | None = None) -> ExplorationFailure:
    deviations = found.deviations
    again = _replay(scenario, deviations)
    if again.signature() != found.signature() or again.log != found.log:
        return _not_reproduced(scenario, found, seed=seed, run_number=run_number)
    signature = found.signature()
    if shrink:
        deviations = _shrink(scenario, deviations, signature)
    final = _replay(scenario, deviations, record=True)
    if final.signature() != signature:
        return _not_reproduced(scenario, found, seed=seed, run_number=run_number)
    deviations = final.deviations
    assert final.failure is not None
    switches = sum(1 for c, d in final.log if c != d)
    rf = final.failure
    choices = (f"{switches} scheduling choice{'s differ' if switches != 1 else ' differs'} "
               "from letting the running thread go on.")
    if shrink and label.startswith("the bounded search"):
        details = (f"Scenario {scenario.name!r}: found by {label} on schedule {run_number} "
                   f"(under any seed); after shrinking, {choices}")
    elif shrink:
        before = (f" after the bounded search ({coverage.text()})" if coverage is not None
                  else "")
        details = (f"Scenario {scenario.name!r}: found by {label} on schedule {run_number} "
                   f"of {runs} (seed {seed}){before}; after shrinking, {choices}")
    else:
        details = (f"Scenario {scenario.name!r}, replayed schedule {replay_id(deviations)}: "
                   f"{choices}")
    if rf.details:
        details += "\n" + rf.details
    return ExplorationFailure(rf.kind, rf.message, trace=_trace(final), deadlock=rf.deadlock,
                              replay=replay_id(deviations), seed=seed, details=details)


def _not_reproduced(scenario: _Scenario, found: ScheduleRun, *, seed: int,
                    run_number: int) -> ExplorationFailure:
    """A failure the same schedule did not repeat (the program's own behaviour changed
    between two runs of one interleaving): it happened, so the check fails, without a
    timeline or replay id (replaying shows something else)."""
    rf = found.failure
    assert rf is not None
    details = messages.not_reproduced(scenario.name, run_number)
    return ExplorationFailure(rf.kind, rf.message, deadlock=rf.deadlock, seed=seed,
                              details=details + ("\n" + rf.details if rf.details else ""))


def _shrink(scenario: _Scenario, deviations: dict[int, int],
            signature: tuple[str, str] | None) -> dict[int, int]:
    """Greedily drop deviations from the default policy while the failure persists."""
    budget = SHRINK_BUDGET
    improved = True
    while improved and budget > 0:
        improved = False
        ordered = sorted(deviations)
        # Single deviations first, then adjacent pairs (a switch away and the switch back).
        removals = [{c} for c in reversed(ordered)]
        removals += [{a, b} for a, b in zip(ordered, ordered[1:])]
        for removal in removals:
            if budget <= 0:
                break
            candidate = {c: t for c, t in deviations.items() if c not in removal}
            budget -= 1
            result = _replay(scenario, candidate)
            if result.signature() == signature and len(result.deviations) < len(deviations):
                deviations = result.deviations
                improved = True
                break
    return deviations


def _trace(result: ScheduleRun) -> list[dict[str, Any]]:
    """The learner-facing timeline: steps of the scenario's threads, switches marked."""
    steps: list[dict[str, Any]] = []
    previous_thread: str | None = None
    for index, site, where in result.records:
        thread = result.names[index] if 0 <= index < len(result.names) else "?"
        if isinstance(site, int):
            path, line, operation = places.SITES[site]
        else:
            operation = str(site)
            path, line = where or ("", 0)
        if thread == "main" and (not steps or path not in places.LEARNER_FILES):
            continue  # the scenario's set-up and its own steps (start T1, join ...)
        step = {"thread": thread, "file": short_path(path), "line": line,
                "source": source_line(path, line), "operation": operation,
                "switch": previous_thread is not None and thread != previous_thread}
        previous_thread = thread
        if steps and _same(steps[-1], step):
            continue
        steps.append(step)
    if len(steps) > TRACE_LIMIT:
        head, tail = steps[:5], steps[-(TRACE_LIMIT - 6):]
        gap = len(steps) - len(head) - len(tail)
        steps = head + [{"thread": "", "file": "", "line": 0, "source": "",
                         "operation": f"... {gap} steps omitted ...", "switch": False}] + tail
    return steps


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (not b["switch"] and a["thread"] == b["thread"] and a["file"] == b["file"]
            and a["line"] == b["line"] and a["operation"] == b["operation"])
