"""The warm harness, grader side: sandboxes that stay up and fork one harness child per run.

A cold run starts the supervisor, bwrap, an interpreter, pytest, the harness and the
explorer for every child: about half a second before the first check. A `WarmSession` pays
that once: it starts `grader.harness.zygote` in a bwrap sandbox of its own (through the same
supervisor, limits and cgroups as a cold run) and then serves runs one at a time, each a
fresh fork of an interpreter no submission ever touched. `POOL.start(backend, request)` takes
an idle session made for the same exercise and settings (or starts one) and returns a
`WarmRun`, which the driver uses as it uses a cold `SupervisedChild`.

What each run gets, as a cold run does: its own working folder (a copy, copied back when the
run ends), its own stdout and stderr capped at the limit, its own results channel, its own
cgroup for memory, pids, CPU accounting and the kill (where cgroups work), the rlimits, the
environment, a new session; at its end every process it left is killed, and the sandbox's
/tmp, /dev/shm and System V IPC objects are emptied before the next run. What it shares with
the runs before it: the sandbox's pid and network namespaces, where nothing of theirs is left
alive. Only bwrap gives the zygote a pid namespace of its own, so only bwrap sessions exist;
only thread exercises use them (a process exercise's sockets could meet a TIME_WAIT left by
the run before; their time goes to the checks' own waits anyway). `threat-model.md` says what
a run could do to the session and what that costs (only its own grading).
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from grader import protocol
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
from grader.sandbox.process import MARKER_ENV, SupervisedChild, _cgroup_layout, rlimits_for

ZYGOTE_MODULE = "grader.harness.zygote"
#: Environment keys that differ from run to run; every other key is part of the session's
#: identity (the zygote started with it).
PER_RUN_ENV = ("HOME", "TMPDIR", protocol.ENV_SUBMISSION_DIR, protocol.ENV_SEED,
               protocol.ENV_REPLAY, protocol.ENV_CHANNEL_KEY)
STARTUP_SECONDS = 20.0
REPLY_SECONDS = 10.0  # for the zygote to fork, or to report once a run has ended
GRACE_SECONDS = 3.0
SESSION_SECONDS = 7 * 24 * 3600.0  # a session's own wall clock and CPU: only its runs' count
CHUNK = 1 << 16
#: 0: every run cold (to compare, or to rule the warm harness out); 1: warm in any grading,
#: `grader check` too. Read where a grading decides (grading.driver).
ENV_WARM = "GRADER_WARM"


def _zygote_args(args: list[str]) -> list[str]:
    """The checks folder and the plugins of a harness command line (what the zygote loads)."""
    out = [args[0]]
    for i, arg in enumerate(args):
        if arg == "--plugin" and i + 1 < len(args):
            out += ["--plugin", args[i + 1]]
    return out


def _ns_pid(pid: int) -> int | None:
    """The pid `pid` has in its innermost pid namespace (NSpid's last field)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


class _Drain(threading.Thread):
    """Copies one of a run's output pipes into a file, up to the cap; counts what it drops."""

    def __init__(self, fd: int, path: Path, cap: int) -> None:
        super().__init__(daemon=True, name="grader-warm-drain")
        self.fd, self.path, self.cap = fd, path, cap
        self.dropped = 0

    def run(self) -> None:
        kept = 0
        with open(self.path, "wb") as out:
            while True:
                try:
                    data = os.read(self.fd, CHUNK)
                except OSError:
                    break
                if not data:
                    break
                room = max(0, self.cap - kept)
                out.write(data[:room])
                kept += min(room, len(data))
                self.dropped += len(data) - min(room, len(data))
        os.close(self.fd)


class WarmSession:
    """One zygote in one bwrap sandbox; one run at a time."""

    def __init__(self, backend: Any, request: SandboxRequest, args: list[str]) -> None:
        self.backend = backend
        self.dir = Path(tempfile.mkdtemp(prefix="grader-warm-"))
        env = {k: v for k, v in request.env.items() if k not in PER_RUN_ENV}
        env.update(HOME=str(self.dir), TMPDIR="/tmp")
        limits = dataclasses.replace(request.limits, cpu_seconds=SESSION_SECONDS,
                                     wall_seconds=SESSION_SECONDS,
                                     processes=request.limits.processes + 1)
        session = SandboxRequest(
            argv=[request.argv[0], "-s", "-m", ZYGOTE_MODULE, *_zygote_args(args)],
            workdir=self.dir, env=env, limits=limits, readable=list(request.readable),
            label=f"{request.label}-warm")
        self.child = SupervisedChild(session, backend.name, backend.command(session),
                                     backend.use_cgroups, signal_in_exit_code=True,
                                     wrapper_tasks=2, socket_channel=True)
        self.marker = self.child.marker
        self.sock = socket.socket(fileno=os.dup(self.child.channel_fd))
        self.sock.setblocking(True)
        self.broken = False
        self.runs = 0
        try:
            ready = self._reply(STARTUP_SECONDS)
            if not isinstance(ready, dict) or not isinstance(ready.get("ready"), int):
                raise SandboxError(f"the warm harness did not start: {self._why()}")
            self.zygote = self._find(self.child.pid, ready["ready"], ZYGOTE_MODULE)
        except BaseException:
            self.close()
            raise

    # -- the control socket ----------------------------------------------------------------
    def _reply(self, timeout: float) -> dict | None:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        data = self.sock.recv(CHUNK)
        if not data:
            return None
        try:
            message = json.loads(data)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def _why(self) -> str:
        self.child.kill("caller")
        result = self.child.wait()
        try:
            err = result.stderr_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            err = []
        return err[-1] if err else (result.error or f"exit {result.exit_code}")

    @staticmethod
    def _find(root: int, ns_pid: int, marker: str | None = None) -> int:
        """The host pid of the process below `root` whose own namespace calls it `ns_pid`."""
        try:
            below = psutil.Process(root).children(recursive=True)
        except psutil.Error as exc:
            raise SandboxError(f"the warm harness's process is gone: {exc}") from exc
        for proc in below:
            if _ns_pid(proc.pid) == ns_pid:
                if marker is None or marker in " ".join(proc.cmdline()):
                    return proc.pid
        raise SandboxError("the warm harness's process could not be found")

    def alive(self) -> bool:
        return not self.broken and not self.child.poll()

    def start(self, request: SandboxRequest, args: list[str]) -> WarmRun:
        """Fork one run for `request`, whose harness arguments are `args`."""
        self.runs += 1
        return WarmRun(self, request, args)

    def close(self) -> None:
        """End the session: its sandbox, its supervisor, its folder."""
        self.broken = True
        try:
            self.sock.close()
        except OSError:
            pass
        self.child.kill("caller")
        self.child.wait()
        self.child.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class WarmRun:
    """One run in a session: what `SupervisedChild` is to a cold run."""

    def __init__(self, session: WarmSession, request: SandboxRequest, args: list[str]) -> None:
        self.session = session
        self.request = request
        self.limits = request.limits
        self.backend = session.backend.name
        self.kill_reason: str | None = None
        self._status: dict | None = None
        self._result: RunResult | None = None
        self._lost = False
        self.release: Any = None  # set by the pool: gives the session back after close()
        self._main: psutil.Process | None = None
        self.started = time.monotonic()
        self.workdir = Path(request.workdir).resolve()
        self.job_dir = session.dir / "run"
        shutil.copytree(self.workdir, self.job_dir, symlinks=True)
        parent = Path(request.run_dir or tempfile.gettempdir()).resolve()
        parent.mkdir(parents=True, exist_ok=True)
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"grader-run-{request.label}-", dir=parent))
        self.stdout_path = self.run_dir / "stdout"
        self.stderr_path = self.run_dir / "stderr"
        self.cgroup: cgroups.RunCgroup | None = None
        if session.backend.use_cgroups:
            try:
                self.cgroup = cgroups.RunCgroup.create(_cgroup_layout(), self.limits)
            except OSError as exc:
                raise SandboxError(f"cannot create the run's cgroups: {exc}") from exc
        env = {k: v.replace(str(self.workdir), str(self.job_dir)) for k, v in request.env.items()}
        env[CHANNEL_ENV] = str(CHANNEL_FD)
        env[MARKER_ENV] = session.marker
        chan_r, chan_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        os.set_blocking(chan_r, False)
        self.channel_fd = chan_r
        self._drains = [_Drain(out_r, self.stdout_path, self.limits.output_bytes),
                        _Drain(err_r, self.stderr_path, self.limits.output_bytes)]
        for drain in self._drains:
            drain.start()
        job = {"args": args, "env": env, "workdir": str(self.job_dir),
               "rlimits": rlimits_for(self.limits)}
        try:
            socket.send_fds(session.sock, [json.dumps(job).encode()], [out_w, err_w, chan_w])
        except OSError as exc:
            session.broken = True
            self.close()
            if self.cgroup is not None:
                self.cgroup.remove()
            shutil.rmtree(self.run_dir, ignore_errors=True)
            raise SandboxError(f"the warm harness is gone: {exc}") from exc
        finally:
            for fd in (out_w, err_w, chan_w):
                os.close(fd)  # the drains end when the run's copies close too
        forked = session._reply(REPLY_SECONDS)
        if not isinstance(forked, dict) or not isinstance(forked.get("forked"), int):
            session.broken = True
            self._lost = True
            self.pid = -1
            return
        try:
            self.pid = session._find(session.zygote, forked["forked"])
            self._main = psutil.Process(self.pid)  # its start time guards against pid reuse
            if self.cgroup is not None:
                for procs in self.cgroup.procs_files():
                    with open(procs, "w") as f:
                        f.write(str(self.pid))
            session.sock.send(b"go")
        except (OSError, SandboxError, psutil.Error):
            session.broken = True
            self._lost = True
            try:
                session.sock.send(b"kill")
            except OSError:
                pass

    # -- RunningChild ----------------------------------------------------------------------
    def poll(self) -> bool:
        if self._status is not None or self._lost:
            return True
        if self.session.child.poll():
            self._lost = True
            return True
        ready, _, _ = select.select([self.session.sock], [], [], 0)
        if ready:
            self._status = self.session._reply(0) or {}
            if not self._status:
                self._lost = True
        return self._status is not None or self._lost

    def kill(self, reason: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = reason
        if self.cgroup is not None:
            self.cgroup.kill_all()
        if self._status is None and not self._lost:
            try:
                self.session.sock.send(b"kill")
            except OSError:
                self._lost = True

    def wait(self) -> RunResult:
        if self._result is not None:
            return self._result
        deadline = self.started + self.limits.wall_seconds
        hard: float | None = None
        ended: float | None = None  # when the run's main process was first seen gone
        while not self.poll():
            now = time.monotonic()
            if ended is None and not self._main_alive():
                ended = now
            if ended is not None and now - ended > REPLY_SECONDS:
                self._lost = True  # the run is over and the zygote says nothing (stopped?)
                break
            if hard is None and (self.kill_reason is not None or now >= deadline):
                if self.kill_reason is None:
                    self.kill("wall-clock")
                hard = now + self.limits.grace_seconds + GRACE_SECONDS
            if hard is not None and now >= hard:
                self._lost = True  # the zygote does not answer: the session goes
                break
            select.select([self.session.sock], [], [], min(0.5, (hard or deadline) - now))
        if self._lost or not self._status:
            self.session.broken = True
            self.session.child.kill("caller")  # whatever is left of the run goes with it
            self.session.child.wait()
        self._result = self._finish()
        if self.session.broken:
            self.session.close()
        return self._result

    def _main_alive(self) -> bool:
        """Whether the run's main process still runs (a zombie the zygote has not reaped has
        ended too)."""
        if self._main is None:
            return True  # never found: the zygote's report (or the wall clock) decides
        try:
            return self._main.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def close(self) -> None:
        fd, self.channel_fd = self.channel_fd, -1
        if fd >= 0:
            os.close(fd)
        release, self.release = self.release, None
        if release is not None:
            if self._result is None:  # closed before the end: the run must not go on
                self.kill("caller")
                self.wait()
            release()

    # -- internals -------------------------------------------------------------------------
    def _finish(self) -> RunResult:
        status = self._status or {}
        survivors = int(status.get("survivors_killed", 0))
        cg_usage: dict[str, float | int] = {}
        if self.cgroup is not None:
            survivors += self.cgroup.kill_all()
            cg_usage = self.cgroup.usage()
            self.cgroup.remove()
        for drain in self._drains:
            drain.join(GRACE_SECONDS)
        self._copy_back()
        exit_code, sig = status.get("exit_code"), status.get("signal")
        if exit_code is not None and 128 < exit_code < 128 + 65:
            exit_code, sig = None, exit_code - 128  # as bwrap reports a cold run's signal
        killed = self.kill_reason
        if killed is None and self._lost:
            killed = "sandbox-lost"
        if killed is None and int(cg_usage.get("oom_kills", 0)) > 0:
            killed = "memory"
        if killed is None and sig == signal.SIGXCPU:
            killed = "cpu"
        if killed is None and sig == signal.SIGXFSZ:
            killed = "file-size"
        usage = Usage(
            cpu_user_s=float(cg_usage.get("cpu_user_s", status.get("cpu_user_s", 0.0))),
            cpu_system_s=float(cg_usage.get("cpu_system_s", status.get("cpu_system_s", 0.0))),
            peak_rss_bytes=max(int(status.get("peak_rss_bytes", 0)),
                               int(cg_usage.get("peak_memory_bytes", 0))),
            processes_seen=int(status.get("processes_seen", 0)),
            wall_s=float(status.get("wall_s", time.monotonic() - self.started)),
        )
        for path in (self.stdout_path, self.stderr_path):
            if not path.exists():
                path.touch(mode=0o600)
        return RunResult(
            exit_code=exit_code, signal=sig, killed=killed,
            stdout_path=self.stdout_path, stderr_path=self.stderr_path,
            stdout_truncated=self._drains[0].dropped > 0,
            stderr_truncated=self._drains[1].dropped > 0,
            usage=usage, backend=self.backend, survivors_killed=survivors,
            run_dir=self.run_dir,
            memory_limited=self.cgroup is not None and self.cgroup.memory_limited,
            pids_limited=self.cgroup is not None and self.cgroup.pids_limited,
        )

    def _copy_back(self) -> None:
        """The run's folder back where the caller keeps it; the session's folder emptied."""
        job = self.job_dir
        if job.is_dir() and not job.is_symlink():
            shutil.rmtree(self.workdir, ignore_errors=True)
            shutil.copytree(job, self.workdir, symlinks=True)
        try:
            entries = list(os.scandir(self.session.dir))
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass


class WarmPool:
    """Idle sessions by what they were started for; a run takes one, or starts one."""

    def __init__(self) -> None:
        self._idle: dict[tuple, list[WarmSession]] = {}
        self._failed: set[tuple] = set()
        self._lock = threading.Lock()

    @staticmethod
    def _key(backend: Any, request: SandboxRequest, args: list[str]) -> tuple:
        env = tuple(sorted((k, v) for k, v in request.env.items() if k not in PER_RUN_ENV))
        limits = dataclasses.replace(request.limits, cpu_seconds=0, wall_seconds=0)
        return (backend.name, request.argv[0], tuple(_zygote_args(args)), env, limits,
                tuple(str(p) for p in request.readable), threading.get_ident())

    def start(self, backend: Any, request: SandboxRequest) -> WarmRun | None:
        """A warm run of `request`, or None where this request cannot have one (run it cold)."""
        args = protocol.harness_args(request.argv)
        if (args is None or backend.name != "bwrap"
                or not hasattr(os, "pidfd_open") or not sys.platform.startswith("linux")):
            return None
        self.prune()
        key = self._key(backend, request, args)
        with self._lock:
            if key in self._failed:
                return None
            idle = self._idle.setdefault(key, [])
            session = None
            while idle and session is None:
                candidate = idle.pop()
                if candidate.alive():
                    session = candidate
                else:
                    candidate.close()
        if session is None:
            try:
                session = WarmSession(backend, request, args)
            except (SandboxError, OSError):
                with self._lock:
                    self._failed.add(key)
                return None
        try:
            run = session.start(request, args)
        except (SandboxError, OSError):
            session.close()
            return None
        run.release = lambda: self._release(key, session)
        return run

    def _release(self, key: tuple, session: WarmSession) -> None:
        if session.alive():
            with self._lock:
                self._idle.setdefault(key, []).append(session)
        else:
            session.close()

    def prune(self) -> None:
        """Close the sessions of threads that have ended. The parent-death signal ended each
        one with its thread; closing reaps its supervisor, which a learner-style
        `waitpid(-1)` elsewhere in this process would otherwise reap."""
        living = {t.ident for t in threading.enumerate()}
        with self._lock:
            ended = [key for key in self._idle if key[-1] not in living]
            sessions = [s for key in ended for s in self._idle.pop(key)]
        for session in sessions:
            session.close()

    def close(self) -> None:
        with self._lock:
            sessions = [s for idle in self._idle.values() for s in idle]
            self._idle.clear()
        for session in sessions:
            session.close()


POOL = WarmPool()
atexit.register(POOL.close)

__all__ = ["ENV_WARM", "POOL", "WarmPool", "WarmRun", "WarmSession", "Limits"]
