"""Run one untrusted command in isolation: pick a backend, start, watch, tear down.

`choose()` returns the strongest backend this machine supports (bwrap, else process), both
with cgroup limits when a writable cgroup exists; `doctor()` says what works and why. The
interface (`Limits`, `SandboxRequest`, `RunResult`, `RunningChild`, `Backend`) is in `base`.
"""

from __future__ import annotations

from grader.sandbox.base import (
    CHANNEL_ENV,
    CHANNEL_FD,
    Backend,
    Limits,
    RunningChild,
    RunResult,
    SandboxError,
    SandboxRequest,
    SandboxUnavailable,
    Usage,
)
from grader.sandbox.bwrap import BwrapBackend
from grader.sandbox.process import MARKER_ENV, ProcessBackend, SupervisedChild, cgroup_support
from grader.sandbox.registry import BACKENDS, choose, doctor

__all__ = [
    "BACKENDS",
    "CHANNEL_ENV",
    "CHANNEL_FD",
    "MARKER_ENV",
    "Backend",
    "BwrapBackend",
    "Limits",
    "ProcessBackend",
    "RunResult",
    "RunningChild",
    "SandboxError",
    "SandboxRequest",
    "SandboxUnavailable",
    "SupervisedChild",
    "Usage",
    "cgroup_support",
    "choose",
    "doctor",
]
