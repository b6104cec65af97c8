"""The sandbox interface: run one untrusted command in isolation.

A backend starts a command in a fresh working folder under limits, gives the
caller the parent's end of a private results channel, and can kill the whole
process tree. It knows nothing about exercises, checks or pytest: `grading`
decides what to run and reads the channel; the sandbox only contains it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from grader.protocol import ENV_CHANNEL_FD

#: File descriptor number the child sees as its end of the results channel.
CHANNEL_FD = 3
#: Environment variable naming that descriptor inside the child.
CHANNEL_ENV = ENV_CHANNEL_FD


@dataclass(frozen=True)
class Limits:
    """Budgets for one sandboxed run. Every child process gets the rlimits."""

    cpu_seconds: float = 60.0  # per process CPU time (RLIMIT_CPU)
    wall_seconds: float = 120.0  # the whole run, wall clock, enforced by the parent
    memory_bytes: int = 2 << 30  # address space backstop / cgroup memory.max
    processes: int = 256  # processes and threads (RLIMIT_NPROC when not root, pids.max)
    open_files: int = 256  # RLIMIT_NOFILE
    output_bytes: int = 1 << 20  # cap on captured stdout and stderr, each; also RLIMIT_FSIZE floor
    file_bytes: int = 64 << 20  # largest file the child may write (RLIMIT_FSIZE)
    grace_seconds: float = 0.5  # after SIGTERM (wall clock or kill()), before SIGKILL
    address_space_bytes: int | None = None  # RLIMIT_AS backstop; None: derived (generous)

    def address_space(self) -> int:
        """The RLIMIT_AS backstop: generous, because thread stacks and malloc arenas are
        virtual memory (256 MiB of address space leaves room for about 6 threads); the
        cgroup memory limit, where available, is the real one."""
        if self.address_space_bytes is not None:
            return self.address_space_bytes
        return max(2 * self.memory_bytes, self.memory_bytes + (4 << 30))


@dataclass
class SandboxRequest:
    argv: list[str]
    workdir: Path  # fresh folder prepared by the caller; the only writable place
    env: dict[str, str]  # the complete environment the child sees (already scrubbed)
    limits: Limits = field(default_factory=Limits)
    readable: list[Path] = field(default_factory=list)  # extra paths the child must read
    label: str = "grader"  # marks the run's processes (for sweeps and diagnostics)
    run_dir: Path | None = None  # a fresh folder for stdout/stderr is made inside it (or in
    #                              the temp dir when None); outside workdir; RunResult.run_dir


@dataclass
class Usage:
    """Resource use of a finished run, over the whole process tree where the backend can."""

    cpu_user_s: float = 0.0
    cpu_system_s: float = 0.0
    peak_rss_bytes: int = 0
    processes_seen: int = 0
    wall_s: float = 0.0


@dataclass
class RunResult:
    exit_code: int | None  # None when killed by a signal
    signal: int | None  # the signal that ended the main process, if any
    killed: str | None  # why the parent killed it: "wall-clock", "caller", "memory", ... or None
    stdout_path: Path
    stderr_path: Path
    stdout_truncated: bool
    stderr_truncated: bool
    usage: Usage
    backend: str
    survivors_killed: int = 0  # processes still alive at teardown that the sweep killed
    run_dir: Path | None = None  # folder holding stdout/stderr; the caller removes it
    memory_limited: bool = False  # a cgroup memory limit was in force (else rlimits only)
    pids_limited: bool = False  # a cgroup pids limit (or RLIMIT_NPROC as non-root) was in force
    error: str | None = None  # the sandbox itself failed (infrastructure, not the submission)


class RunningChild(Protocol):
    """A started sandboxed run. Reading the channel is the caller's job."""

    channel_fd: int  # parent's read end of the results channel (non-blocking)
    pid: int

    def poll(self) -> bool:
        """True once the main process has exited (the tree may still be alive)."""

    def kill(self, reason: str) -> None:
        """Kill the whole process tree now; `reason` is recorded in the result."""

    def wait(self) -> RunResult:
        """Wait for the end (enforcing the wall clock), tear down the tree, return the result."""

    def close(self) -> None:
        """Close the parent's end of the channel; call it after wait() and the last read."""


class Backend(Protocol):
    name: str

    def available(self) -> tuple[bool, str]:
        """Whether this backend works on this machine, and why (probed by doing)."""

    def start(self, request: SandboxRequest) -> RunningChild: ...


class SandboxUnavailable(RuntimeError):
    """A named backend (or feature) does not work on this machine; the message says why."""


class SandboxError(RuntimeError):
    """The sandbox could not start or supervise a run (an infrastructure fault, never a grade)."""
