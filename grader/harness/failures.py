"""How a check says why it failed: `CheckFailure`, with a failure kind hints key on.

A plain `assert` is kind "assertion"; the explorer raises its own failures
(kinds "invariant", "exception", "deadlock", "livelock"); anything else a check
author wants a hint for gets a `CheckFailure` with a kind of their choosing. Both are
`grader.protocol.ReportedFailure`s: each holds the whole `Failure` the harness reports.
"""

from __future__ import annotations

from typing import Any

from grader.protocol import BlockedThread, Failure, ProcessInfo, ReportedFailure, TraceStep

#: The evidence a check may attach, and the type each item of it is made into.
_EVIDENCE = {"processes": ProcessInfo, "trace": TraceStep, "deadlock": BlockedThread}


def _typed(kind: type, items: list[Any]) -> list[Any]:
    return [item if isinstance(item, kind) else kind(**item) for item in items]


class CheckFailure(ReportedFailure):
    """A check's requirement is not met, for a reason of kind `kind`.

    `extra` may carry structured evidence for the report, with the fields of
    `grader.protocol.Failure`: `processes` (ProcessInfo, or dicts of its fields, as
    `ProcessWatch` rows give them), `trace`, `deadlock`, `lines`, `details`.
    """

    def __init__(self, kind: str, message: str, **extra: Any) -> None:
        evidence = {name: _typed(_EVIDENCE[name], extra[name]) for name in _EVIDENCE
                    if extra.get(name)}
        super().__init__(Failure(kind=kind, message=message,
                                 lines=list(extra.get("lines") or []),
                                 details=extra.get("details"), **evidence))

    @property
    def kind(self) -> str:
        return self.failure.kind

    @property
    def message(self) -> str:
        return self.failure.message


def fail(kind: str, message: str, **extra: Any) -> None:
    """Fail the current check with a failure kind (shorthand for raising CheckFailure)."""
    raise CheckFailure(kind, message, **extra)
