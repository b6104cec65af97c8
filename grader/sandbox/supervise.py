"""The per-run supervisor: one small process between the grader and the untrusted command.

Started by `grader.sandbox.process` as `python3 -I -S -c BOOTSTRAP CONFIG MARKER` (the
bootstrap appends this folder to sys.path and imports this module, so its bytecode is
cached); standard library only, so that it needs nothing importable from the working
folder, the checkout or site-packages. CONFIG is a marshal file the grader wrote. It owns, for one
run: becoming the child subreaper (so double-forked `setsid` escapees are re-parented to it),
dying with the grader (PR_SET_PDEATHSIG), starting the command with its fds, rlimits and
cgroups, copying stdout/stderr into capped files, reaping every process of the tree, killing
whatever is left when the command ends (or when the grader sends SIGTERM), and writing one
JSON report to its report pipe. It must never run grading logic, and it must stay outside
the run's cgroups, so that an OOM kill or a freeze of the tree cannot take it down.

In portable mode (config `portable`, the `portable` backend, for systems without prctl or
/proc such as macOS) it is started without `-S` and follows the tree with psutil instead:
no subreaper, so it polls the descendants and remembers every process it ever saw (by pid
and start time), killing those still alive at the end even after they were re-parented to
init; it notices the grader's death by polling its parent pid.

Only this process ever calls waitpid(-1): the grader owns `Popen` objects, and a reaper in
its process would steal their exit statuses.
"""

from __future__ import annotations

import ctypes
import errno
import marshal
import os
import resource
import selectors
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
CHUNK = 1 << 16
SCAN_INTERVAL = 0.2  # seconds between process-tree scans (for processes_seen)
PORTABLE_SCAN_INTERVAL = 0.05  # portable mode: scans are how escapees are found
KILL_ROUNDS = 400
RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}) failed: {os.strerror(err)}")


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (ppid, state) for every process on the machine, read from /proc."""
    table: dict[int, tuple[int, str]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        # comm may contain spaces and parentheses: split after the last ')'.
        rest = data[data.rfind(b")") + 2 :].split()
        if len(rest) < 2:
            continue
        table[int(name)] = (int(rest[1]), rest[0].decode())
    return table


def _children(pid: int) -> list[int] | None:
    """Children of `pid` from /proc/PID/task/*/children (None where the kernel lacks it)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found.extend(int(x) for x in f.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # the thread is gone
            return None
        except OSError:
            continue
    return found


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2 :].split(b" ", 1)[0].decode()


def descendants(root: int) -> dict[int, str]:
    """Every process below `root` (pid -> state), zombies included.

    Walks /proc/PID/task/*/children (a few reads per process of the tree); falls back to
    scanning all of /proc where that file does not exist."""
    found: dict[int, str] = {}
    stack = [root]
    while stack:
        kids = _children(stack.pop())
        if kids is None:
            return _descendants_by_scan(root)
        for child in kids:
            if child not in found:
                state = _state(child)
                if state is not None:
                    found[child] = state
                    stack.append(child)
    return found


def _descendants_by_scan(root: int) -> dict[int, str]:
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _state) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, str] = {}
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found[child] = table[child][1]
                stack.append(child)
    return found


class CappedFile:
    """Copies a pipe into a file, keeping the first `cap` bytes and counting the rest."""

    def __init__(self, path: str, cap: int) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        self.cap = cap
        self.written = 0
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = self.cap - self.written
        if room > 0:
            keep = data[:room]
            os.write(self.fd, keep)
            self.written += len(keep)
        self.dropped += max(0, len(data) - max(room, 0))

    def close(self) -> None:
        os.close(self.fd)


class Supervisor:
    def __init__(self, config: dict) -> None:
        self.config = config
        self.me = os.getpid()
        self.main_pid = 0
        self.main_status: int | None = None
        self.main_rusage: resource.struct_rusage | None = None
        self.main_ended_at: float | None = None
        self.cpu_user = 0.0
        self.cpu_system = 0.0
        self.peak_rss = 0
        self.seen: set[int] = set()
        self.killed: str | None = None
        self.term_at: float | None = None
        self.survivors_killed = 0
        self.sigterm = False
        self.wall_expired = False
        self.started = time.monotonic()
        self.portable = bool(config.get("portable"))
        self.tracked: dict[int, float] = {}  # portable mode: pid -> start time, ever seen

    # -- the child side of fork: never returns -------------------------------------------
    def _exec_child(self, out_w: int, err_w: int, channel: int | None, errpipe_w: int) -> None:
        cfg = self.config
        try:
            if not cfg.get("portable"):
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            for procs in cfg.get("cgroup_procs", []):
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            os.setsid()
            # Move the fds we keep above 10 first, so dup2 below cannot clobber them.
            keep = [fcntl_dup_high(fd) if fd is not None else None for fd in (out_w, err_w, channel)]
            errpipe_w = fcntl_dup_high(errpipe_w)
            devnull = os.open("/dev/null", os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(keep[0], 1)
            os.dup2(keep[1], 2)
            top = 3
            if keep[2] is not None:
                os.dup2(keep[2], 3)
                top = 4
            for fd in range(top):
                os.set_inheritable(fd, True)
            os.set_inheritable(errpipe_w, False)
            os.closerange(top, errpipe_w)
            os.closerange(errpipe_w + 1, 1 << 20)
            for name, (soft, hard) in cfg["rlimits"].items():
                which = getattr(resource, "RLIMIT_" + name, None)
                if which is None:
                    continue  # this OS does not have it (portable mode only)
                try:
                    resource.setrlimit(which, (soft, hard))
                except (OSError, ValueError):
                    if not cfg.get("portable"):
                        raise
                    # macOS refuses some (RLIMIT_AS above the current hard limit): keep
                    # the lower of the two, never none at all.
                    _, current = resource.getrlimit(which)
                    if current != resource.RLIM_INFINITY and current < hard:
                        resource.setrlimit(which, (min(soft, current), current))
            for sig in range(1, signal.NSIG):
                if sig in (signal.SIGKILL, signal.SIGSTOP):
                    continue
                try:
                    signal.signal(sig, signal.SIG_DFL)
                except (OSError, ValueError):
                    pass
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.chdir(cfg["workdir"])
            os.umask(0o022)
            os.execvpe(cfg["argv"][0], cfg["argv"], cfg["env"])
        except BaseException as exc:  # noqa: BLE001 - anything here is an exec failure
            try:
                os.write(errpipe_w, f"{type(exc).__name__}: {exc}".encode()[:4000])
            finally:
                os._exit(127)

    # -- reaping and killing ---------------------------------------------------------------
    def reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            self.seen.add(pid)
            self.cpu_user += usage.ru_utime
            self.cpu_system += usage.ru_stime
            self.peak_rss = max(self.peak_rss, usage.ru_maxrss * RSS_UNIT)
            if pid == self.main_pid:
                self.main_status = status
                self.main_rusage = usage
                self.main_ended_at = time.monotonic()

    def alive(self) -> dict[int, str]:
        if self.portable:
            return self.portable_alive()
        return {p: s for p, s in descendants(self.me).items() if s != "Z"}

    def portable_alive(self) -> dict[int, str]:
        """Descendants now (psutil), plus every process seen before that still runs under
        the same start time: a double-forked daemon re-parented to init stays on the list."""
        import psutil

        found: dict[int, str] = {}
        try:
            kids = psutil.Process(self.me).children(recursive=True)
        except psutil.Error:
            kids = []
        for proc in kids:
            try:
                self.tracked.setdefault(proc.pid, proc.create_time())
                if proc.status() != psutil.STATUS_ZOMBIE:
                    found[proc.pid] = "R"
            except psutil.Error:
                continue
        for pid, started in list(self.tracked.items()):
            if pid in found:
                continue
            try:
                proc = psutil.Process(pid)
                if proc.create_time() != started or proc.status() == psutil.STATUS_ZOMBIE:
                    del self.tracked[pid]
                    continue
            except psutil.Error:
                del self.tracked[pid]
                continue
            found[pid] = "R"
        return found

    def signal_tree(self, sig: int) -> int:
        procs = self.alive()
        if not procs:
            return 0
        self.seen.update(procs)
        self.cgroup_signal(sig)
        group_signalled = False
        if self.portable and self.main_pid:
            try:  # the command's own session and process group (it ran setsid)
                os.killpg(self.main_pid, sig)
                group_signalled = True
            except OSError:
                pass
        spare = self.wrappers() if sig != signal.SIGKILL else set()
        for pid in procs:
            if pid in spare:
                continue
            if group_signalled and _pgid(pid) == self.main_pid:
                continue  # signalled once already, with its group (twice would run a
                #           SIGTERM handler twice)
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        return len(procs)

    def wrappers(self) -> set[int]:
        """The wrapper's own processes (bwrap and its init: `wrapper_depth` levels from the
        main child). They get no SIGTERM: bwrap would die of it at once and take the
        command down with SIGKILL, so the command would lose its grace period."""
        depth = int(self.config.get("wrapper_depth", 0))
        level = {self.main_pid} if depth > 0 and self.main_status is None else set()
        found = set(level)
        for _ in range(depth - 1):
            level = {c for pid in level for c in (_children(pid) or [])}
            found |= level
        return found

    def cgroup_signal(self, sig: int) -> None:
        cfg = self.config
        if sig != signal.SIGKILL:
            return
        kill_file = cfg.get("cgroup_kill")
        if kill_file:
            try:
                with open(kill_file, "w") as f:
                    f.write("1")
            except OSError:
                pass
        freezer = cfg.get("cgroup_freezer")
        if freezer and not kill_file:
            try:
                _write(os.path.join(freezer, "freezer.state"), "FROZEN")
                for _ in range(100):
                    if open(os.path.join(freezer, "freezer.state")).read().strip() == "FROZEN":
                        break
                    time.sleep(0.005)
                with open(os.path.join(freezer, "cgroup.procs")) as f:
                    pids = [int(line) for line in f if line.strip()]
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            except OSError:
                pass
            finally:
                try:
                    _write(os.path.join(freezer, "freezer.state"), "THAWED")
                except OSError:
                    pass

    def kill_everything(self) -> int:
        """SIGKILL every descendant until none is left; returns how many were found alive."""
        total = 0
        for _ in range(KILL_ROUNDS):
            n = self.signal_tree(signal.SIGKILL)
            total = max(total, n)
            self.reap()
            if n == 0 and not self.alive():
                self.reap()
                return total
            time.sleep(0.002)
        return total

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> dict:
        cfg = self.config
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        errpipe_r, errpipe_w = os.pipe()  # close-on-exec (PEP 446), as on every POSIX
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        channel = cfg.get("channel_fd")
        pid = os.fork()
        if pid == 0:
            self._exec_child(out_w, err_w, channel, errpipe_w)
        self.main_pid = pid
        self.seen.add(pid)
        for fd in (out_w, err_w, errpipe_w):
            os.close(fd)
        if channel is not None:
            os.close(channel)
        exec_error = b""
        while True:
            try:
                chunk = os.read(errpipe_r, 4096)
            except InterruptedError:
                continue
            if not chunk:
                break
            exec_error += chunk
        os.close(errpipe_r)

        outputs = {
            out_r: CappedFile(cfg["stdout_path"], cfg["output_bytes"]),
            err_r: CappedFile(cfg["stderr_path"], cfg["output_bytes"]),
        }
        sel = selectors.DefaultSelector()
        for fd in outputs:
            sel.register(fd, selectors.EVENT_READ)
        sel.register(wake_r, selectors.EVENT_READ)
        open_pipes = set(outputs)
        grace = float(cfg.get("grace_seconds", 0.5))
        wall = float(cfg.get("wall_seconds", 1e9))
        last_scan = 0.0
        scan_interval = PORTABLE_SCAN_INTERVAL if self.portable else SCAN_INTERVAL
        parent_pid = int(cfg.get("parent_pid", 0))
        drain_deadline: float | None = None
        while True:
            for key, _ in sel.select(0.05 if self.term_at else scan_interval):
                fd = key.fd
                if fd == wake_r:
                    try:
                        os.read(wake_r, 4096)
                    except OSError:
                        pass
                    continue
                try:
                    data = os.read(fd, CHUNK)
                except InterruptedError:
                    continue
                if data:
                    outputs[fd].feed(data)
                else:
                    sel.unregister(fd)
                    open_pipes.discard(fd)
            self.reap()
            now = time.monotonic()
            if not self.sigterm and now - self.started >= wall:
                # The grader enforces the wall clock too, but only while it waits: this
                # holds even when the caller is busy elsewhere.
                self.sigterm = self.wall_expired = True
            if self.sigterm and self.term_at is None:
                self.term_at = now
                self.signal_tree(signal.SIGTERM)
            if self.term_at is not None and now - self.term_at >= grace:
                self.survivors_killed += self.kill_everything()
            if self.portable and not self.sigterm and os.getppid() != parent_pid:
                self.sigterm = True  # the grader died (no parent-death signal here)
            if now - last_scan >= scan_interval and self.main_status is None:
                self.seen.update(self.alive() if self.portable else descendants(self.me))
                last_scan = now
            if self.main_status is not None:
                if self.term_at is None:
                    # The command ended: whatever it left behind is killed now.
                    self.survivors_killed += self.kill_everything()
                    self.term_at = now
                if not open_pipes:
                    break
                if drain_deadline is None:
                    drain_deadline = now + 1.0
                elif now > drain_deadline:
                    break
        for fd, capped in outputs.items():
            capped.close()
            os.close(fd)
        self.kill_everything()
        status = self.main_status
        report = {
            "exit_code": os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status)
            else None,
            "signal": os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status)
            else None,
            "killed": "wall-clock" if self.wall_expired else "caller" if self.sigterm else None,
            "exec_error": exec_error.decode(errors="replace") or None,
            "cpu_user_s": self.cpu_user,
            "cpu_system_s": self.cpu_system,
            "peak_rss_bytes": self.peak_rss,
            "processes_seen": len(self.seen),
            "wall_s": ((self.main_ended_at or time.monotonic()) - self.started),
            "stdout_bytes": outputs[out_r].written,
            "stderr_bytes": outputs[err_r].written,
            "stdout_dropped": outputs[out_r].dropped,
            "stderr_dropped": outputs[err_r].dropped,
            "survivors_killed": self.survivors_killed,
        }
        return report

    def on_term(self, *_: object) -> None:
        self.sigterm = True


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def fcntl_dup_high(fd: int) -> int:
    """Duplicate `fd` to a number of at least 10 (so the fds 0-3 can be set freely)."""
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD, 10)


def to_json(report: dict) -> str:
    """A flat dict of str/int/float/bool/None as JSON (the json module costs ~7 ms to import)."""
    def value(v: object) -> str:
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v) if v == v and v not in (float("inf"), float("-inf")) else "null"
        text = str(v)
        out = ['"']
        for ch in text:
            if ch in ('"', "\\"):
                out.append("\\" + ch)
            elif ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF:
                out.append(f"\\u{ord(ch):04x}")
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)

    return "{" + ", ".join(f"{value(str(k))}: {value(v)}" for k, v in report.items()) + "}"


def main() -> int:
    with open(sys.argv[1], "rb") as f:
        config = marshal.load(f)  # written by the grader (trusted direction only)
    report_fd = int(config["report_fd"])
    os.set_blocking(report_fd, True)
    # SIGTERM, not SIGKILL: if the grader dies, the supervisor still tears the tree down
    # (the same path as the grader's own SIGTERM), escapees and cgroups included.
    supervisor = Supervisor(config)
    signal.signal(signal.SIGTERM, supervisor.on_term)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # blocked by the grader
    if not config.get("portable"):
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(config["parent_pid"]):
        return 3  # the grader died before we armed PDEATHSIG (or started watching)
    if not config.get("portable"):
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        report = supervisor.run()
    except BaseException as exc:  # noqa: BLE001 - reported to the grader as a sandbox fault
        report = {"error": f"supervisor: {type(exc).__name__}: {exc}"}
    data = (to_json(report) + "\n").encode()
    while data:
        try:
            data = data[os.write(report_fd, data) :]
        except InterruptedError:
            continue
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                return 2
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
