"""What this host offers: prctl, /proc, cgroups, bubblewrap, the POSIX modules.

The one place that answers "does this machine have X" for both sides: the sandbox and
`grader doctor` on the grader's side, process inspection on the submission's. Standard
library and `grader.protocol` only. It is also a test seam: the environment variable
`GRADER_PRETEND_OS` makes the Linux-only facilities look absent, so that Linux CI runs the
code paths macOS and Windows take (the real macOS and Windows kernels are not tested here):

- `GRADER_PRETEND_OS=macos`: no prctl (subreaper, parent-death signal), no /proc, no cgroups,
  no bubblewrap; what is left is the `portable` backend.
- `GRADER_PRETEND_OS=windows`: all of that, and no POSIX process model (fork, sessions,
  rlimits, fcntl): no sandbox backend works, and commands say so in one sentence.

psutil itself still reads /proc on Linux under the seam; the grader's own code does not.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from grader.protocol import ENV_PRETEND_OS

#: Environment variable of the test seam (see the module docstring).
PRETEND_ENV = ENV_PRETEND_OS
#: Where a learner on Windows is sent.
WINDOWS_HINT = ("run the grader inside WSL (wsl --install, then pip install concurrency-grader there) or in the "
                "course's Docker image")


def pretend() -> str | None:
    """The operating system the seam pretends to be ('macos', 'windows'), or None."""
    value = os.environ.get(PRETEND_ENV, "").strip().lower()
    return value if value in ("macos", "windows") else None


def system() -> str:
    """'linux', 'macos', 'windows' or another POSIX name: what this host is (or pretends)."""
    seam = pretend()
    if seam:
        return seam
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith(("win", "cygwin")) or os.name == "nt":
        return "windows"
    return sys.platform


def is_linux() -> bool:
    return system() == "linux"


def has_prctl() -> bool:
    """PR_SET_CHILD_SUBREAPER and PR_SET_PDEATHSIG (Linux only)."""
    return is_linux()


def has_proc() -> bool:
    """A Linux-style /proc with per-task children files and /proc/self/fd."""
    return is_linux() and os.path.isdir("/proc/self/task")


def has_cgroups() -> bool:
    return is_linux()


def has_bwrap() -> bool:
    return is_linux()


def has_posix_processes() -> bool:
    """fork, sessions, rlimits and fcntl: what the portable backend needs."""
    if system() == "windows":
        return False
    needed = ("fork", "setsid", "killpg", "wait4", "geteuid")
    if not all(hasattr(os, name) for name in needed):
        return False
    return all(importlib.util.find_spec(name) is not None for name in ("fcntl", "resource"))


def is_root() -> bool:
    """True when running as uid 0 (False where the OS has no user ids)."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0
