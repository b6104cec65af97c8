# expect: pass
# why: os.fork per stage joined by socketpairs; the caller is single-threaded: a selectors loop writes the input without blocking, reads the output in chunks with its own frame buffer, and watches every stage through a pidfd. Children close every descriptor that is not theirs.
import os
import pickle
import selectors
import signal
import socket
import struct
import time

HDR = struct.Struct("!Q")


def _send(sock, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(HDR.pack(len(data)) + data)


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _recv(sock):
    (n,) = HDR.unpack(_recv_exact(sock, HDR.size))
    return pickle.loads(_recv_exact(sock, n))


def _child(index, fn, rx, tx):
    code = 0
    try:
        while True:
            try:
                msg = _recv(rx)
            except EOFError:
                code = 41  # upstream vanished without an end marker
                break
            if msg[0] == "item":
                try:
                    msg = ("item", fn(msg[1]))
                except Exception as e:
                    _send(tx, ("error", index, type(e).__name__, str(e)))
                    break
            _send(tx, msg)
            if msg[0] != "item":
                break
    except BaseException:
        code = 42
    finally:
        os._exit(code)


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    n = len(stages)
    pairs = [socket.socketpair() for _ in range(n + 1)]  # pairs[i]: (upstream end, downstream end)
    pids = []
    for i, fn in enumerate(stages):
        pid = os.fork()
        if pid == 0:
            mine = (pairs[i][1], pairs[i + 1][0])
            for a, b in pairs:
                for s in (a, b):
                    if s not in mine:
                        s.close()
            _child(i, fn, *mine)
        pids.append(pid)
    feed, out = pairs[0][0], pairs[n][1]
    for i, (a, b) in enumerate(pairs):
        if i != 0:
            a.close()
        if i != n:
            b.close()
        if i == 0:
            b.close()
    if n >= 0:
        pairs[n][0].close()
    feed.setblocking(False)
    out.setblocking(False)
    pidfds = {}
    for i, pid in enumerate(pids):
        pidfds[os.pidfd_open(pid)] = i
    sel = selectors.DefaultSelector()
    pending = [pickle.dumps(("item", x), protocol=pickle.HIGHEST_PROTOCOL) for x in items]
    pending.append(pickle.dumps(("end", None)))
    pending.reverse()
    wbuf = memoryview(b"")
    rbuf = bytearray()
    results, problem, dead = [], None, {}
    statuses = {}
    sel.register(feed, selectors.EVENT_WRITE, "feed")
    sel.register(out, selectors.EVENT_READ, "out")
    for fd in pidfds:
        sel.register(fd, selectors.EVENT_READ, "pid")
    finished = False
    try:
        while not finished and problem is None:
            for key, _ in sel.select():
                what = key.data
                if what == "feed":
                    if not wbuf:
                        if not pending:
                            sel.unregister(feed)
                            continue
                        data = pending.pop()
                        wbuf = memoryview(HDR.pack(len(data)) + data)
                    try:
                        sent = feed.send(wbuf[:1 << 18])
                        wbuf = wbuf[sent:]
                    except BlockingIOError:
                        pass
                    except OSError:
                        sel.unregister(feed)
                        pending = []
                elif what == "out":
                    try:
                        chunk = out.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        sel.unregister(out)
                        problem = "eof"
                        break
                    rbuf += chunk
                    while len(rbuf) >= HDR.size:
                        (size,) = HDR.unpack_from(rbuf)
                        if len(rbuf) < HDR.size + size:
                            break
                        msg = pickle.loads(bytes(rbuf[HDR.size:HDR.size + size]))
                        del rbuf[:HDR.size + size]
                        if msg[0] == "item":
                            results.append(msg[1])
                        elif msg[0] == "end":
                            finished = True
                            break
                        else:
                            problem = f"stage {msg[1]} raised {msg[2]}: {msg[3]}"
                            break
                    if finished or problem:
                        break
                else:
                    i = pidfds[key.fd]
                    sel.unregister(key.fd)
                    _, status = os.waitpid(pids[i], 0)
                    statuses[i] = status
                    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                        problem = "eof"
                        break
    finally:
        sel.close()
        feed.close()
        out.close()
        if problem is not None and not problem.startswith("stage"):
            # a death: the rest end by themselves (EOF downstream, EPIPE upstream); give them
            # a moment so their exit codes tell who died first
            for i, pid in enumerate(pids):
                if i not in statuses:
                    for _ in range(300):
                        got, status = os.waitpid(pid, os.WNOHANG)
                        if got:
                            statuses[i] = status
                            break

                        import time
                        time.sleep(0.01)
        for i, pid in enumerate(pids):
            if i not in statuses:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, statuses[i] = os.waitpid(pid, 0)
        for fd in pidfds:
            os.close(fd)
    if problem is None:
        return results
    if problem.startswith("stage"):
        raise RuntimeError(problem)
    for i in range(len(pids)):
        st = statuses[i]
        if os.WIFSIGNALED(st):
            raise RuntimeError(f"stage {i} died by signal {os.WTERMSIG(st)}")
        if os.WEXITSTATUS(st) not in (0, 41, 42):
            raise RuntimeError(f"stage {i} died with exit code {os.WEXITSTATUS(st)}")
    for i in range(len(pids)):
        if os.WEXITSTATUS(statuses[i]) == 41:
            raise RuntimeError(f"stage {i - 1} died mid-stream")
    raise RuntimeError(f"stage {len(pids) - 1} died mid-stream")
