"""The default backend: a per-run supervisor process, rlimits, capped output, whole-tree kill.

Works without privileges on any Linux. The grader side of a run lives here: it prepares the
run folder (outside the working folder), the results channel and the report pipe, starts the
supervisor (`supervise.py`) in its own session, enforces the wall clock (SIGTERM to the
supervisor, which terminates the tree, waits the grace period, then kills it), removes the
run's cgroups and sweeps for any process still carrying the run's marker. It never calls
waitpid(-1) and never reads the command's output into memory. `bwrap` reuses all of this and
only wraps the command line.
"""

from __future__ import annotations

import dataclasses
import json
import marshal
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from functools import cache
from pathlib import Path

import psutil

from grader import host
from grader.sandbox import cgroups
from grader.sandbox.base import (
    CHANNEL_ENV,
    CHANNEL_FD,
    Limits,
    RunResult,
    SandboxError,
    SandboxRequest,
    Usage,
)

SUPERVISOR = Path(__file__).with_name("supervise.py")
# Imported as a module (not run as a script) so its bytecode is cached; appended to
# sys.path so nothing in this folder can shadow the standard library; os._exit skips the
# interpreter's finalisation (the report is already written).
BOOTSTRAP = (
    f"import sys; sys.path.append({str(SUPERVISOR.parent)!r}); "
    "from supervise import main; import os; code = main(); sys.stderr.flush(); os._exit(code)"
)
#: Environment variable carrying the run's marker into every process of the run.
MARKER_ENV = "GRADER_SANDBOX_RUN"
REPORT_LIMIT = 1 << 16
#: Extra seconds the supervisor gets, after the grace period, to tear down and report.
TEARDOWN_SECONDS = 3.0

_REPORT_TYPES: dict[str, tuple[type, ...]] = {
    "exit_code": (int, type(None)),
    "signal": (int, type(None)),
    "exec_error": (str, type(None)),
    "cpu_user_s": (int, float),
    "cpu_system_s": (int, float),
    "peak_rss_bytes": (int,),
    "processes_seen": (int,),
    "wall_s": (int, float),
    "stdout_dropped": (int,),
    "stderr_dropped": (int,),
    "survivors_killed": (int,),
}


def rlimits_for(limits: Limits) -> dict[str, tuple[int, int]]:
    """The rlimits every process of the run gets (NPROC only where the kernel enforces it)."""
    cpu = max(1, math.ceil(limits.cpu_seconds))
    out = {
        "CPU": (cpu, cpu + 1),
        "AS": (limits.address_space(), limits.address_space()),
        "FSIZE": (max(limits.file_bytes, limits.output_bytes),) * 2,
        "NOFILE": (limits.open_files, limits.open_files),
        "CORE": (0, 0),
    }
    if not host.is_root():  # root ignores RLIMIT_NPROC; the pids cgroup is the limit there
        # RLIMIT_NPROC counts every task of the real user id, machine-wide: allow the run
        # `processes` more than the user already has (untested here: the tests run as root).
        nproc = limits.processes + _tasks_of_user(os.getuid())
        out["NPROC"] = (nproc, nproc)
    return {k: (int(s), int(h)) for k, (s, h) in out.items()}


def _tasks_of_user(uid: int) -> int:
    """Threads (tasks) currently owned by `uid`: what RLIMIT_NPROC compares against."""
    total = 0
    for proc in psutil.process_iter(["uids", "num_threads"]):
        uids = proc.info["uids"]
        if uids is not None and uids.real == uid:
            total += proc.info["num_threads"] or 1
    return total


@cache
def _cgroup_layout() -> cgroups.CgroupLayout:
    return cgroups.detect()


@cache
def cgroup_support() -> dict[str, tuple[bool, str]]:
    """Probed once per grader process: which cgroup features work here, and why."""
    if not host.has_cgroups():
        return {f: (False, "not Linux") for f in ("cgroup-memory", "cgroup-pids", "cgroup-kill")}
    return cgroups.probe(_cgroup_layout())


def sweep_marker(marker: str, exclude: set[int] | None = None, settle_s: float = 2.0) -> int:
    """SIGKILL every process whose environment or argv carries `marker`; returns the count.

    The last line of defence, for a run whose supervisor was killed: a process that
    re-executed itself with a clean environment escapes this sweep (cgroups and the pid
    namespace do not depend on it). Sweeps again while a pass still finds someone (a process
    may fork between two looks), and waits up to `settle_s` for the killed to be dead, so
    that nothing the run started is still running when the sweep returns."""
    killed: dict[int, psutil.Process] = {}
    for _ in range(5):
        found = [proc for proc in _marked(marker, exclude) if proc.pid not in killed]
        if not found:
            break
        for proc in found:
            try:
                proc.kill()
                killed[proc.pid] = proc
            except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
                continue
    deadline = time.monotonic() + settle_s
    pending = list(killed.values())
    while pending and time.monotonic() < deadline:
        pending = [proc for proc in pending if _alive(proc)]
        if pending:
            time.sleep(0.005)
    return len(killed)


def _marked(marker: str, exclude: set[int] | None) -> list[psutil.Process]:
    found = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "status"]):
        if proc.pid == me or (exclude and proc.pid in exclude):
            continue
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            if marker in " ".join(proc.cmdline()) or proc.environ().get(MARKER_ENV) == marker:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def _alive(proc: psutil.Process) -> bool:
    """Still running (a zombie has died: only its parent's wait is missing)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False


class SupervisedChild:
    """A run started through the supervisor. See `grader.sandbox.base.RunningChild`."""

    def __init__(
        self,
        request: SandboxRequest,
        backend: str,
        command: list[str],
        use_cgroups: bool,
        signal_in_exit_code: bool = False,
        wrapper_tasks: int = 0,
        portable: bool = False,
        socket_channel: bool = False,
    ) -> None:
        self.portable = portable
        self.request = request
        self._signal_in_exit_code = signal_in_exit_code
        self.backend = backend
        self.limits = request.limits
        self.kill_reason: str | None = None
        self._lost_before_kill = False
        self._report = b""
        self._report_done = False
        self._result: RunResult | None = None
        self.marker = f"{request.label}-{uuid.uuid4().hex}"
        workdir = Path(request.workdir).resolve()
        if not request.argv or shutil.which(
            request.argv[0], path=request.env.get("PATH", os.defpath)
        ) is None:
            raise SandboxError(f"cannot run {request.argv[:1]}: not an executable file")
        if not workdir.is_dir():
            raise SandboxError(f"working folder {workdir} does not exist")
        # Always a fresh folder (inside request.run_dir when given): concurrent runs never
        # share their stdout, stderr or supervisor files.
        parent = Path(request.run_dir or tempfile.gettempdir()).resolve()
        if parent == workdir or workdir in parent.parents:
            raise SandboxError(f"run folder {parent} must be outside the working folder")
        parent.mkdir(parents=True, exist_ok=True)
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"grader-run-{request.label}-", dir=parent))
        self.stdout_path = self.run_dir / "stdout"
        self.stderr_path = self.run_dir / "stderr"

        self.cgroup: cgroups.RunCgroup | None = None
        if use_cgroups:
            try:
                # The wrapper's own processes (bwrap and its init) count against pids.max.
                cg_limits = dataclasses.replace(
                    self.limits, processes=self.limits.processes + wrapper_tasks
                )
                self.cgroup = cgroups.RunCgroup.create(_cgroup_layout(), cg_limits)
            except OSError as exc:
                raise SandboxError(f"cannot create the run's cgroups: {exc}") from exc

        env = dict(request.env)
        env[CHANNEL_ENV] = str(CHANNEL_FD)
        env[MARKER_ENV] = self.marker
        if socket_channel:  # both ways, with fds (the warm harness's control socket)
            import socket

            chan_r, chan_w = (s.detach() for s in socket.socketpair(
                socket.AF_UNIX, socket.SOCK_SEQPACKET))
        else:
            chan_r, chan_w = os.pipe()
        report_r, report_w = os.pipe()
        os.set_blocking(chan_r, False)
        config = {
            "argv": command,
            "env": env,
            "workdir": str(workdir),
            "stdout_path": str(self.stdout_path),
            "stderr_path": str(self.stderr_path),
            "output_bytes": self.limits.output_bytes,
            "report_fd": report_w,
            "channel_fd": chan_w,
            "parent_pid": os.getpid(),
            "rlimits": rlimits_for(self.limits),
            "grace_seconds": self.limits.grace_seconds,
            "wall_seconds": self.limits.wall_seconds,
            "wrapper_depth": wrapper_tasks,
            "cgroup_procs": self.cgroup.procs_files() if self.cgroup else [],
            "cgroup_kill": self.cgroup.kill_file() if self.cgroup else None,
            "cgroup_freezer": self.cgroup.freezer_dir() if self.cgroup else None,
            "portable": portable,
        }
        config_path = self.run_dir / "supervisor.cfg"
        config_path.write_bytes(marshal.dumps(config))
        self.started = time.monotonic()
        # The supervisor starts with SIGTERM blocked (the mask is inherited) and unblocks it
        # once its handler is in place: a kill() right after start() is never lost or fatal.
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            with open(self.run_dir / "supervisor.log", "wb") as log:
                self._proc = subprocess.Popen(
                    # Portable mode needs psutil from site-packages: -I, not -S.
                    [sys.executable, *(("-I",) if portable else ("-I", "-S")), "-c", BOOTSTRAP,
                     str(config_path), self.marker],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    pass_fds=(report_w, chan_w),
                    close_fds=True,
                    start_new_session=True,
                    env={"PATH": "/usr/bin:/bin", MARKER_ENV: self.marker},
                )
        except OSError as exc:
            for fd in (chan_r, chan_w, report_r, report_w):
                os.close(fd)
            if self.cgroup:
                self.cgroup.remove()
            raise SandboxError(f"cannot start the sandbox supervisor: {exc}") from exc
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        os.close(chan_w)
        os.close(report_w)
        self.channel_fd = chan_r
        self._report_fd = report_r
        self.pid = self._proc.pid

    # -- RunningChild ----------------------------------------------------------------------
    def poll(self) -> bool:
        if self._report_done or self._proc.poll() is not None:
            return True
        self._read_report(0)
        return self._report_done

    def kill(self, reason: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = reason
            # A supervisor already dead when the caller kills was killed by the command
            # (process backend): that, not the caller's reason, is how the run ended.
            self._lost_before_kill = self._proc.poll() is not None and not self._report_done
        if self._proc.poll() is None:
            try:
                os.kill(self._proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def wait(self) -> RunResult:
        if self._result is not None:
            return self._result
        deadline = self.started + self.limits.wall_seconds
        hard_deadline: float | None = None
        while not self._report_done:
            now = time.monotonic()
            if hard_deadline is None and (self.kill_reason is not None or now >= deadline):
                if self.kill_reason is None:
                    self.kill("wall-clock")
                hard_deadline = now + self.limits.grace_seconds + TEARDOWN_SECONDS
            if hard_deadline is not None and now >= hard_deadline:
                break  # the supervisor did not finish: kill it and sweep below
            until = hard_deadline if hard_deadline is not None else deadline
            self._read_report(max(0.0, until - now))
        if self._proc.poll() is None and not self._report_done:
            self._kill_supervisor()
        try:
            self._proc.wait(timeout=TEARDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            self._kill_supervisor()
            self._proc.wait()
        self._result = self._finish()
        self._close_fd("_report_fd")
        return self._result

    def close(self) -> None:
        """Close the parent's end of the results channel (after the caller has read it).

        wait() leaves the channel open so that records still buffered in it can be read."""
        self._close_fd("channel_fd")
        self._close_fd("_report_fd")

    def _close_fd(self, attr: str) -> None:
        fd = getattr(self, attr, -1)
        if fd >= 0:
            setattr(self, attr, -1)
            try:
                os.close(fd)
            except OSError:
                pass

    def __del__(self) -> None:
        # A safety net for callers that forget close(): never leak the pipe ends.
        self._close_fd("channel_fd")
        self._close_fd("_report_fd")

    def __enter__(self) -> SupervisedChild:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._result is None:
            self.kill("caller")
            self.wait()
        self.close()

    # -- internals -------------------------------------------------------------------------
    def _read_report(self, timeout: float) -> None:
        try:
            ready, _, _ = select.select([self._report_fd], [], [], timeout)
        except InterruptedError:
            return
        if not ready:
            return
        chunk = os.read(self._report_fd, REPORT_LIMIT)
        if not chunk or len(self._report) + len(chunk) > REPORT_LIMIT:
            self._report_done = True
        else:
            self._report += chunk
            if self._report.endswith(b"\n"):
                self._report_done = True

    def _kill_supervisor(self) -> None:
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _parse_report(self) -> tuple[dict, str | None]:
        if not self._report:
            return {}, f"the sandbox supervisor ended without a report (exit {self._proc.returncode})"
        try:
            report = json.loads(self._report)
        except ValueError:
            return {}, "the sandbox supervisor sent a malformed report"
        if not isinstance(report, dict):
            return {}, "the sandbox supervisor sent a malformed report"
        if "error" in report:
            return {}, str(report["error"])[:2000]
        for key, types in _REPORT_TYPES.items():
            if not isinstance(report.get(key), types) or isinstance(report.get(key), bool):
                return {}, f"the sandbox supervisor's report has a bad {key!r}"
        return report, None

    def _finish(self) -> RunResult:
        report, error = self._parse_report()
        survivors = int(report.get("survivors_killed", 0))
        cg_usage: dict[str, float | int] = {}
        memory_limited = pids_limited = False
        if self.cgroup is not None:
            memory_limited = self.cgroup.memory_limited
            pids_limited = self.cgroup.pids_limited
            survivors += self.cgroup.kill_all()
            cg_usage = self.cgroup.usage()
            left = self.cgroup.remove()
            if left:
                error = error or f"could not remove cgroups {left}"
        elif "NPROC" in rlimits_for(self.limits):
            pids_limited = True
        if error is not None or self.portable:
            # Without the supervisor's report nobody swept the tree; without a subreaper
            # (portable) a double fork between two of its scans escaped it: search by marker.
            survivors += sweep_marker(self.marker)

        exit_code = report.get("exit_code")
        sig = report.get("signal")
        exit_code, sig = self._translate_status(exit_code, sig)
        killed = self.kill_reason
        if not self._report and (killed is None or self._lost_before_kill):
            killed = "sandbox-lost"  # the supervisor died on its own: see error
        if killed is None and report.get("killed") == "wall-clock":
            killed = "wall-clock"
        if killed is None and report.get("killed") == "caller":
            # Someone else sent the supervisor SIGTERM: typically the parent-death signal,
            # which fires when the *thread* that started the run exits.
            killed = "terminated"
        if killed is None and int(cg_usage.get("oom_kills", 0)) > 0:
            killed = "memory"
        if killed is None and sig == signal.SIGXCPU:
            killed = "cpu"
        if killed is None and sig == signal.SIGXFSZ:
            killed = "file-size"
        wall = float(report.get("wall_s", time.monotonic() - self.started))
        usage = Usage(
            cpu_user_s=float(cg_usage.get("cpu_user_s", report.get("cpu_user_s", 0.0))),
            cpu_system_s=float(cg_usage.get("cpu_system_s", report.get("cpu_system_s", 0.0))),
            peak_rss_bytes=max(
                int(report.get("peak_rss_bytes", 0)), int(cg_usage.get("peak_memory_bytes", 0))
            ),
            processes_seen=int(report.get("processes_seen", 0)),
            wall_s=wall,
        )
        if report.get("exec_error"):
            error = error or f"could not start {self.request.argv[0]!r}: {report['exec_error']}"
        for path in (self.stdout_path, self.stderr_path):
            if not path.exists():
                path.touch(mode=0o600)
        return RunResult(
            exit_code=exit_code,
            signal=sig,
            killed=killed,
            stdout_path=self.stdout_path,
            stderr_path=self.stderr_path,
            stdout_truncated=int(report.get("stdout_dropped", 0)) > 0,
            stderr_truncated=int(report.get("stderr_dropped", 0)) > 0,
            usage=usage,
            backend=self.backend,
            survivors_killed=survivors,
            run_dir=self.run_dir,
            memory_limited=memory_limited,
            pids_limited=pids_limited,
            error=error,
        )

    def _translate_status(
        self, exit_code: int | None, sig: int | None
    ) -> tuple[int | None, int | None]:
        # A wrapper such as bwrap reports a command killed by signal N as exit 128 + N (so
        # an honest `sys.exit(137)` reads as SIGKILL: documented in the threat model).
        if self._signal_in_exit_code and exit_code is not None and 128 < exit_code < 128 + 65:
            return None, exit_code - 128
        return exit_code, sig


class ProcessBackend:
    """rlimits + supervisor (subreaper, PDEATHSIG) + capped output + cgroups when writable."""

    name = "process"

    def __init__(self, use_cgroups: bool | None = None) -> None:
        self._use_cgroups = use_cgroups

    @property
    def use_cgroups(self) -> bool:
        if self._use_cgroups is None:
            support = cgroup_support()
            self._use_cgroups = any(ok for ok, _ in support.values())
        return self._use_cgroups

    def available(self) -> tuple[bool, str]:
        if not host.has_prctl():
            return False, "the supervisor needs Linux (prctl subreaper and parent-death signal)"
        return True, "always available on Linux: rlimits, supervisor subreaper, wall clock"

    def command(self, request: SandboxRequest) -> list[str]:
        return list(request.argv)

    def start(self, request: SandboxRequest) -> SupervisedChild:
        return SupervisedChild(request, self.name, self.command(request), self.use_cgroups)


class PortableBackend(ProcessBackend):
    """For POSIX systems without prctl, /proc or cgroups (macOS first); any POSIX system.

    The same supervisor in portable mode: its own session and process group for the command,
    the rlimits the OS has, the tree followed with psutil (polled descendants plus every
    process seen before, so a `setsid` double fork is still found) and killed at the end,
    then a sweep for the run's marker; capped output, the request's scrubbed environment,
    the caller's fresh working folder. No cgroups, no namespaces, no subreaper."""

    name = "portable"

    @property
    def use_cgroups(self) -> bool:
        return False

    def available(self) -> tuple[bool, str]:
        if not host.has_posix_processes():
            return False, ("needs a POSIX system (fork, sessions, rlimits); on Windows "
                           + host.WINDOWS_HINT)
        return True, (f"works on {host.system()}: own session, rlimits, psutil-followed "
                      "tree, wall clock; no file-system, network or memory-cgroup isolation")

    def start(self, request: SandboxRequest) -> SupervisedChild:
        return SupervisedChild(request, self.name, self.command(request), False, portable=True)
