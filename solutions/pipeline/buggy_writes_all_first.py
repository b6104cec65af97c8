# expect: fail large-items
# why: os.fork and os.pipe, but every input item is written before any output is read; fine while the input fits in the pipes, a deadlock once input items are several MiB
import os
import pickle
import struct


def put(fd, obj):
    data = pickle.dumps(obj)
    view = memoryview(struct.pack("!I", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def take(fd):
    head = b""
    while len(head) < 4:
        more = os.read(fd, 4 - len(head))
        if not more:
            raise EOFError
        head += more
    (n,) = struct.unpack("!I", head)
    body = bytearray()
    while len(body) < n:
        more = os.read(fd, min(n - len(body), 1 << 20))
        if not more:
            raise EOFError
        body += more
    return pickle.loads(body)


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    pipes = [os.pipe() for _ in range(len(stages) + 1)]
    pids = []
    for i, fn in enumerate(stages):
        pid = os.fork()
        if pid == 0:
            r, w = pipes[i][0], pipes[i + 1][1]
            for a, b in pipes:
                for fd in (a, b):
                    if fd not in (r, w):
                        os.close(fd)
            code = 0
            try:
                while True:
                    kind, value = take(r)
                    if kind == "item":
                        try:
                            value = fn(value)
                        except Exception as e:
                            kind, value = "error", (i, type(e).__name__, str(e))
                    put(w, (kind, value))
                    if kind != "item":
                        break
            except BaseException:
                code = 1
            os._exit(code)
        pids.append(pid)
    for i, (r, w) in enumerate(pipes):
        if i > 0:
            os.close(w)
        if i < len(stages):
            os.close(r)
    first, last = pipes[0][1], pipes[-1][0]
    try:
        for item in items:
            put(first, ("item", item))
        put(first, ("end", None))
    except OSError:
        pass
    os.close(first)
    results, error = [], None
    while True:
        try:
            kind, value = take(last)
        except EOFError:
            error = "a stage died"
            break
        if kind == "end":
            break
        if kind == "error":
            error = "stage {} raised {}: {}".format(*value)
            break
        results.append(value)
    os.close(last)
    statuses = [os.waitpid(pid, 0)[1] for pid in pids]
    if error == "a stage died":
        bad = [i for i, s in enumerate(statuses) if s != 0]
        error = f"stage {bad[0] if bad else len(pids) - 1} died"
    if error:
        raise RuntimeError(error)
    return results
