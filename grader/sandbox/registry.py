"""Which backends exist, which one to use, and what this machine supports (for `doctor`)."""

from __future__ import annotations

from grader import host
from grader.sandbox.base import Backend, SandboxUnavailable
from grader.sandbox.bwrap import BwrapBackend
from grader.sandbox.process import PortableBackend, ProcessBackend, cgroup_support

#: Backends by name, strongest first.
BACKENDS: dict[str, type[ProcessBackend]] = {
    "bwrap": BwrapBackend, "process": ProcessBackend, "portable": PortableBackend,
}

#: What each backend cannot keep a submission away from (doctor, reports, batch warnings).
CANNOT_CONTAIN: dict[str, str] = {
    "bwrap": "the kernel itself (no seccomp filter yet)",
    "process": "the file system, the network and the grader's processes (it runs as your "
               "user id)",
    "portable": "the file system, the network and the grader's processes (it runs as your "
                "user id); memory and process counts are bounded per process only, and a "
                "daemon that double-forks and drops its environment between two 50 ms scans "
                "can outlive the run",
}

#: Backends that keep a submission out of the rest of the file system.
FILE_SYSTEM_ISOLATED = frozenset({"bwrap"})


def stronger_hint() -> str:
    """How to get a backend that keeps submissions out of the file system, for this host."""
    system = host.system()
    if system == "linux":
        return ("install bubblewrap (apt-get install bubblewrap; on Ubuntu 24.04 also "
                "sysctl kernel.apparmor_restrict_unprivileged_userns=0) and check with "
                "grader doctor, or grade in the course's Docker image")
    if system == "windows":
        return host.WINDOWS_HINT
    return "grade in the course's Docker image or on Linux with bubblewrap"


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
    """One row per backend and feature: {name, kind, available, why, cannot_contain}."""
    rows = []
    for cls in BACKENDS.values():
        ok, why = cls().available()
        rows.append({"name": cls.name, "kind": "backend", "available": ok, "why": why,
                     "cannot_contain": CANNOT_CONTAIN.get(cls.name, "")})
    for feature, (ok, why) in cgroup_support().items():
        rows.append({"name": feature, "kind": "feature", "available": ok, "why": why})
    if host.has_posix_processes():
        root = host.is_root()
        rows.append({
            "name": "rlimit-nproc", "kind": "feature", "available": not root,
            "why": "root ignores RLIMIT_NPROC (the pids cgroup limits processes instead)"
            if root else
            "RLIMIT_NPROC counts every process of this user id, so it is shared across runs",
        })
    linux = host.has_prctl()
    rows.append({
        "name": "subreaper", "kind": "feature", "available": linux,
        "why": "the supervisor adopts double-forked escapees (PR_SET_CHILD_SUBREAPER)" if linux
        else "needs Linux (the portable backend polls the process tree instead)",
    })
    return rows
