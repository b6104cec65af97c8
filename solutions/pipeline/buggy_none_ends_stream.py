# expect: fail any-items
# why: None is the end-of-stream marker: an item that is None ends the stream early, so run_pipeline([f], [1, None, 2]) returns only [f(1)]
import multiprocessing as mp
import sys
import threading
import time
from multiprocessing.connection import wait

UPSTREAM_GONE = 87
DOWNSTREAM_GONE = 88


class Failure:
    def __init__(self, index, name, msg):
        self.index, self.name, self.msg = index, name, msg


def _stage(index, fn, rx, tx):
    broken = None
    try:
        while True:
            try:
                item = rx.recv()
            except EOFError:
                sys.exit(UPSTREAM_GONE)
            if item is None:  # end of stream
                if broken is not None:
                    tx.send(broken)
                tx.send(None)
                return
            if isinstance(item, Failure):
                broken = broken or item
                continue
            if broken is not None:
                continue
            try:
                result = fn(item)
            except Exception as e:
                broken = Failure(index, type(e).__name__, str(e))
                continue
            tx.send(result)
    except OSError:
        sys.exit(DOWNSTREAM_GONE)


def _blame(procs):
    codes = [p.exitcode for p in procs]
    for i, c in enumerate(codes):
        if c not in (0, UPSTREAM_GONE, DOWNSTREAM_GONE, None):
            how = f"signal {-c}" if c < 0 else f"exit code {c}"
            return f"stage {i} died ({how})"
    for i, c in enumerate(codes):
        if c == UPSTREAM_GONE:
            return f"stage {i - 1} died (its output ended mid-stream)"
    return f"stage {len(procs) - 1} died (its output ended mid-stream)"


def run_pipeline(stages, items):
    items = list(items)
    if not stages:
        return items
    ctx = mp.get_context("spawn")
    links = [ctx.Pipe(duplex=False) for _ in range(len(stages) + 1)]
    procs = []
    t = None
    problem = None
    try:
        for i, fn in enumerate(stages):
            p = ctx.Process(target=_stage, args=(i, fn, links[i][0], links[i + 1][1]))
            p.start()
            procs.append(p)
        for i, (r, w) in enumerate(links):
            if i > 0:
                w.close()
            if i < len(stages):
                r.close()
        feed_end, out_end = links[0][1], links[-1][0]

        def feeder():
            try:
                for it in items:
                    feed_end.send(it)
                feed_end.send(None)
            except (OSError, ValueError):
                pass
            finally:
                feed_end.close()

        t = threading.Thread(target=feeder, daemon=True)
        t.start()
        out = []
        watching = {p.sentinel: p for p in procs}
        crashed = False
        while True:
            ready = wait([out_end, *watching])
            if out_end in ready:
                try:
                    got = out_end.recv()
                except EOFError:
                    crashed = True
                    break
                if got is None:
                    break
                if isinstance(got, Failure):
                    problem = f"stage {got.index} raised {got.name}: {got.msg}"
                    break
                out.append(got)
                continue
            bad = False
            for s in ready:
                if s in watching:
                    p = watching.pop(s)
                    p.join()
                    if p.exitcode != 0:
                        bad = True
            if bad:
                crashed = True
                break
        if crashed:
            # let the others run out by themselves (EOF downstream, EPIPE upstream), then blame
            end = time.monotonic() + 3.0
            for p in procs:
                p.join(max(0.0, end - time.monotonic()))
            problem = _blame(procs)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        for p in procs:
            p.join()
        try:
            links[-1][0].close()
        except Exception:
            pass
        if t is not None:
            t.join(5)
    if problem:
        raise RuntimeError(problem)
    return out
