# expect: fail any-items
# why: with items == [] (and stages given) it raises IndexError instead of returning []: the batch size is taken from the first item
# spawn start method; a stage process per stage joined by one-way Pipes; a feeder thread; the
# caller waits on the output and every stage's sentinel; a dead stage is found from exit codes
# (downstream of it ends with UPSTREAM_GONE, upstream with DOWNSTREAM_GONE).
import multiprocessing as mp
import pickle
import sys
import threading
import time
from multiprocessing.connection import wait

UPSTREAM_GONE = 87
DOWNSTREAM_GONE = 88


def _stage(index, fn, rx, tx):
    broken = None
    try:
        while True:
            try:
                kind, payload = rx.recv()
            except EOFError:
                sys.exit(UPSTREAM_GONE)
            if kind == "stop":
                if broken is not None:
                    tx.send(broken)
                tx.send(("stop", None))
                return
            if kind == "fail":
                broken = broken or (kind, payload)
                continue
            if broken is not None:
                continue
            try:
                result = fn(payload)
            except Exception as e:  # report as data, keep draining so upstream never blocks
                broken = ("fail", (index, type(e).__name__, str(e)))
                continue
            tx.send(("val", result))
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
    # size the pipes' work by the first item: tiny items could be sent in groups later
    probe = len(pickle.dumps(items[0]))
    _ = max(1, (1 << 20) // max(1, probe))
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
                    feed_end.send(("val", it))
                feed_end.send(("stop", None))
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
                    kind, payload = out_end.recv()
                except EOFError:
                    crashed = True
                    break
                if kind == "val":
                    out.append(payload)
                    continue
                if kind == "stop":
                    break
                idx, name, msg = payload
                problem = f"stage {idx} raised {name}: {msg}"
                break
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
