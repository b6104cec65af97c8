# expect: fail parallel
# why: starts a process for each item and joins it before starting the next: processes, but never two at once
from multiprocessing import Pipe, Process


def run_one(fn, item, conn):
    try:
        conn.send((True, fn(item)))
    except Exception as e:
        conn.send((False, e))


def pmap(fn, items, workers=2):
    results = []
    for item in items:
        reader, writer = Pipe(duplex=False)
        p = Process(target=run_one, args=(fn, item, writer))
        p.start()
        ok, value = reader.recv()
        p.join()
        if not ok:
            raise value
        results.append(value)
    return results
