"""Which backends exist, which one to use, and what this machine supports (for `doctor`)."""

from __future__ import annotations

import os
import sys

from grader.sandbox.base import Backend, SandboxUnavailable
from grader.sandbox.bwrap import BwrapBackend
from grader.sandbox.process import ProcessBackend, cgroup_support

#: Backends by name, strongest first.
BACKENDS: dict[str, type[ProcessBackend]] = {"bwrap": BwrapBackend, "process": ProcessBackend}


def choose(name: str | None = None) -> Backend:
    """The named backend, or the strongest available one.

    Raises SandboxUnavailable (one sentence: which backend, and why not) when the named
    backend does not work here or the name is unknown."""
    if name is not None:
        cls = BACKENDS.get(name)
        if cls is None:
            known = ", ".join(BACKENDS)
            raise SandboxUnavailable(f"unknown sandbox {name!r}: choose one of {known}")
        backend = cls()
        ok, why = backend.available()
        if not ok:
            raise SandboxUnavailable(f"sandbox {name!r} is not available here: {why}")
        return backend
    reasons = []
    for cls in BACKENDS.values():
        backend = cls()
        ok, why = backend.available()
        if ok:
            return backend
        reasons.append(f"{cls.name}: {why}")
    raise SandboxUnavailable("no sandbox works here (" + "; ".join(reasons) + ")")


def doctor() -> list[dict]:
    """One row per backend and feature: {name, kind, available, why}."""
    rows = []
    for cls in BACKENDS.values():
        ok, why = cls().available()
        rows.append({"name": cls.name, "kind": "backend", "available": ok, "why": why})
    for feature, (ok, why) in cgroup_support().items():
        rows.append({"name": feature, "kind": "feature", "available": ok, "why": why})
    root = os.geteuid() == 0
    rows.append({
        "name": "rlimit-nproc", "kind": "feature", "available": not root,
        "why": "root ignores RLIMIT_NPROC (the pids cgroup limits processes instead)" if root
        else "RLIMIT_NPROC counts every process of this user id, so it is shared across runs",
    })
    linux = sys.platform.startswith("linux")
    rows.append({
        "name": "subreaper", "kind": "feature", "available": linux,
        "why": "the supervisor adopts double-forked escapees (PR_SET_CHILD_SUBREAPER)" if linux
        else "needs Linux",
    })
    return rows
