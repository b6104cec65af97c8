# expect: fail timeouts
# why: reused workers whose task clock starts at the worker's FIRST task and is never reset: a worker's second, third... task is timed from that first start, so a short task that runs on a worker that has been busy for a while is reported as a timeout
# Long-lived os.fork workers, each with a socketpair, reused between tasks that finish normally.
# One thread drives everything with selectors: worker sockets (frames: "started", then the
# outcome) and each worker's pidfd (readable when it dies). Timeouts are killed with
# signal.pidfd_send_signal; every worker is waitpid-ed; a dead worker is replaced only when work
# remains. A worker that dies while idle costs nothing: its slot simply gets a fresh worker.
import os
import pickle
import selectors
import signal
import socket
import struct
import time

HDR = struct.Struct("!I")


def _send(sock, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(HDR.pack(len(data)) + data)


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _worker_main(sock):
    while True:
        try:
            (n,) = HDR.unpack(_recv_exact(sock, HDR.size))
        except EOFError:
            os._exit(0)
        fn, args = pickle.loads(_recv_exact(sock, n))
        _send(sock, ("started",))
        try:
            value = fn(*args)
            out = ("ok", value)
        except SystemExit as e:  # the task ended its worker: report nothing, exit like it asked
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            os._exit(code)
        except Exception as e:
            out = ("error", f"{type(e).__name__}: {e}")
        try:
            _send(sock, out)
        except Exception as e:  # an unpicklable value
            _send(sock, ("error", f"{type(e).__name__}: {e}"))


class Worker:
    def __init__(self, others):
        parent, child = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                parent.close()
                for w in others:
                    w.sock.close()
                    os.close(w.pidfd)
                _worker_main(child)
            finally:
                os._exit(code)
        child.close()
        self.pid = pid
        self.sock = parent
        self.pidfd = os.pidfd_open(pid)
        self.buf = bytearray()
        self.task = None      # index of the task it runs
        self.deadline = None  # set on "started"
        self.busy_since = None
        self.reaped = False
        self.status = None

    def reap(self):
        if not self.reaped:
            _, self.status = os.waitpid(self.pid, 0)
            self.reaped = True
        return self.status


def _describe(status):
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.WEXITSTATUS(status)}"


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if not workers > 0 or not timeout > 0:
        raise ValueError("workers and timeout must be positive")
    tasks = list(tasks)
    outcomes = [None] * len(tasks)
    attempts = [0] * len(tasks)
    waiting = list(range(len(tasks)))[::-1]  # a stack: pop() gives the lowest index
    pool = []
    sel = selectors.DefaultSelector()

    def spawn():
        w = Worker(pool)
        pool.append(w)
        sel.register(w.sock, selectors.EVENT_READ, ("sock", w))
        sel.register(w.pidfd, selectors.EVENT_READ, ("pid", w))
        return w

    def retire(w):
        sel.unregister(w.sock)
        sel.unregister(w.pidfd)
        w.sock.close()
        w.reap()
        os.close(w.pidfd)
        pool.remove(w)

    def finish(i, outcome):
        if outcome[0] in ("crashed", "timeout") and attempts[i] <= retries:
            waiting.append(i)  # retried next, in a fresh worker
        else:
            outcomes[i] = outcome

    def dispatch():
        for w in list(pool):
            if w.task is None and waiting:
                i = waiting[-1]
                if attempts[i]:  # a retry runs in a fresh worker: let this idle one go
                    w.sock.shutdown(socket.SHUT_RDWR)
                    retire(w)
                    continue
                waiting.pop()
                attempts[i] += 1
                w.task, w.deadline = i, None
                try:
                    _send(w.sock, tasks[i])
                except OSError:
                    attempts[i] -= 1  # it never ran: not an attempt
                    waiting.append(i)
                    w.task = None
        while waiting and len(pool) < workers:
            w = spawn()
            i = waiting.pop()
            attempts[i] += 1
            w.task = i
            _send(w.sock, tasks[i])

    try:
        dispatch()
        while any(w.task is not None for w in pool) or waiting:
            now = time.monotonic()
            deadlines = [w.deadline for w in pool if w.deadline is not None]
            wait_s = max(0.0, min(deadlines) - now) if deadlines else None
            events = sel.select(wait_s)
            for key, _ in events:
                kind, w = key.data
                if w not in pool:
                    continue
                if kind == "sock":
                    try:
                        chunk = w.sock.recv(1 << 20)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        continue  # the pidfd will tell
                    w.buf += chunk
                    while len(w.buf) >= HDR.size:
                        (n,) = HDR.unpack_from(w.buf)
                        if len(w.buf) < HDR.size + n:
                            break
                        msg = pickle.loads(bytes(w.buf[HDR.size:HDR.size + n]))
                        del w.buf[:HDR.size + n]
                        if msg[0] == "started":
                            if w.busy_since is None:
                                w.busy_since = time.monotonic()
                            w.deadline = w.busy_since + timeout
                        elif w.task is not None:
                            i, w.task, w.deadline = w.task, None, None
                            finish(i, msg)
                else:  # the worker died
                    # frames it sent before dying are already in the socket: read them first
                    w.sock.setblocking(False)
                    try:
                        while True:
                            chunk = w.sock.recv(1 << 20)
                            if not chunk:
                                break
                            w.buf += chunk
                    except (BlockingIOError, OSError):
                        pass
                    done = None
                    while len(w.buf) >= HDR.size:
                        (n,) = HDR.unpack_from(w.buf)
                        if len(w.buf) < HDR.size + n:
                            break
                        msg = pickle.loads(bytes(w.buf[HDR.size:HDR.size + n]))
                        del w.buf[:HDR.size + n]
                        if msg[0] != "started":
                            done = msg
                    status = w.reap()
                    i = w.task
                    retire(w)
                    if i is not None:
                        finish(i, done if done is not None else ("crashed", _describe(status)))
            now = time.monotonic()
            for w in list(pool):
                if w.deadline is not None and now >= w.deadline:
                    signal.pidfd_send_signal(w.pidfd, signal.SIGKILL)
                    i = w.task
                    retire(w)
                    finish(i, ("timeout", None))
            dispatch()
    finally:
        for w in list(pool):
            try:
                w.sock.close()  # idle workers see EOF and leave
            except OSError:
                pass
        for w in list(pool):
            if w.task is not None:
                try:
                    signal.pidfd_send_signal(w.pidfd, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            w.reap()
            os.close(w.pidfd)
        sel.close()
    return outcomes
