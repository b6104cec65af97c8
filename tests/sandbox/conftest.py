"""Fixtures for the sandbox conformance suite: every backend this machine supports.

Each test runs a hostile `python3 -c CODE` in the sandbox. `run()` returns the result, what
arrived on the results channel, and a survivor count taken after teardown (by the run's
marker, found in argv or environment of every process the run started).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from grader.sandbox import (
    MARKER_ENV,
    BwrapBackend,
    Limits,
    PortableBackend,
    ProcessBackend,
    RunResult,
    SandboxRequest,
    SupervisedChild,
    cgroup_support,
)

BACKEND_NAMES = ["process", "process-rlimits-only", "bwrap", "portable"]


def make_backend(name: str) -> ProcessBackend:
    if name == "process":
        return ProcessBackend()
    if name == "process-rlimits-only":
        return ProcessBackend(use_cgroups=False)
    if name == "portable":
        return PortableBackend()
    return BwrapBackend()


@dataclass
class Outcome:
    result: RunResult
    channel: bytes
    survivors: list[str]
    elapsed: float
    child: SupervisedChild

    @property
    def stdout(self) -> str:
        return self.result.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.result.stderr_path.read_text(errors="replace")


def read_channel(fd: int, limit: int = 1 << 20) -> bytes:
    data = b""
    while len(data) < limit:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    return data


def find_survivors(*marks: str) -> list[str]:
    """Live processes whose argv contains a mark, or whose marker env names this run."""
    found = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "status"]):
        if proc.pid == me or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            argv = " ".join(proc.cmdline())
            env = proc.environ().get(MARKER_ENV, "")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if any(m and (m in argv or m == env) for m in marks):
            found.append(f"{proc.pid} {argv[:120]}")
    return found


class Sandbox:
    """A backend plus a fresh working folder per test."""

    def __init__(self, name: str, tmp_path: Path) -> None:
        self.name = name
        self.backend = make_backend(name)
        self.tmp = tmp_path
        self.workdir = tmp_path / "work"
        self.workdir.mkdir()
        self.mark = f"hostile-{uuid.uuid4().hex}"

    @property
    def isolated(self) -> bool:
        """True where the backend gives a private filesystem, network and pid view."""
        return self.name == "bwrap"

    def pids_bounded(self, limits: Limits) -> bool:
        return (self.backend.use_cgroups and cgroup_support()["cgroup-pids"][0]) or os.geteuid() != 0

    def start(self, code: str, limits: Limits | None = None, env: dict | None = None,
              argv: list[str] | None = None, readable: list[Path] | None = None
              ) -> SupervisedChild:
        # The mark rides in argv (a comment in CODE) so forked children carry it too.
        code = f"# {self.mark}\n{code}"
        return self.backend.start(SandboxRequest(
            argv=argv or [sys.executable, "-I", "-c", code],
            workdir=self.workdir,
            env={"PATH": "/usr/bin:/bin", "MARK": self.mark, **(env or {})},
            limits=limits or Limits(wall_seconds=60, cpu_seconds=30),
            readable=readable or [],
            run_dir=self.tmp / "run",
            label="conformance",
        ))

    def run_until_ready_then_kill(self, code: str, limits: Limits | None = None) -> Outcome:
        """Start CODE, wait until it writes b"ready" on the channel, then kill() the run
        (unless it is already over).

        Deterministic on a loaded machine: the kill comes after the hostile part began,
        however slowly the interpreter started."""
        import select

        t0 = time.monotonic()
        child = self.start(code, limits or Limits(wall_seconds=30, grace_seconds=0.2))
        seen = b""
        while b"ready" not in seen and time.monotonic() - t0 < 20 and not child.poll():
            ready, _, _ = select.select([child.channel_fd], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(child.channel_fd, 4096)
                except BlockingIOError:
                    continue
                if not chunk:
                    break
                seen += chunk
        killed_at = time.monotonic()
        if not child.poll():  # the run may already be over (its supervisor killed, say)
            child.kill("per-check timeout")
        result = child.wait()
        elapsed = time.monotonic() - killed_at
        channel = seen + read_channel(child.channel_fd)
        child.close()
        return Outcome(result, channel, find_survivors(self.mark, child.marker), elapsed, child)

    def run(self, code: str, limits: Limits | None = None, **kw: object) -> Outcome:
        t0 = time.monotonic()
        child = self.start(code, limits, **kw)
        result = child.wait()
        elapsed = time.monotonic() - t0
        channel = read_channel(child.channel_fd)
        child.close()
        return Outcome(result, channel, find_survivors(self.mark, child.marker), elapsed, child)


def _sandbox(name: str, tmp_path: Path) -> Sandbox:
    backend = make_backend(name)
    ok, why = backend.available()
    if not ok:
        pytest.skip(f"{name} unavailable here: {why}")
    return Sandbox(name, tmp_path)


@pytest.fixture(params=["process", "bwrap", "portable"])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Sandbox:
    """Each backend as `choose()` would give it (cgroups on where writable)."""
    return _sandbox(request.param, tmp_path)


@pytest.fixture(params=BACKEND_NAMES)
def limited_sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Sandbox:
    """Also the process backend on rlimits alone (a laptop without writable cgroups): for
    the tests whose outcome depends on which layer enforces a limit."""
    return _sandbox(request.param, tmp_path)



@pytest.fixture
def portable_sandbox(tmp_path: Path) -> Sandbox:
    """The portable backend alone (for what only it does: polling the tree)."""
    return _sandbox("portable", tmp_path)
