# expect: fail results
# why: a result slot still None is taken for "not done yet", so an fn that returns None for some item leaves pmap waiting forever.
import multiprocessing as mp
from multiprocessing.connection import wait


def _worker(fn, conn):
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        i, item = job
        try:
            res = fn(item)
        except BaseException as e:
            conn.send(("err", i, _portable(e)))
            return
        conn.send(("ok", i, res))


def _portable(e):
    import pickle
    try:
        pickle.loads(pickle.dumps(e))
        return ("obj", e)
    except Exception:
        return ("parts", type(e), e.args)


def _rebuild(spec):
    if spec[0] == "obj":
        return spec[1]
    _, cls, args = spec
    exc = cls.__new__(cls, *args)
    exc.args = args
    return exc


def pmap(fn, items, workers=2):
    items = list(items)
    if not items:
        return []
    n = max(1, min(int(workers), len(items)))
    ctx = mp.get_context("fork")
    procs, conns = [], []
    results = [None] * len(items)
    try:
        for _ in range(n):
            here, there = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(fn, there), daemon=True)
            p.start()
            there.close()
            procs.append(p)
            conns.append(here)
        todo = iter(enumerate(items))
        busy = {}
        for c in conns:
            job = next(todo, None)
            if job is None:
                break
            c.send(job)
            busy[c] = job[0]
        left = len(items)
        by_sentinel = {p.sentinel: c for p, c in zip(procs, conns)}
        while any(r is None for r in results):
            ready = wait(list(busy) + [p.sentinel for p, c in zip(procs, conns) if c in busy])
            for r in ready:
                c = r if r in busy else by_sentinel.get(r)
                if c not in busy:
                    continue
                try:
                    msg = c.recv() if c.poll() else None
                except EOFError:
                    msg = None
                if msg is None:
                    if r is c:
                        continue
                    raise RuntimeError(f"a worker died while running item {busy[c]}")
                kind, i, payload = msg
                if kind == "err":
                    raise _rebuild(payload)
                results[i] = payload
                left -= 1
                del busy[c]
                job = next(todo, None)
                if job is not None:
                    c.send(job)
                    busy[c] = job[0]
        for c in conns:
            c.send(None)
        return results
    finally:
        for p in procs:
            if p.exitcode is None and p.is_alive():
                p.kill()
        for p in procs:
            p.join()
        for c in conns:
            c.close()
