"""The warm harness's zygote: one interpreter, inside one sandbox, that forks each grading's
harness child with pytest, the harness and the explorer already imported.

Started by `grader.sandbox.warm` as `python -s -m grader.harness.zygote CHECKS_DIR [--plugin
NAME]...` with fd 3 a SOCK_SEQPACKET control socket to the grader. It never imports, reads or
runs a submission: it only imports what a cold harness child imports before the learner's
module, then serves jobs one at a time:

1. the grader sends a job (its argv, environment, rlimits and working folder, with the job's
   stdout, stderr and results-channel ends as fds); the zygote forks;
2. the child waits until the grader has moved it into the job's own cgroup, then becomes
   exactly what a cold child is: its own session, default signals, the job's fds as 0-3 and
   no other, the job's rlimits, environment and folder; then it runs `runner.entry()`;
3. when the child ends, the zygote kills every process left in the sandbox (it is the child
   subreaper, and the sandbox's pid namespace holds nothing else but bwrap's init), empties
   the sandbox's private /tmp and /dev/shm, removes System V IPC objects, and reports the exit
   status and resource use.

So a job starts from the zygote's memory, which no submission has ever touched, and finds
nothing another job left. The zygote is not dumpable: a job (same uid, no capabilities)
cannot ptrace it or read its memory. A job that kills or stops it only loses its own grading
(the grader sees the session end and starts a new one for the next job).
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import random
import resource
import select
import shutil
import signal
import socket
import sys
import tempfile
import time

CONTROL_FD = 3
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
MESSAGE = 1 << 16
SCAN_INTERVAL = 0.2  # seconds between process scans while a job runs (processes_seen)
WIPED = ("/tmp", "/dev/shm")
#: Rounds of SIGKILL-and-reap before giving up on a process that will not die (one in
#: uninterruptible sleep), as the supervisor's own teardown does; a short pause between them
#: lets the killed finish dying before the next look.
KILL_ROUNDS = 400
KILL_PAUSE = 0.005


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def warm_imports(plugins: list[str]) -> None:
    """Import what a cold harness child imports before it imports the learner's module."""
    import pytest  # noqa: F401
    from _pytest.config import default_plugins

    from grader.harness import fixtures, runner  # noqa: F401

    for name in default_plugins:
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass
    for name in plugins:
        importlib.import_module(name)


def _pids() -> set[int]:
    return {int(n) for n in os.listdir("/proc") if n.isdigit()}


def _kill_all_but_me() -> int:
    """SIGKILL every process of the sandbox but bwrap's init and this one; reap them."""
    me, killed = os.getpid(), 0
    for _ in range(KILL_ROUNDS):
        others = _pids() - {1, me}
        if not others:
            break
        killed = max(killed, len(others))
        try:
            os.kill(-1, signal.SIGKILL)  # every process we may signal, but init and us
        except ProcessLookupError:
            pass
        _reap()
        time.sleep(KILL_PAUSE)
    _reap()
    return killed


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _mount_points() -> set[str]:
    """Every mount point of the sandbox (the grader's binds may lie below /tmp)."""
    points = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 4:
                points.add(fields[4].encode().decode("unicode_escape"))
    return points


def _wipe_below(top: str, mounts: set[str]) -> None:
    """Remove everything below `top` but the mount points (and what leads to them)."""
    try:
        names = os.listdir(top)
    except OSError:
        return
    for name in names:
        path = os.path.join(top, name)
        if path in mounts:
            continue  # a bind of the grader's (the session's folder, an exercise): never
        if any(m.startswith(path + "/") for m in mounts):
            _wipe_below(path, mounts)
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def _wipe() -> None:
    mounts = _mount_points()
    for top in WIPED:
        _wipe_below(top, mounts)
    _remove_sysv_ipc()


def _remove_sysv_ipc() -> None:
    """Remove every System V IPC object of the sandbox's IPC namespace (a job's would outlive
    it otherwise)."""
    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    for table, remove in (("shm", lambda i: libc.shmctl(i, ipc_rmid, None)),
                          ("sem", lambda i: libc.semctl(i, 0, ipc_rmid)),
                          ("msg", lambda i: libc.msgctl(i, ipc_rmid, None))):
        try:
            with open(f"/proc/sysvipc/{table}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and fields[1].isdigit():
                remove(int(fields[1]))


def _send(sock: socket.socket, message: dict) -> None:
    sock.send(json.dumps(message).encode())


def _child(job: dict, fds: list[int], go_r: int) -> None:
    """The forked child: becomes a cold harness child, then runs the harness. Never returns."""
    code = 127
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.read(go_r, 1) != b"g":  # the grader has put this process into the job's cgroup
            os._exit(code)  # or it never will: the zygote let go without saying so
        os.close(go_r)
        _prctl(PR_SET_DUMPABLE, 1)  # as a cold child is (the zygote is not)
        os.setsid()
        out_w, err_w, chan_w = fds
        devnull = os.open("/dev/null", os.O_RDONLY)
        high = [os.dup(fd) for fd in (devnull, out_w, err_w, chan_w)]
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        for fd in range(4):
            os.set_inheritable(fd, True)
        os.closerange(4, 1 << 20)
        for name, (soft, hard) in job["rlimits"].items():
            which = getattr(resource, "RLIMIT_" + name, None)
            if which is not None:
                resource.setrlimit(which, (soft, hard))
        for sig in range(1, signal.NSIG):
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                try:
                    signal.signal(sig, signal.SIG_DFL)
                except (OSError, ValueError):
                    pass
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.chdir(job["workdir"])
        os.umask(0o022)
        os.environ.clear()
        os.environ.update(job["env"])
        tempfile.tempdir = None
        random.seed()  # a cold child's state comes from the OS too
        # what `python -s -m grader.harness ARGS` would have made of its command line
        sys.path[0] = job["workdir"]
        sys.argv = [os.path.join(os.path.dirname(__file__), "__main__.py"), *job["args"]]
        from grader.harness import runner

        runner.entry()  # os._exit()s
    except BaseException as exc:  # noqa: BLE001 - anything here is a start failure
        try:
            os.write(2, f"the warm harness could not start the job: {exc!r}\n".encode())
        finally:
            os._exit(code)
    os._exit(code)


def _run_job(sock: socket.socket, job: dict, fds: list[int]) -> dict:
    go_r, go_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        sock.close()
        os.close(go_w)
        _child(job, fds, go_r)
    os.close(go_r)
    for fd in fds:
        os.close(fd)
    _send(sock, {"forked": pid})
    reply = sock.recv(MESSAGE)  # "go" once the child is in its cgroup, "kill", or EOF
    if reply == b"go":
        os.write(go_w, b"g")
    os.close(go_w)
    seen = {pid}
    pidfd = os.pidfd_open(pid)
    status = usage = None
    killed = reply != b"go"
    try:
        if killed:
            os.kill(pid, signal.SIGKILL)
        while True:
            ready, _, _ = select.select([pidfd, sock], [], [], SCAN_INTERVAL)
            if pidfd in ready:
                _, status, usage = os.wait4(pid, 0)
                break
            if sock in ready:
                message = sock.recv(MESSAGE)
                if not message:
                    os.kill(pid, signal.SIGKILL)
                    sys.exit(0)  # the grader is gone (PDEATHSIG takes the rest)
                if message == b"kill":
                    killed = True
                    try:
                        os.kill(-1, signal.SIGKILL)  # the run's processes, main one included
                    except ProcessLookupError:
                        pass
                    _, status, usage = os.wait4(pid, 0)  # before any reap of -1 takes it
                    break
            seen |= _pids() - {1, os.getpid()}
    finally:
        os.close(pidfd)
    survivors = _kill_all_but_me()
    _wipe()
    return {
        "exit_code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "cpu_user_s": usage.ru_utime, "cpu_system_s": usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024, "processes_seen": len(seen),
        "survivors_killed": survivors, "wall_s": time.monotonic() - started,
        "killed": killed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.harness.zygote")
    parser.add_argument("checks_dir")
    parser.add_argument("--plugin", action="append", default=[])
    args = parser.parse_args(argv)
    sock = socket.socket(fileno=CONTROL_FD)
    if _pids() - {1, os.getpid()}:
        # Killing "every process but init and us" is only safe in a pid namespace of our own.
        print("the zygote runs only alone in its own pid namespace", file=sys.stderr)
        return 2
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    warm_imports(args.plugin)
    sys.stdout.flush()
    sys.stderr.flush()
    _send(sock, {"ready": os.getpid()})
    while True:
        message, fds, _, _ = socket.recv_fds(sock, MESSAGE, 3)
        if not message:
            return 0
        if message in (b"kill", b"go") and not fds:
            continue  # a kill sent while the last job was ending: that job is gone already
        job = json.loads(message)
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            return 2
        _send(sock, _run_job(sock, job, fds))


if __name__ == "__main__":
    try:
        code = main()
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 3
    os._exit(code)
