"""The result model: what grading one submission produced, as plain data.

Every layer that talks about outcomes speaks this model: `grading` builds it,
`report` renders it (text, JSON, HTML, JUnit, Gradescope), the batch store
saves it. It holds data only: no I/O, no rendering, no imports of other layers.
`to_dict` / `from_dict` give the stable JSON shape (the `--format json` output).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# The result types a check's failure is made of are the child/grader contract's: defined once
# in `grader.protocol`, spoken here by every layer that talks about outcomes.
from grader.protocol import BlockedThread, Failure, ProcessInfo, Replay, Status, TraceStep


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
    replay: Replay | None = None  # what regrades this submission with the same seed
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

    def name_submission(self, submission: str) -> None:
        """Name the submission `submission` (another path to the same files), in place: the
        result and every replay of it (a batch's class folder, a Dask worker's scratch copy)."""
        self.submission = submission
        for replay in [self.replay] + [c.failure.replay for c in self.checks if c.failure]:
            if replay is not None:
                replay.submission = submission

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape; a replay is shown there as the command that runs it."""
        data = dataclasses.asdict(self)
        data["replay"] = self.replay.command() if self.replay else ""
        for check, raw in zip(self.checks, data["checks"]):
            raw["status"] = Status(raw["status"]).value
            if raw["failure"] is not None:
                replay = check.failure.replay
                raw["failure"]["replay"] = replay.command() if replay else None
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
                failure["replay"] = _replay(failure.get("replay"))
                failure = Failure(**failure)
            checks.append(CheckResult(status=Status(raw.pop("status")), failure=failure, **raw))
        resources = Resources(**data.pop("resources", {}))
        replay = _replay(data.pop("replay", None))
        return cls(checks=checks, resources=resources, replay=replay, **data)


def _replay(command: Any) -> Replay | None:
    return Replay.from_command(command) if isinstance(command, str) and command else None


__all__ = ["BlockedThread", "CheckResult", "Failure", "ProcessInfo", "Replay", "Resources",
           "Status", "SubmissionResult", "TraceStep"]
