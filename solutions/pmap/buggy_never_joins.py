# expect: fail nothing-left
# why: collects every result but never joins its worker processes: they stay behind as zombies
"""pmap: apply fn to items in worker processes; results in input order."""

from multiprocessing import Pipe, Process
from multiprocessing.connection import wait


def work(fn, share, conn):
    for index, item in share:
        try:
            conn.send((index, True, fn(item)))
        except Exception as exc:
            conn.send((index, False, exc))
            return
    conn.close()


def pmap(fn, items, workers=2):
    items = list(items)
    if not items:
        return []
    workers = max(1, min(workers, len(items)))
    pending = {}
    procs = []
    for w in range(workers):
        reader, writer = Pipe(duplex=False)
        share = [(i, items[i]) for i in range(w, len(items), workers)]
        p = Process(target=work, args=(fn, share, writer), daemon=True)
        p.start()
        writer.close()
        procs.append(p)
        pending[reader] = p
    results = [None] * len(items)
    done = 0
    try:
        while done < len(items):
            for conn in wait(list(pending)):
                try:
                    index, ok, value = conn.recv()
                except EOFError:
                    pending.pop(conn)
                    continue
                if not ok:
                    raise value
                results[index] = value
                done += 1
    finally:
        pass
        for conn in pending:
            conn.close()
    return results
