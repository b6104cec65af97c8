"""How a check says why it failed: `CheckFailure`, with a failure kind hints key on.

A plain `assert` is kind "assertion"; the explorer raises its own failures
(kinds "invariant", "exception", "deadlock", "livelock"); anything else a check
author wants a hint for gets a `CheckFailure` with a kind of their choosing.
"""

from __future__ import annotations

from typing import Any


class CheckFailure(AssertionError):
    """A check's requirement is not met, for a reason of kind `kind`.

    `extra` may carry structured evidence for the report, with the keys of
    `grader.results.Failure`: `processes` (a list of ProcessInfo dicts),
    `trace`, `deadlock`, `lines`, `details`.
    """

    def __init__(self, kind: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.extra = extra

    def to_report(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, **self.extra}


def fail(kind: str, message: str, **extra: Any) -> None:
    """Fail the current check with a failure kind (shorthand for raising CheckFailure)."""
    raise CheckFailure(kind, message, **extra)
