"""The result model: what grading one submission produced, as plain data.

Every layer that talks about outcomes speaks this model: `grading` builds it,
`report` renders it (text, JSON, HTML, JUnit, Gradescope), the batch store
saves it. It holds data only: no I/O, no rendering, no imports of other layers.
`to_dict` / `from_dict` give the stable JSON shape (the `--format json` output).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    """How one check ended."""

    PASSED = "passed"
    FAILED = "failed"  # the check's requirement is not met
    ERROR = "error"  # the learner's code crashed the check (exception, dead child)
    TIMEOUT = "timeout"  # the check ran past its time budget
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
class Failure:
    """Why a check did not pass, in terms a learner can act on."""

    kind: str  # failure kind: "assertion", "exception", "race", "deadlock", "timeout", ...
    message: str
    trace: list[TraceStep] = field(default_factory=list)
    deadlock: list[BlockedThread] = field(default_factory=list)
    processes: list[ProcessInfo] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)  # highlighted (file, line) pairs
    replay: str | None = None  # a command that replays exactly this failure
    details: str | None = None  # longer text (a traceback tail, pytest's assertion diff)


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    points: float
    max_points: float
    visible: bool = True
    message: str = ""
    hint: str | None = None
    failure: Failure | None = None
    duration_s: float = 0.0
    # The explorer's bounded search per scenario: {scenario, schedules, complete, bound,
    # seconds, text}, e.g. "all schedules with up to 2 preemptions: 1,412, complete".
    exploration: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Resources:
    """What the submission used, summed over every child the grading started."""

    cpu_s: float = 0.0
    peak_memory_bytes: int = 0
    processes_seen: int = 0
    wall_s: float = 0.0
    children_started: int = 0  # harness children (more than one means a check crashed one)


@dataclass
class SubmissionResult:
    exercise: str
    version: str
    title: str
    seed: int
    score: float
    max_score: float
    checks: list[CheckResult]
    resources: Resources = field(default_factory=Resources)
    submission: str = ""  # the path as given
    submission_hash: str = ""
    sandbox: str = ""  # the backend that ran it
    output: str = ""  # what the learner's code printed (truncated)
    output_truncated: bool = False
    source: dict[str, str] = field(default_factory=dict)  # learner file name -> text
    coverage: dict[str, list[int]] = field(default_factory=dict)  # file -> lines never executed
    replay: str = ""  # the command that regrades this submission with the same seed
    grader_version: str = ""
    # For the instructor: places where the source reaches into the interpreter it shares with
    # the checks (file, line, what, why). Advice, never a deduction.
    integrity: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.status is Status.PASSED for c in self.checks)

    def verdict(self) -> str:
        failed = [c for c in self.checks if c.status is not Status.PASSED]
        if not failed:
            return "All checks passed."
        first = next((c for c in failed if c.status is not Status.SKIPPED), failed[0])
        return f"{len(failed)} of {len(self.checks)} checks did not pass; first: {first.title}."

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for check in data["checks"]:
            check["status"] = Status(check["status"]).value
        data["passed"] = self.passed
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        data = dict(data)
        data.pop("passed", None)
        checks = []
        for raw in data.pop("checks"):
            raw = dict(raw)
            failure = raw.pop("failure", None)
            if failure is not None:
                failure = dict(failure)
                failure["trace"] = [TraceStep(**s) for s in failure.get("trace", [])]
                failure["deadlock"] = [BlockedThread(**b) for b in failure.get("deadlock", [])]
                failure["processes"] = [ProcessInfo(**p) for p in failure.get("processes", [])]
                failure = Failure(**failure)
            checks.append(CheckResult(status=Status(raw.pop("status")), failure=failure, **raw))
        resources = Resources(**data.pop("resources", {}))
        return cls(checks=checks, resources=resources, **data)
