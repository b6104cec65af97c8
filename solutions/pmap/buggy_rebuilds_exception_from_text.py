# expect: fail exceptions
# why: sends the exception's type name and str() and rebuilds it in the caller; KeyError('k') comes back as KeyError("'k'")
"""pmap: apply fn to items in worker processes; results in input order."""

import builtins
from multiprocessing import Pipe, Process
from multiprocessing.connection import wait


def work(fn, share, conn):
    for index, item in share:
        try:
            conn.send((index, True, fn(item)))
        except Exception as exc:
            conn.send((index, False, (type(exc).__name__, str(exc))))
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
                    p = pending.pop(conn)
                    p.join()
                    if p.exitcode != 0:
                        raise RuntimeError(f"a worker died (exit code {p.exitcode})") from None
                    continue
                if not ok:
                    name, text = value  # rebuild it on this side
                    raise getattr(builtins, name, RuntimeError)(text)
                results[index] = value
                done += 1
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join()
        for conn in pending:
            conn.close()
    return results
