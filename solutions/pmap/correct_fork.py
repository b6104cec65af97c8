# expect: pass
# why: os.fork per worker with os.pipe; each child writes pickled (index, ok, value) frames; waitpid for all
import os
import pickle
import selectors
import signal
import struct


def child(fn, items, start, step, fd):
    try:
        for i in range(start, len(items), step):
            try:
                rec = (i, True, fn(items[i]))
            except Exception as e:
                rec = (i, False, e)
            data = pickle.dumps(rec)
            os.write(fd, struct.pack("!I", len(data)))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if not rec[1]:
                break
    finally:
        os._exit(0)


def pmap(fn, items, workers=2):
    n = len(items)
    kids = {}
    sel = selectors.DefaultSelector()
    for w in range(min(workers, n)):
        r, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            child(fn, items, w, workers, wfd)
        os.close(wfd)
        kids[r] = pid
        sel.register(r, selectors.EVENT_READ, bytearray())
    results = [None] * n
    got = 0
    failure = None
    open_fds = set(kids)
    try:
        while got < n and failure is None and open_fds:
            for key, _ in sel.select():
                buf = key.data
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    sel.unregister(key.fd)
                    open_fds.discard(key.fd)
                    continue
                buf += chunk
                while len(buf) >= 4:
                    (size,) = struct.unpack("!I", buf[:4])
                    if len(buf) < 4 + size:
                        break
                    i, ok, value = pickle.loads(bytes(buf[4:4 + size]))
                    del buf[:4 + size]
                    if not ok:
                        failure = value
                        break
                    results[i] = value
                    got += 1
    finally:
        for fd, pid in kids.items():
            if failure is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.waitpid(pid, 0)
            os.close(fd)
        sel.close()
    if failure is not None:
        raise failure
    if got < n:
        raise RuntimeError("a worker died")
    return results
