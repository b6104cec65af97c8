# expect: pass
# why: subprocess workers (python -c), each fed pickled (fn, share) on stdin and answering pickled frames on stdout; the caller reads them with selectors
import os
import pickle
import selectors
import struct
import subprocess
import sys

WORKER = r"""
import os, pickle, struct, sys
out = sys.stdout.buffer
fn, share = pickle.load(sys.stdin.buffer)
for index, item in share:
    try:
        frame = pickle.dumps((index, True, fn(item)))
    except Exception as exc:
        frame = pickle.dumps((index, False, exc))
    out.write(struct.pack(">Q", len(frame)) + frame)
    out.flush()
"""


def pmap(fn, items, workers=2):
    items = list(items)
    if not items:
        return []
    workers = max(1, min(workers, len(items)))
    procs = []
    sel = selectors.DefaultSelector()
    try:
        for w in range(workers):
            p = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, env={**os.environ,
                                 "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)})
            procs.append(p)
            share = [(i, items[i]) for i in range(w, len(items), workers)]
            p.stdin.write(pickle.dumps((fn, share)))
            p.stdin.close()
            sel.register(p.stdout, selectors.EVENT_READ, [p, b""])
        results = [None] * len(items)
        done = 0
        while done < len(items):
            if not sel.get_map():
                raise RuntimeError("a worker ended before sending all its results")
            for key, _ in sel.select():
                state = key.data
                chunk = os.read(key.fileobj.fileno(), 1 << 20)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                state[1] += chunk
                while len(state[1]) >= 8:
                    (n,) = struct.unpack(">Q", state[1][:8])
                    if len(state[1]) < 8 + n:
                        break
                    index, ok, value = pickle.loads(state[1][8:8 + n])
                    state[1] = state[1][8 + n:]
                    if not ok:
                        raise value
                    results[index] = value
                    done += 1
        return results
    finally:
        sel.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()
