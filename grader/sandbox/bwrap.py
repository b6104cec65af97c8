"""The bubblewrap backend: the process backend's supervisor and limits, plus namespaces.

Builds the `bwrap` command line only; everything else (supervisor, rlimits, cgroups, wall
clock, capped output, sweep) is `grader.sandbox.process`. The view it gives the command: no
network (own network namespace, loopback only), its own pid, IPC, UTS and cgroup namespaces,
a user namespace with every capability dropped and no further user namespaces, a read-only
system (/usr and a few files of /etc), a read-only Python installation, a read-only `grader`
package, the caller's `readable` paths read-only, a private size-capped /tmp, private /dev
and /proc, and the working folder as the only writable path. It dies with the supervisor
(--die-with-parent), and the whole namespace dies with bwrap's own init.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from functools import cache
from pathlib import Path

from grader import host
from grader.sandbox.base import SandboxError, SandboxRequest
from grader.sandbox.process import ProcessBackend, SupervisedChild

BWRAP = "/usr/bin/bwrap"
ETC_FILES = (
    "ld.so.cache", "localtime", "passwd", "group", "nsswitch.conf", "hosts", "host.conf",
    "os-release", "mime.types",
)


def _bwrap_path() -> str | None:
    if os.access(BWRAP, os.X_OK):
        return BWRAP
    return shutil.which("bwrap")


def python_paths() -> list[Path]:
    """Read-only paths the child needs to run this interpreter and import grader's deps."""
    import grader

    paths: list[Path] = []
    for raw in (sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))):
        paths.append(Path(raw).resolve())
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            paths.append(Path(value).resolve())
    # The grader package itself, never the checkout around it (solutions live there).
    paths.append(Path(grader.__file__).resolve().parent)
    out: list[Path] = []
    for p in sorted(set(paths), key=lambda p: len(p.parts)):
        if p.exists() and not any(q == p or q in p.parents for q in out):
            out.append(p)
    return out


def _system_args() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("lib", "lib64", "lib32", "libx32", "bin", "sbin"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), f"/{top}"]
        elif path.is_dir():
            args += ["--ro-bind", str(path), f"/{top}"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def bwrap_command(request: SandboxRequest, bwrap: str = BWRAP) -> list[str]:
    """The full command line: bwrap, its options, `--`, the request's argv."""
    workdir = str(Path(request.workdir).resolve())
    tmp_size = max(request.limits.file_bytes, 1 << 20)
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--cap-drop", "ALL",
        "--die-with-parent",
        "--new-session",
        *_system_args(),
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(tmp_size), "--tmpfs", "/tmp",
        "--size", str(tmp_size), "--tmpfs", "/dev/shm",
    ]
    for path in python_paths():
        args += ["--ro-bind", str(path), str(path)]
    for path in request.readable:
        resolved = Path(path).resolve()
        if not resolved.exists():
            raise SandboxError(f"readable path {resolved} does not exist")
        args += ["--ro-bind", str(resolved), str(resolved)]
    args += ["--bind", workdir, workdir, "--chdir", workdir, "--"]
    return args + list(request.argv)


#: Run inside the sandbox by the probe: the interpreter starts, and the packages a grading
#: imports are found and their files can be read. Found, not imported: importing them took
#: about 0.25 s, paid by every `grader check` before it could grade; this takes a few ms.
_PROBE = """
import importlib.util
for name in ("grader", "pytest", "_pytest", "pluggy", "psutil", "yaml"):
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(name + " is not visible in the sandbox")
    open(spec.origin, "rb").close()
print("ok")
"""


@cache
def _probe() -> tuple[bool, str]:
    bwrap = _bwrap_path()
    if bwrap is None:
        return False, "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    import grader

    # Not -I: the probe finds grader the way an uninstalled checkout is run (PYTHONPATH).
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(grader.__file__).parent.parent)}
    request = SandboxRequest(argv=[sys.executable, "-c", _PROBE], workdir=Path("/"), env=env)
    cmd = bwrap_command(request, bwrap)
    # The probe binds "/" as the working folder; drop that for a read-only check.
    cut = cmd.index("--bind")
    cmd = cmd[:cut] + cmd[cut + 3 :]
    try:
        done = subprocess.run(
            cmd, capture_output=True, timeout=20, stdin=subprocess.DEVNULL, env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{bwrap} failed to run: {exc}"
    if done.returncode != 0 or b"ok" not in done.stdout:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        return False, f"{bwrap} does not work here: {err[-1] if err else done.returncode}"
    return True, f"{bwrap} works: no network, pid/ipc/user namespaces, read-only system"


class BwrapBackend(ProcessBackend):
    """Everything the process backend does, inside a bubblewrap namespace sandbox."""

    name = "bwrap"

    def available(self) -> tuple[bool, str]:
        if not host.has_bwrap():
            return False, "bubblewrap needs Linux"
        return _probe()

    def command(self, request: SandboxRequest) -> list[str]:
        return bwrap_command(request, _bwrap_path() or BWRAP)

    def start(self, request: SandboxRequest) -> SupervisedChild:
        return SupervisedChild(
            request, self.name, self.command(request), self.use_cgroups,
            signal_in_exit_code=True, wrapper_tasks=2,
        )
