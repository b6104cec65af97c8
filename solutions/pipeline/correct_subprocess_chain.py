# expect: pass
# why: Every stage is a `python -c` subprocess; stage i's stdout is wired straight into stage i+1's stdin (a shell-style pipeline). Frames are length-prefixed pickles; a stage gets its function as a base64 pickle on its command line. A writer thread feeds stdin of stage 0 while the caller reads the last stdout; deaths are told apart from exit statuses afterwards.
import base64
import os
import pickle
import struct
import subprocess
import sys
import threading

UP_GONE, DOWN_GONE = 61, 62

CHILD = r"""
import base64, os, pickle, struct, sys
UP_GONE, DOWN_GONE = 61, 62
index, fn = pickle.loads(base64.b64decode(sys.argv[1]))
inp = os.fdopen(0, "rb", buffering=1 << 16)
out = os.fdopen(os.dup(1), "wb", buffering=0)
os.dup2(2, 1)  # anything the stage prints goes to stderr, never into the stream
def read():
    head = inp.read(8)
    if len(head) < 8:
        raise EOFError
    (n,) = struct.unpack("!Q", head)
    body = inp.read(n)
    if len(body) < n:
        raise EOFError
    return pickle.loads(body)
def write(obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(struct.pack("!Q", len(data)) + data)
try:
    while True:
        try:
            kind, value = read()
        except EOFError:
            os._exit(UP_GONE)
        if kind == "item":
            try:
                value = fn(value)
            except Exception as e:
                write(("error", (index, type(e).__name__, str(e))))
                os._exit(0)
        write((kind, value))
        if kind != "item":
            os._exit(0)
except OSError:
    os._exit(DOWN_GONE)
"""


def _frame(obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("!Q", len(data)) + data


def _read_exact(f, n):
    chunks, left = [], n
    while left:
        chunk = f.read(left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    procs = []
    prev = subprocess.PIPE
    try:
        for i, fn in enumerate(stages):
            arg = base64.b64encode(pickle.dumps((i, fn))).decode()
            p = subprocess.Popen([sys.executable, "-c", CHILD, arg], stdin=prev,
                                 stdout=subprocess.PIPE, env=env, bufsize=0)
            if prev is not subprocess.PIPE:
                prev.close()  # now only the two neighbouring stages hold this pipe
            prev = p.stdout
            procs.append(p)
    except BaseException:
        for p in procs:
            p.kill()
            p.wait()
        raise
    feed, out = procs[0].stdin, procs[-1].stdout

    def writer():
        try:
            for item in items:
                feed.write(_frame(("item", item)))
            feed.write(_frame(("end", None)))
        except (OSError, ValueError):
            pass
        finally:
            try:
                feed.close()
            except OSError:
                pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    results, error, died = [], None, False
    try:
        while True:
            try:
                (n,) = struct.unpack("!Q", _read_exact(out, 8))
                kind, value = pickle.loads(_read_exact(out, n))
            except EOFError:
                died = True
                break
            if kind == "item":
                results.append(value)
            elif kind == "end":
                break
            else:
                index, name, text = value
                error = f"stage {index} raised {name}: {text}"
                break
    finally:
        if error is not None:
            for p in procs:
                p.kill()
        elif died:
            for p in procs:  # the rest run out on EOF / EPIPE by themselves
                try:
                    p.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    p.kill()
        codes = [p.wait() for p in procs]
        out.close()
        t.join(5)
    if error:
        raise RuntimeError(error)
    if died:
        for i, c in enumerate(codes):
            if c not in (0, UP_GONE, DOWN_GONE):
                raise RuntimeError(f"stage {i} died ({'signal ' + str(-c) if c < 0 else 'exit code ' + str(c)})")
        for i, c in enumerate(codes):
            if c == UP_GONE:
                raise RuntimeError(f"stage {i - 1} died (ended mid-stream)")
        raise RuntimeError(f"stage {len(procs) - 1} died (ended mid-stream)")
    return results
