# expect: fail nothing-left
# why: with fewer items than workers it still forks every worker and never waits for the ones whose share is empty: they stay zombies.
import os
import pickle
import select
import struct

HEAD = struct.Struct("!I")


def _send(fd, obj):
    data = pickle.dumps(obj)
    data = HEAD.pack(len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def _child(fn, indexed, wfd):
    try:
        for index, item in indexed:
            try:
                _send(wfd, (index, True, fn(item)))
            except Exception as exc:
                _send(wfd, (index, False, exc))
                break
    finally:
        os._exit(0)


def pmap(fn, items, workers=2):
    items = list(items)
    if not items:
        return []
    workers = max(1, workers)
    shares = [list(enumerate(items))[w::workers] for w in range(workers)]
    tracked = {}  # read fd -> [pid, bytearray]
    for share in shares:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            for fd in list(tracked):
                os.close(fd)
            _child(fn, share, w)
        os.close(w)
        if share:
            tracked[r] = [pid, bytearray()]
        else:
            os.close(r)  # nothing will come from this one
    results = [None] * len(items)
    error = None
    open_fds = set(tracked)
    try:
        while open_fds and error is None:
            ready, _, _ = select.select(list(open_fds), [], [])
            for fd in ready:
                chunk = os.read(fd, 1 << 20)
                buf = tracked[fd][1]
                if not chunk:
                    open_fds.discard(fd)
                    continue
                buf += chunk
                while len(buf) >= HEAD.size:
                    (size,) = HEAD.unpack_from(buf)
                    if len(buf) < HEAD.size + size:
                        break
                    index, ok, value = pickle.loads(bytes(buf[HEAD.size:HEAD.size + size]))
                    del buf[:HEAD.size + size]
                    if ok:
                        results[index] = value
                    elif error is None:
                        error = value
    finally:
        for fd, (pid, _) in tracked.items():
            if error is not None:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            os.waitpid(pid, 0)
            os.close(fd)
    if error is not None:
        raise error
    return results
