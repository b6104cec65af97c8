# expect: fail parallel
# why: starts one process per item all at once and ignores `workers`; results and order are right, but 9 items with workers=3 run 9 at a time
from multiprocessing import Pipe, Process
from multiprocessing.connection import wait


def run_one(fn, item, conn):
    try:
        conn.send(("ok", fn(item)))
    except Exception as e:
        conn.send(("err", e))
    conn.close()


def pmap(fn, items, workers=2):
    procs, conns = [], []
    for item in items:
        r, w = Pipe(duplex=False)
        p = Process(target=run_one, args=(fn, item, w))
        p.start()
        w.close()
        procs.append(p)
        conns.append(r)
    results = [None] * len(items)
    left = dict(zip(conns, range(len(items))))
    try:
        while left:
            for conn in wait(list(left)):
                i = left.pop(conn)
                kind, value = conn.recv()
                if kind == "err":
                    raise value
                results[i] = value
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join()
    return results
