# expect: fail order-kept
# why: results are keyed by the item itself, not by its index: unhashable items (pmap(len, [[1], [2, 3]])) raise TypeError, and equal items share one slot
# forkserver start method; one duplex Pipe per worker; request/response: a worker asks for work by
# answering, the caller hands the next index to whichever connection answered. Deaths are seen
# through the sentinels. Errors come back as the exception object.
import multiprocessing as mp
from multiprocessing.connection import wait


def _serve(fn, conn):
    while True:
        job = conn.recv()
        if job is None:
            return
        index, item = job
        try:
            conn.send((item, "ok", fn(item)))
        except Exception as exc:
            conn.send((item, "raised", exc))


def pmap(fn, items, workers=2):
    items = list(items)
    if not items:
        return []
    ctx = mp.get_context("forkserver")
    n = max(1, min(workers, len(items)))
    procs, conns = [], []
    clean = False
    try:
        for _ in range(n):
            here, there = ctx.Pipe()
            p = ctx.Process(target=_serve, args=(fn, there), daemon=True)
            p.start()
            there.close()
            procs.append(p)
            conns.append(here)
        todo = iter(range(len(items)))
        out = {}
        pending = 0
        for c in conns:
            i = next(todo, None)
            if i is not None:
                c.send((i, items[i]))
                pending += 1
        sentinels = {p.sentinel for p in procs}
        while pending:
            for ready in wait(conns + list(sentinels)):
                if ready in sentinels:
                    raise RuntimeError("a worker process died unexpectedly")
                item, how, value = ready.recv()
                pending -= 1
                if how == "raised":
                    raise value
                out[item] = value
                i = next(todo, None)
                if i is not None:
                    ready.send((i, items[i]))
                    pending += 1
        for c in conns:
            c.send(None)
        clean = True
        return [out[item] for item in items]
    finally:
        for p in procs:
            if not clean:
                p.kill()
            p.join()
        for c in conns:
            c.close()
