"""The exercise model: what `exercise.yaml` may say, validated by pydantic.

The YAML is the single source of truth for what is graded. This module only
describes its shape; `loader` reads files and turns errors into `SpecError`s.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from grader.protocol import ALLOWED_MODULES, IMPORTS, check_function

CHECK_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"

#: Checks every exercise has, run by the grader itself (no test function needed); their ids
#: are part of the child/grader contract.
BUILTIN_CHECKS = {
    IMPORTS: "Your module imports without errors",
    ALLOWED_MODULES: "Your code uses only the modules this exercise allows",
}

#: Budget of the built-in import check unless the YAML sets one: importing a module is quick,
#: and a submission that hangs at import should not cost a whole check's budget.
IMPORT_SECONDS = 20.0

#: Failure kinds the grader itself produces; check code may add its own.
BUILTIN_KINDS = {
    "assertion",
    "exception",
    "timeout",
    "crash",
    "invariant",
    "deadlock",
    "livelock",
    "forbidden",
    "import-error",
    "missing-name",  # the module lacks a class, function or method the exercise asks for
    "output",
    "default",
    # raised by the checks' library (grader.checks) on a check's behalf
    "hang",  # a bounded call or a stress run did not return (harness.calls, explore.stress)
    "leftover",  # a call left a process behind (processes.inspector)
    "not-plain-data",  # a value is not the plain data asked for (harness.values)
    "skipped",  # a check skipped itself (the harness)
    "replay",  # a replayed schedule did not fail again (the explorer)
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitsSpec(_Strict):
    """Budgets of one exercise's grading."""

    check_seconds: float = Field(30.0, gt=0, le=3600, description="one check's wall-clock budget")
    submission_seconds: float = Field(
        300.0, gt=0, le=36000, description="the whole grading's wall-clock budget"
    )
    memory_mb: int = Field(2048, ge=64, le=65536, description="memory for the child, MiB")
    processes: int = Field(256, ge=1, le=4096, description="processes and threads")
    open_files: int = Field(256, ge=16, le=65536, description="open file descriptors")
    output_kb: int = Field(1024, ge=1, le=1 << 20, description="captured output per stream, KiB")


class CheckSpec(_Strict):
    """One graded check; its code is `test_<id with - as _>` in the exercise's checks."""

    id: str = Field(pattern=CHECK_ID, description="lower-case words joined by '-'")
    title: str = Field(min_length=1, description="what the check verifies, for learners")
    points: float = Field(1.0, ge=0, le=1000)
    visible: bool = Field(True, description="false: learners see only title and status")
    needs: list[str] = Field(default_factory=list, description="checks that must pass first")
    exclusive: bool = Field(
        False, description="measures speed or parallelism: needs the machine to itself"
    )
    seconds: float | None = Field(
        None, gt=0, le=3600, description="this check's wall-clock budget (default: limits)"
    )
    cost: float = Field(
        0.2, ge=0, le=3600,
        description="typical seconds on a correct solution: balances checks between the "
                    "children that run side by side (never a limit)",
    )
    hints: dict[str, str] = Field(
        default_factory=dict, description="hint per failure kind; 'default' for any other"
    )

    @property
    def function(self) -> str:
        return check_function(self.id)

    @property
    def builtin(self) -> bool:
        return self.id in BUILTIN_CHECKS

    def budget(self, limits: LimitsSpec) -> float:
        return self.seconds if self.seconds is not None else limits.check_seconds

    def hint_for(self, kind: str | None) -> str | None:
        if kind and kind in self.hints:
            return self.hints[kind]
        return self.hints.get("default")


class Exercise(_Strict):
    """A validated exercise. `folder` is where its files live."""

    id: str = Field(pattern=CHECK_ID)
    version: str = Field(min_length=1, description="bump when grading changes")
    title: str = Field(min_length=1)
    family: Literal["threads", "processes", "workers"]
    concepts: list[str] = Field(default_factory=list)
    entry: str = Field(description="the learner's module name, e.g. counter")
    statement: str = Field("statement.md", description="statement file, in the exercise folder")
    starter: str | None = Field(None, description="starter file; default starter/<entry>.py")
    instrument: bool = Field(
        False, description="instrument the learner's module for the interleaving explorer"
    )
    forbid: list[str] = Field(default_factory=list, description="modules or dotted names")
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    checks: list[CheckSpec] = Field(min_length=1)

    _folder: Path = PrivateAttr(default=Path("."))

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("entry")
    @classmethod
    def _entry_is_module_name(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"'{value}' is not a Python module name")
        return value

    @field_validator("forbid")
    @classmethod
    def _forbid_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
                raise ValueError(f"'{name}' is not a module or dotted name")
        return value

    @model_validator(mode="after")
    def _checks_consistent(self) -> Exercise:
        seen: set[str] = set()
        for check in self.checks:
            if check.id in seen:
                raise ValueError(f"check id '{check.id}' appears twice")
            seen.add(check.id)
        known = seen | set(BUILTIN_CHECKS)
        for check in self.checks:
            for need in check.needs:
                if need not in known:
                    raise ValueError(f"check '{check.id}' needs '{need}', which is not a check")
                if need == check.id:
                    raise ValueError(f"check '{check.id}' needs itself")
        _refuse_cycles(self.checks)
        return self

    # -- derived views -------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def starter_path(self) -> Path:
        return self._folder / (self.starter or f"starter/{self.entry}.py")

    @property
    def statement_path(self) -> Path:
        return self._folder / self.statement

    @property
    def checks_dir(self) -> Path:
        return self._folder / "checks"

    @property
    def all_checks(self) -> list[CheckSpec]:
        """The built-in checks first (as configured in the YAML, or with 0 points), then the rest."""
        listed = {c.id: c for c in self.checks}
        builtins = []
        for check_id, title in BUILTIN_CHECKS.items():
            if check_id == ALLOWED_MODULES and not self.forbid and check_id not in listed:
                continue
            seconds = min(IMPORT_SECONDS, self.limits.check_seconds) if check_id == IMPORTS else None
            builtins.append(listed.get(check_id)
                            or CheckSpec(id=check_id, title=title, points=0, seconds=seconds))
        return builtins + [c for c in self.checks if not c.builtin]

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.all_checks))

    def check(self, check_id: str) -> CheckSpec:
        for check in self.all_checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def needs_of(self, check: CheckSpec) -> list[str]:
        """Everything `check` waits for: its own needs plus the built-in gates."""
        if check.builtin:
            return list(check.needs)
        gates = [c.id for c in self.all_checks if c.builtin]
        return gates + [n for n in check.needs if n not in gates]


def _refuse_cycles(checks: list[CheckSpec]) -> None:
    graph = {c.id: list(c.needs) for c in checks}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = path[path.index(node) :] + [node]
            raise ValueError("checks need each other in a cycle: " + " -> ".join(cycle))
        state[node] = 1
        for nxt in graph.get(node, []):
            visit(nxt, path + [node])
        state[node] = 2

    for node in graph:
        visit(node, [])
