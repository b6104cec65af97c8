# expect: pass
# why: os.fork and os.pipe by hand, length-prefixed pickles, a writer thread, waitpid for every child
import os
import pickle
import signal
import struct
import threading


def write_msg(fd, obj):
    data = pickle.dumps(obj)
    data = struct.pack("!Q", len(data)) + data
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_msg(fd):
    (size,) = struct.unpack("!Q", read_exact(fd, 8))
    return pickle.loads(read_exact(fd, size))


UPSTREAM_GONE = 3  # exit code of a stage whose input ended without the "done" marker


def child(index, fn, rfd, wfd):
    code = 0
    try:
        while True:
            try:
                kind, value = read_msg(rfd)
            except EOFError:
                code = UPSTREAM_GONE
                break
            if kind == "item":
                try:
                    value = fn(value)
                except Exception as e:
                    write_msg(wfd, ("error", (index, type(e).__name__, str(e))))
                    break
            write_msg(wfd, (kind, value))
            if kind in ("done", "error"):
                break
    finally:
        os._exit(code)


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    fds = [os.pipe() for _ in range(len(stages) + 1)]
    pids = []
    for i, fn in enumerate(stages):
        pid = os.fork()
        if pid == 0:
            keep = {fds[i][0], fds[i + 1][1]}
            for r, w in fds:
                for fd in (r, w):
                    if fd not in keep:
                        os.close(fd)
            child(i, fn, fds[i][0], fds[i + 1][1])
        pids.append(pid)
    for i, (r, w) in enumerate(fds):
        if i != 0:
            os.close(w)
        if i != len(stages):
            os.close(r)
    feed_fd, out_fd = fds[0][1], fds[-1][0]

    def feed():
        try:
            for item in items:
                write_msg(feed_fd, ("item", item))
            write_msg(feed_fd, ("done", None))
        except OSError:
            pass
        finally:
            os.close(feed_fd)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    results, problem = [], None
    try:
        while True:
            try:
                kind, value = read_msg(out_fd)
            except EOFError:
                problem = "a stage died"
                break
            if kind == "done":
                break
            if kind == "error":
                index, name, text = value
                problem = f"stage {index} raised {name}: {text}"
                break
            results.append(value)
    finally:
        os.close(out_fd)
        if problem != "a stage died":  # a dead stage makes the others end by EOF / EPIPE
            for pid in pids:
                if problem:
                    os.kill(pid, signal.SIGKILL)
        deaths, orphaned = [], []
        for i, pid in enumerate(pids):
            _, status = os.waitpid(pid, 0)
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == UPSTREAM_GONE:
                orphaned.append(i)
            elif os.WIFSIGNALED(status) or os.WEXITSTATUS(status) != 0:
                deaths.append(i)
        writer.join()
    if problem == "a stage died":
        if deaths:
            problem = f"stage {deaths[0]} died"
        elif orphaned:  # the stage before it ended (even with code 0) without passing "done"
            problem = f"stage {orphaned[0] - 1} died"
        else:
            problem = f"stage {len(pids) - 1} died"  # only the last stage can vanish silently
    if problem:
        raise RuntimeError(problem)
    return results
