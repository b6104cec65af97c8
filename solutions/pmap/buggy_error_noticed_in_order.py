# expect: fail stops-on-error
# why: an error is raised only when the results are collected in input order: if an early item is slow and a later one raises, pmap keeps handing out and running all the remaining items until the slow one is done, instead of stopping the remaining work at the first error
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
            conn.send((index, "ok", fn(item)))
        except Exception as exc:
            conn.send((index, "raised", exc))


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
        out = [None] * len(items)
        pending = 0
        upto = 0
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
                index, how, value = ready.recv()
                pending -= 1
                out[index] = (how, value)
                while upto < len(items) and out[upto] is not None:  # deliver in order
                    if out[upto][0] == "raised":
                        raise out[upto][1]
                    upto += 1
                i = next(todo, None)
                if i is not None:
                    ready.send((i, items[i]))
                    pending += 1
        for c in conns:
            c.send(None)
        clean = True
        return [v for _, v in out]
    finally:
        for p in procs:
            if not clean:
                p.kill()
            p.join()
        for c in conns:
            c.close()
