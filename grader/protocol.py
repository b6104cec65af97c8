"""The contract between the submission's child and the grader: the one module both sides import.

The child (`grader.harness`, the explorer, the process tools) runs the learner's code and
describes what each check did; the grader (`grader.grading`) reads that description and never
trusts it. Everything the two sides must agree on is defined here, once:

- the environment the child is started with (`ENV_*`) and the harness command line
  (`harness_argv`, the flags `main` parses);
- the built-in check ids and how a check id names its function (`check_function`);
- the result types a failure is made of (`Failure`, `TraceStep`, `BlockedThread`,
  `ProcessInfo`, `Replay`) and the status of a check (`Status`);
- the records sent over the results channel, in order: `Hello`, then for each check
  `CheckStarted`, any number of `Progress`, `CheckEnded`; then `Coverage` (when asked) and
  `Done`; `InternalError` at any point when the grader's own code failed;
- `encode`, which the child uses to turn a record into one line, and `decode`, which the
  parent uses to turn one parsed line back into a record. `decode` is where the parent says it
  trusts nothing: it checks every field's type, cuts every text to its limit, bounds every
  list, and raises `ProtocolError` for anything that is not a record.

Standard library only, and no import of any other part of `grader`: the child imports this
before the learner's code runs, and the grader side may not depend on the child's modules.
The framing (one JSON object per line, bounded) is `grader.channel`'s.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# -- the child's environment ----------------------------------------------------------------

#: The file descriptor of the results channel (the child writes records to it).
ENV_CHANNEL_FD = "GRADER_CHANNEL_FD"
#: A secret the parent draws for each child: the harness takes it out of the environment
#: before any learner code runs and puts it in every record it sends, and the parent refuses a
#: record without it, so bytes a submission writes to the channel blindly are never a result.
ENV_CHANNEL_KEY = "GRADER_CHANNEL_KEY"
#: The folder holding the learner's entry module (the child's working directory too).
ENV_SUBMISSION_DIR = "GRADER_SUBMISSION_DIR"
#: The entry module's name (`counter` for counter.py).
ENV_ENTRY = "GRADER_ENTRY"
#: The grading run's seed: every random choice of a check derives from it.
ENV_SEED = "GRADER_SEED"
#: One check's time budget in seconds (checks size their waits by it).
ENV_CHECK_SECONDS = "GRADER_CHECK_SECONDS"
#: "1" when the exercise's module is instrumented for the interleaving explorer.
ENV_INSTRUMENT = "GRADER_INSTRUMENT"
#: An explorer schedule id: only that schedule runs (`grader check --replay`).
ENV_REPLAY = "GRADER_REPLAY"
#: Test seam: force multiprocessing's start method in the child ("spawn", "forkserver").
ENV_MP_START = "GRADER_MP_START"
#: Test seam: pretend to be another operating system ("macos", "windows").
ENV_PRETEND_OS = "GRADER_PRETEND_OS"
#: Benchmark seam: "0" leaves explorations free to move between CPUs (grader.explore.one_cpu).
ENV_EXPLORE_PIN = "GRADER_EXPLORE_PIN"
#: The seams that reach the child from the grader's own environment when they are set.
CHILD_SEAMS = (ENV_MP_START, ENV_PRETEND_OS, ENV_EXPLORE_PIN)

# -- the harness command line ---------------------------------------------------------------

#: The module the child runs (`python -m grader.harness CHECKS_DIR --only ID,ID ...`).
HARNESS_MODULE = "grader.harness"
#: The explorer's pytest plugin, loaded for instrumented exercises.
EXPLORER_PLUGIN = "grader.explore.pytest_plugin"


def harness_argv(python: str, checks_dir: str, checks: list[str], *, plugins: list[str] = (),
                 coverage: bool = False) -> list[str]:
    """The command that starts the harness on `checks` (check ids, in the order wanted)."""
    argv = [python, "-s", "-m", HARNESS_MODULE, checks_dir, "--only", ",".join(checks)]
    for plugin in plugins:
        argv += ["--plugin", plugin]
    if coverage:
        argv.append("--coverage")
    return argv


def harness_args(argv: list[str]) -> list[str] | None:
    """The harness's own arguments in a command `harness_argv` wrote (None for any other)."""
    if len(argv) >= 5 and argv[1:4] == ["-s", "-m", HARNESS_MODULE]:
        return argv[4:]
    return None


# -- check ids ------------------------------------------------------------------------------

#: The built-in check that imports the learner's module (run by the harness itself).
IMPORTS = "imports"
#: The built-in check that reads the learner's source for forbidden modules (run by the grader).
ALLOWED_MODULES = "allowed-modules"


def check_function(check_id: str) -> str:
    """The name of the function that implements a check: `no-lost-updates` -> `test_no_lost_updates`."""
    return "test_" + check_id.replace("-", "_")


# -- result types ---------------------------------------------------------------------------


class Status(str, Enum):
    """How one check ended."""

    PASSED = "passed"
    FAILED = "failed"  # the check's requirement is not met
    ERROR = "error"  # the learner's code crashed the check (exception, dead child)
    TIMEOUT = "timeout"  # the check ran past its time budget (only the parent decides this)
    SKIPPED = "skipped"  # a check it needs did not pass


@dataclass
class TraceStep:
    """One step of an interleaving: thread `thread` ran `source` at file:line."""

    thread: str
    file: str
    line: int
    source: str
    operation: str  # "read self.value", "write self.value", "acquire Lock#1", "call", ...
    switch: bool = False  # True when this step began a context switch


@dataclass
class BlockedThread:
    """A thread caught in a deadlock: where it stands and what it waits for."""

    thread: str
    file: str
    line: int
    source: str
    waits_for: str  # "Lock#2", "Condition#1", "join Thread-2", ...
    held_by: str | None = None  # the thread holding what it waits for, when known


@dataclass
class ProcessInfo:
    """One process seen during a check (process exercises)."""

    pid: int
    parent: int | None
    name: str
    cpu_s: float = 0.0
    state: str = ""  # "exited", "zombie", "orphan", "running", ...
    note: str = ""


@dataclass
class Replay:
    """What reproduces a grading, or one failure of it, exactly: data, not a command.

    The child knows only the schedule; the grader adds the exercise (as the user named it),
    the submission, the seed and the sandbox. A command is made only where one is shown
    (`command()`); a batch that names submissions relative to its class folder changes
    `submission`, never the text of a command.
    """

    exercise: str = ""
    submission: str = ""
    seed: int | None = None
    sandbox: str | None = None
    check: str | None = None
    schedule: str | None = None  # an explorer schedule id, such as "s4.2-17.1"

    def command(self) -> str:
        """The shell command that replays it: `grader check EXERCISE FILE --seed N ...`."""
        parts = ["grader", "check", shlex.quote(self.exercise), shlex.quote(self.submission)]
        if self.seed is not None:
            parts += ["--seed", str(self.seed)]
        if self.sandbox:
            parts += ["--sandbox", self.sandbox]
        if self.check:
            parts += ["--check", self.check]
        if self.schedule:
            parts += ["--replay", shlex.quote(self.schedule)]
        return " ".join(parts)

    @classmethod
    def from_command(cls, text: str) -> Replay | None:
        """The data of a command `command()` made (a stored result); None for anything else."""
        try:
            words = shlex.split(text)
        except ValueError:
            return None
        if len(words) < 4 or words[:2] != ["grader", "check"]:
            return None
        replay = cls(exercise=words[2], submission=words[3])
        options = {"--seed": "seed", "--sandbox": "sandbox", "--check": "check",
                   "--replay": "schedule"}
        rest = words[4:]
        if len(rest) % 2:
            return None
        for flag, value in zip(rest[::2], rest[1::2]):
            if flag not in options:
                return None
            if flag == "--seed":
                if not value.isdigit():
                    return None
                replay.seed = int(value)
            else:
                setattr(replay, options[flag], value)
        return replay


@dataclass
class Failure:
    """Why a check did not pass, in terms a learner can act on."""

    kind: str  # failure kind: "assertion", "exception", "race", "deadlock", "timeout", ...
    message: str
    trace: list[TraceStep] = field(default_factory=list)
    deadlock: list[BlockedThread] = field(default_factory=list)
    processes: list[ProcessInfo] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)  # highlighted {file, line} pairs
    replay: Replay | None = None  # what replays exactly this failure
    details: str | None = None  # longer text (a traceback tail, pytest's assertion diff)


class ReportedFailure(AssertionError):
    """A check failed and says why with a whole `Failure` (trace, deadlock, processes...).

    The base of the harness's `CheckFailure` and the explorer's `ExplorationFailure`: the
    harness reports `failure` as it is; any other AssertionError is a plain assertion.
    """

    failure: Failure

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure

    def __str__(self) -> str:
        return self.failure.message


# -- records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    """The child is up and about to import the learner's module."""

    pid: int


@dataclass(frozen=True)
class CheckStarted:
    check: str


@dataclass(frozen=True)
class Progress:
    """The running check makes progress (the explorer ran a schedule): it is not stuck."""

    check: str


@dataclass
class CheckEnded:
    """One check's result as the child saw it (the parent alone decides timeouts)."""

    check: str
    status: Status
    failure: Failure | None = None
    duration_s: float = 0.0
    note: str = ""  # a passed check's remark (the explorer fell back to real threads)
    # the explorer's bounded search per scenario: {scenario, schedules, complete, bound,
    # seconds, text, bounds: [{preemptions, schedules, complete}]}
    exploration: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Coverage:
    """Per learner file: the lines that ran and the lines that are statements."""

    files: dict[str, dict[str, list[int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Done:
    """Every wanted check has been reported."""


@dataclass(frozen=True)
class InternalError:
    """The grader's own code failed in the child: a grading fault, never the learner's."""

    message: str


Record = Hello | CheckStarted | Progress | CheckEnded | Coverage | Done | InternalError

_EVENTS: dict[type, str] = {Hello: "hello", CheckStarted: "start", Progress: "progress",
                            CheckEnded: "result", Coverage: "coverage", Done: "done",
                            InternalError: "internal-error"}


class ProtocolError(Exception):
    """The other end sent something that is not a well-formed record."""


# -- encoding (the child) -------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Replay):
        return value.schedule  # the child knows only the schedule; the parent adds the rest
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def encode(record: Record, *, _dumps=json.dumps) -> bytes:
    """One record as one line of JSON (what `grader.channel.send` writes).

    `json.dumps` is bound when this module is imported (before any learner code runs), so a
    submission that patches it later does not reach the channel. Values JSON cannot hold
    (a learner's object in a message) are written as their `str`.
    """
    data = _plain(record)
    data["event"] = _EVENTS[type(record)]
    return (_dumps(data, separators=(",", ":"), default=str) + "\n").encode()


# -- decoding (the parent) ------------------------------------------------------------------

#: How much of each thing the parent keeps: a hostile child cannot make a report huge.
LIMITS = {"trace": 2000, "deadlock": 64, "processes": 256, "lines": 500, "exploration": 50,
          "message": 2000, "details": 8000, "note": 2000, "internal": 500}


def text(value: Any, limit: int = 4000) -> str:
    """`value` as text of at most `limit` characters ('' for None)."""
    shown = value if isinstance(value, str) else ("" if value is None else str(value))
    return shown if len(shown) <= limit else shown[: limit - 12] + " ... (cut)"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else 0.0


def _dicts(value: Any, limit: int) -> list[dict[str, Any]]:
    return [item for item in value[:limit] if isinstance(item, dict)] \
        if isinstance(value, list) else []


def _check_id(record: dict[str, Any]) -> str:
    check = record.get("check")
    if not isinstance(check, str) or not check or len(check) > 200:
        raise ProtocolError(f"a {record.get('event')!r} record names no check")
    return check


def decode_failure(raw: Any, fallback_kind: str, check: str | None = None) -> Failure:
    """The `Failure` a child described: every field checked, cut and bounded.

    A failure that is not an object at all is still a failure (of `fallback_kind`): the check
    did not pass, whatever the child could say about why.
    """
    if not isinstance(raw, dict):
        return Failure(kind=fallback_kind, message="the check failed")
    trace = [TraceStep(
        thread=text(step.get("thread"), 60), file=text(step.get("file"), 200),
        line=_int(step.get("line")), source=text(step.get("source"), 300),
        operation=text(step.get("operation"), 200), switch=bool(step.get("switch")),
    ) for step in _dicts(raw.get("trace") or [], LIMITS["trace"])]
    blocked = [BlockedThread(
        thread=text(item.get("thread"), 60), file=text(item.get("file"), 200),
        line=_int(item.get("line")), source=text(item.get("source"), 300),
        waits_for=text(item.get("waits_for"), 200),
        held_by=text(item["held_by"], 60) if item.get("held_by") else None,
    ) for item in _dicts(raw.get("deadlock") or [], LIMITS["deadlock"])]
    processes = [ProcessInfo(
        pid=_int(item.get("pid")),
        parent=_int(item.get("parent")) if item.get("parent") is not None else None,
        name=text(item.get("name"), 100), cpu_s=_number(item.get("cpu_s")),
        state=text(item.get("state"), 40), note=text(item.get("note"), 300),
    ) for item in _dicts(raw.get("processes") or [], LIMITS["processes"])]
    lines = [{"file": text(item.get("file"), 200), "line": _int(item.get("line"))}
             for item in _dicts(raw.get("lines") or [], LIMITS["lines"])]
    schedule = raw.get("replay")
    return Failure(
        kind=text(raw.get("kind") or fallback_kind, 40),
        message=text(raw.get("message"), LIMITS["message"]) or "the check failed",
        trace=trace, deadlock=blocked, processes=processes, lines=lines,
        replay=Replay(check=check, schedule=text(schedule, 400)) if schedule else None,
        details=text(raw["details"], LIMITS["details"]) if raw.get("details") else None,
    )


def _exploration(records: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for record in _dicts(records, LIMITS["exploration"]):
        schedules = record.get("schedules")
        out.append({
            "scenario": text(record.get("scenario"), 200),
            "schedules": schedules if isinstance(schedules, int) else 0,
            "complete": record.get("complete") is True,
            "exhaustive": record.get("exhaustive") is True,
            "bound": record.get("bound") if isinstance(record.get("bound"), int) else 0,
            "seconds": _number(record.get("seconds")),
            "text": text(record.get("text"), 300),
            "bounds": [{"preemptions": b.get("preemptions"), "schedules": b.get("schedules"),
                        "complete": b.get("complete") is True}
                       for b in _dicts(record.get("bounds") or [], 5)
                       if isinstance(b.get("preemptions"), int)
                       and isinstance(b.get("schedules"), int)],
        })
    return out


def _check_ended(record: dict[str, Any]) -> CheckEnded:
    check = _check_id(record)
    try:
        status = Status(record.get("status"))
    except ValueError:
        status = Status.ERROR  # a status the grader does not know is no pass
    if status is Status.TIMEOUT:
        status = Status.ERROR  # only the parent decides timeouts
    failure = None
    if status is not Status.PASSED:
        fallback = "assertion" if status is Status.FAILED else "exception"
        failure = decode_failure(record.get("failure"), fallback, check)
    return CheckEnded(
        check=check, status=status, failure=failure,
        duration_s=max(0.0, _number(record.get("duration_s"))),
        note=text(record.get("note"), LIMITS["note"]) if status is Status.PASSED else "",
        exploration=_exploration(record.get("exploration")),
    )


def _coverage(record: dict[str, Any]) -> Coverage:
    files: dict[str, dict[str, list[int]]] = {}
    raw = record.get("files")
    if isinstance(raw, dict):
        for name, data in raw.items():
            if not isinstance(name, str) or not isinstance(data, dict):
                continue
            files[name] = {key: [n for n in data.get(key) if isinstance(n, int)
                                 and not isinstance(n, bool)]
                           if isinstance(data.get(key), list) else []
                           for key in ("executed", "statements")}
    return Coverage(files=files)


def decode(record: Any) -> Record:
    """The record a child sent (one parsed JSON line); ProtocolError when it is none."""
    if not isinstance(record, dict):
        raise ProtocolError("a record is not a JSON object")
    event = record.get("event")
    if event == "hello":
        return Hello(pid=_int(record.get("pid")))
    if event == "start":
        return CheckStarted(check=_check_id(record))
    if event == "progress":
        return Progress(check=_check_id(record))
    if event == "result":
        return _check_ended(record)
    if event == "coverage":
        return _coverage(record)
    if event == "done":
        return Done()
    if event == "internal-error":
        return InternalError(message=text(record.get("message"), LIMITS["internal"]))
    raise ProtocolError(f"a record of an unknown kind ({text(event, 40)!r})")
