# expect: pass
# why: raw os.fork with a pipe per attempt; a SIGCHLD handler reaps, SIGALRM (setitimer) wakes for timeouts, signal.set_wakeup_fd wakes select
"""run_isolated, signal-driven: SIGCHLD tells me a worker died, SIGALRM that a deadline is due."""

import os
import pickle
import select
import signal
import struct
import time


def frame(obj):
    data = pickle.dumps(obj)
    return struct.pack(">I", len(data)) + data


def child(fn, args, w):
    code = 0
    try:
        os.write(w, frame(("started", None)))
        try:
            outcome = ("ok", fn(*args))
        except Exception as e:
            outcome = ("error", f"{type(e).__name__}: {e}")
        data = frame(outcome)
        while data:
            data = data[os.write(w, data):]
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        code = 1
    os._exit(code)


class Attempt:
    def __init__(self, index, pid, fd):
        self.index = index
        self.pid = pid
        self.fd = fd
        self.buf = b""
        self.started = None
        self.result = None
        self.status = None  # from waitpid
        self.eof = False
        self.timed_out = False

    def feed(self, data):
        self.buf += data
        while len(self.buf) >= 4:
            (n,) = struct.unpack(">I", self.buf[:4])
            if len(self.buf) < 4 + n:
                break
            kind, value = pickle.loads(self.buf[4:4 + n])
            self.buf = self.buf[4 + n:]
            if kind == "started":
                self.started = time.monotonic()
            else:
                self.result = (kind, value)


def died(status):
    if os.WIFSIGNALED(status):
        return ("crashed", f"signal {os.WTERMSIG(status)}")
    return ("crashed", f"exit code {os.WEXITSTATUS(status)}")


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if workers <= 0:
        raise ValueError("workers must be positive")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    if not tasks:
        return []
    outcomes = [None] * len(tasks)
    tries = [0] * len(tasks)
    todo = list(range(len(tasks)))
    running = {}  # pid -> Attempt

    def reap(signum, frame_):
        for pid, att in list(running.items()):
            if att.status is None:
                try:
                    done, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    continue
                if done:
                    att.status = status

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    old_wakeup = signal.set_wakeup_fd(wake_w)
    old_chld = signal.signal(signal.SIGCHLD, reap)
    old_alrm = signal.signal(signal.SIGALRM, lambda s, f: None)
    try:
        while todo or running:
            while todo and len(running) < workers:
                index = todo.pop(0)
                fn, args = tasks[index]
                r, w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(r)
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    signal.signal(signal.SIGALRM, signal.SIG_DFL)
                    child(fn, args, w)
                os.close(w)
                tries[index] += 1
                running[pid] = Attempt(index, pid, r)
            reap(None, None)  # a child may have died before it was in `running`

            now = time.monotonic()
            due = [a.started + timeout for a in running.values()
                   if a.started is not None and a.status is None and not a.timed_out]
            if due:
                signal.setitimer(signal.ITIMER_REAL, max(0.001, min(due) - now))
            fds = [a.fd for a in running.values() if not a.eof]
            ready, _, _ = select.select(fds + [wake_r], [], [])
            signal.setitimer(signal.ITIMER_REAL, 0)
            if wake_r in ready:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
            for att in running.values():
                if att.fd in ready:
                    data = os.read(att.fd, 65536)
                    if data:
                        att.feed(data)
                    else:
                        att.eof = True
            now = time.monotonic()
            for att in running.values():
                if (att.result is None and att.status is None and not att.timed_out
                        and att.started is not None and now - att.started > timeout):
                    att.timed_out = True
                    os.kill(att.pid, signal.SIGKILL)
            reap(None, None)
            for pid, att in list(running.items()):
                if att.status is None or not (att.eof or att.timed_out):
                    continue
                del running[pid]
                os.close(att.fd)
                if att.result is not None:
                    outcome = att.result
                elif att.timed_out:
                    outcome = ("timeout", None)
                else:
                    outcome = died(att.status)
                outcomes[att.index] = outcome
                if outcome[0] in ("crashed", "timeout") and tries[att.index] <= retries:
                    todo.insert(0, att.index)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for pid, att in running.items():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        signal.signal(signal.SIGCHLD, old_chld)
        signal.signal(signal.SIGALRM, old_alrm)
        signal.set_wakeup_fd(old_wakeup)
        for pid, att in running.items():
            if att.status is None:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
            os.close(att.fd)
        os.close(wake_r)
        os.close(wake_w)
    return outcomes
