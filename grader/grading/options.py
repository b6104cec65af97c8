"""What a grading is asked to do (`GradeOptions`), the machine share it may be given, and the
error that means a submission could not be graded at all.

Plain declarations shared by the grading modules; nothing here runs, reads or decides anything.
"""

from __future__ import annotations

from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
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

