"""Run one untrusted command in isolation: pick a backend, start, watch, tear down.

`choose()` returns the strongest backend this machine supports (bwrap, else process, both
with cgroup limits when a writable cgroup exists, else portable: any POSIX system, macOS first); `doctor()` says what works and why. The
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
from grader.sandbox.process import (
    MARKER_ENV,
    PortableBackend,
    ProcessBackend,
    SupervisedChild,
    cgroup_support,
)
from grader.sandbox.registry import (
    BACKENDS,
    CANNOT_CONTAIN,
    FILE_SYSTEM_ISOLATED,
    choose,
    doctor,
    stronger_hint,
)

__all__ = [
    "BACKENDS",
    "CANNOT_CONTAIN",
    "FILE_SYSTEM_ISOLATED",
    "CHANNEL_ENV",
    "CHANNEL_FD",
    "MARKER_ENV",
    "Backend",
    "BwrapBackend",
    "Limits",
    "PortableBackend",
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
    "stronger_hint",
]
