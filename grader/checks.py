"""The check author's front door: everything an exercise's checks import, from one module.

    from grader.checks import CheckFailure, call_within, stress

Failing a check
    CheckFailure(kind, message, **evidence)  fail the check with a kind the hints can key on
    fail(kind, message, **evidence)      raise a CheckFailure (a function, for lambdas)

Values from learner code
    plain(value, type, what)             the learner's value as a plain builtin, or a failure
    sorted_if_comparable(items)          sorted when the items compare, else as they came

Calls that may never return (thread exercises)
    call_within(fn, seconds) -> Call     run fn in a daemon thread; wait at most `seconds`
    Call                                 how it ended: `.value_or_fail(what)`, or a "hang"
    thread_cpu_clock(thread)             a clock of a thread's CPU time, read from outside it
    cpu_seconds(clock)                   what that clock reads (None: no clock, or the thread ended)

The explorer (interleavings; the `explorer` fixture is the usual way in)
    explore(setup, threads, ...)         explore a scenario directly, outside the fixture
    ExplorationFailure                   the confirmed failure an exploration raises
    InfrastructureError                  the explorer itself broke (never the learner's fault)
    Explorer                             the type of the `explorer` fixture (for annotations)
    under_model                          decorator: run a one-thread check under the model
    call_alone(fn, *args)                one call under the model (a deadlock named, not hung)
    lock_operations()                    context manager: which locks the code took, and where

Real threads (a second opinion, never the only one)
    stress(setup, threads, ...) -> StressOutcome   run a scenario on real threads, count failures
    StressOutcome                        runs, failures, the first failure (text, exception)

Processes and workers (process exercises; see docs/process-tools.md)
    ProcessWatch                         the processes a call made; `.require_no_leftovers(when)`
    call_with_deadline(fn, ..., deadline_s=)  call in the main thread, bounded; raises Overran
    Overran                              the call outlived its deadline (carries the watch)
    kill_created(watch)                  SIGKILL (and reap) every process the watch saw made
    slow_start(seconds)                  context manager: processes started inside start `seconds` late
    deadline(floor_s, units)             a time limit grown from measured work on this machine
    short_timeout(floor_s, units)        the same, for a learner-facing `timeout=` argument
    tasks                                module: picklable work for pipelines and pools
    faults                               module: picklable tasks that kill a worker every way
    launch(dir, entry, ...) -> ServerHandle   start a learner's server in a child
    ServerHandle, ServerDied             the running server; it exited when it must not have
    SERVE_RETURNED                       the exit code of a server whose serve() returned
    KVClient, ServerClosed, ServerSilent  a kvserver client; the server hung up; it said nothing
    idle_clients, run_clients            many clients at once: idle ones, or running a session
    connect(path), ChunkingProxy         a raw socket to the server; a proxy that re-chunks bytes
    entry_name()                         the learner's entry module name (GRADER_ENTRY)

Fixtures are pytest plugins, not imports: name them as a check's arguments.
    submission, submission_path, submission_dir, seed, rng, check_seconds
                                         grader.harness.fixtures
    explorer                             grader.explore.pytest_plugin (`.check(...)`, `.run(...)`)

Only the harness names are imported with this module; the others load when first asked for,
so a check loads what it uses and nothing more (no psutil in a thread exercise).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from grader.harness import (
    Call,
    CheckFailure,
    call_within,
    cpu_seconds,
    fail,
    plain,
    sorted_if_comparable,
    thread_cpu_clock,
)
from grader.harness.fixtures import entry_name

if TYPE_CHECKING:
    from grader.explore import ExplorationFailure, InfrastructureError, explore
    from grader.explore.alone import call_alone, under_model
    from grader.explore.oplog import lock_operations
    from grader.explore.pytest_plugin import Explorer
    from grader.explore.stress import StressOutcome, stress
    from grader.processes import faults, tasks
    from grader.processes.bounded import Overran, call_with_deadline, kill_created, slow_start
    from grader.processes.budget import deadline, short_timeout
    from grader.processes.chaos import (
        ChunkingProxy,
        KVClient,
        ServerClosed,
        ServerSilent,
        connect,
        idle_clients,
        run_clients,
    )
    from grader.processes.inspector import ProcessWatch
    from grader.processes.server_launch import SERVE_RETURNED, ServerDied, ServerHandle, launch

# name -> (module, attribute); attribute None means the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "explore": ("grader.explore", "explore"),
    "ExplorationFailure": ("grader.explore", "ExplorationFailure"),
    "InfrastructureError": ("grader.explore", "InfrastructureError"),
    "Explorer": ("grader.explore.pytest_plugin", "Explorer"),
    "under_model": ("grader.explore.alone", "under_model"),
    "call_alone": ("grader.explore.alone", "call_alone"),
    "lock_operations": ("grader.explore.oplog", "lock_operations"),
    "stress": ("grader.explore.stress", "stress"),
    "StressOutcome": ("grader.explore.stress", "StressOutcome"),
    "ProcessWatch": ("grader.processes.inspector", "ProcessWatch"),
    "Overran": ("grader.processes.bounded", "Overran"),
    "call_with_deadline": ("grader.processes.bounded", "call_with_deadline"),
    "kill_created": ("grader.processes.bounded", "kill_created"),
    "slow_start": ("grader.processes.bounded", "slow_start"),
    "deadline": ("grader.processes.budget", "deadline"),
    "short_timeout": ("grader.processes.budget", "short_timeout"),
    "tasks": ("grader.processes.tasks", None),
    "faults": ("grader.processes.faults", None),
    "launch": ("grader.processes.server_launch", "launch"),
    "ServerHandle": ("grader.processes.server_launch", "ServerHandle"),
    "ServerDied": ("grader.processes.server_launch", "ServerDied"),
    "SERVE_RETURNED": ("grader.processes.server_launch", "SERVE_RETURNED"),
    "KVClient": ("grader.processes.chaos", "KVClient"),
    "ChunkingProxy": ("grader.processes.chaos", "ChunkingProxy"),
    "connect": ("grader.processes.chaos", "connect"),
    "ServerClosed": ("grader.processes.chaos", "ServerClosed"),
    "ServerSilent": ("grader.processes.chaos", "ServerSilent"),
    "idle_clients": ("grader.processes.chaos", "idle_clients"),
    "run_clients": ("grader.processes.chaos", "run_clients"),
}

__all__ = [
    "Call", "CheckFailure", "ChunkingProxy", "ExplorationFailure", "Explorer",
    "InfrastructureError", "KVClient", "Overran", "ProcessWatch", "SERVE_RETURNED",
    "ServerClosed", "ServerDied", "ServerHandle", "ServerSilent", "StressOutcome", "call_alone",
    "call_with_deadline", "call_within", "cpu_seconds",
    "connect", "deadline", "entry_name", "explore", "fail", "faults", "idle_clients",
    "kill_created", "launch", "lock_operations", "plain", "run_clients", "short_timeout",
    "slow_start", "sorted_if_comparable", "stress", "tasks", "thread_cpu_clock", "under_model",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    loaded = importlib.import_module(module)
    value = loaded if attribute is None else getattr(loaded, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
