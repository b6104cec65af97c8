"""What a grading is asked to do (`GradeOptions`), the machine share it may be given, the
error that means a submission could not be graded at all, and what a batch is asked to do
and did (`BatchOptions`, `BatchSummary`).

Plain declarations shared by the grading modules; nothing here runs, reads or decides anything.
"""

from __future__ import annotations

from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class GradingError(Exception):
    """The submission could not be graded at all (an infrastructure fault, not the learner's)."""


class MachineShare(Protocol):
    """Shares the machine between concurrent gradings (a readers-writer lock)."""

    def shared(self) -> ContextManager[None]: ...

    def exclusive(self) -> ContextManager[None]: ...


@dataclass
class GradeOptions:
    seed: int | None = None  # None: derived from the submission's content and exercise version
    sandbox: str | None = None  # backend name; None = the strongest available
    only: list[str] | None = None  # check ids to run (their needs run too)
    replay: str | None = None  # an explorer schedule id to replay
    machine: MachineShare | None = None
    coverage: bool = False  # record which learner lines no check executed
    exercise_ref: str | None = None  # how the user named the exercise (for replay commands)
    extra_env: dict[str, str] = field(default_factory=dict)
    # thread exercises' children forked by a warm harness that stays up between gradings
    # (grader.sandbox.warm; bwrap only): for batch, validate and Dask, which grade many
    warm: bool = False
    # children that run the ordinary (not `exclusive`) checks side by side, each with its own
    # copy of the submission; None: one per core, up to 2, unless `machine` or `warm` is set
    # (then 1). GRADER_LANES overrides it. The grade does not depend on it.
    lanes: int | None = None


@dataclass
class BatchOptions:
    out: Path
    roster: Path | None = None
    regrade: bool = False
    jobs: int | None = None  # local backend only
    sandbox: str | None = None
    learner_view: bool = True  # student reports as learners may see them (hidden checks masked)
    exercise_ref: str | None = None  # how the user named the exercise, for replay commands
    # replay commands name submissions relative to this folder (default: the class folder)
    class_folder: Path | None = None


@dataclass
class BatchSummary:
    """What a batch did; `exit_code` is 0 when every submission has a grade."""

    total: int = 0
    graded: int = 0  # graded by this run
    skipped: int = 0  # already in the database
    not_graded: list[tuple[str, str]] = field(default_factory=list)  # (student, why)
    missing: list[str] = field(default_factory=list)  # roster students without a submission
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False
    out: Path | None = None
    elapsed_s: float = 0.0
    grading_s: float = 0.0  # summed wall time of this run's gradings, as the backend measured

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.not_graded else 0
